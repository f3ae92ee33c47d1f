"""Files replaced whole: old or new content, never torn; a failed write changes nothing."""

import os
import threading
from pathlib import Path

import pytest

from mlops_assets.storage.atomic import replace_file, temporary_sibling, write_text_atomic
from mlops_assets.storage.landing import skip_reason


def test_write_text_atomic_creates_the_folder_and_replaces_the_content(tmp_path: Path) -> None:
    target = tmp_path / "nested" / "state.json"
    assert write_text_atomic(target, '{"v": 1}') == target
    assert target.read_text(encoding="utf-8") == '{"v": 1}'
    write_text_atomic(target, '{"v": 2}', durable=True)
    assert target.read_text(encoding="utf-8") == '{"v": 2}'
    assert sorted(p.name for p in target.parent.iterdir()) == ["state.json"]  # no leftovers


def test_new_files_get_the_usual_permissions(tmp_path: Path) -> None:
    """Not mkstemp's 0600: a profile or landing file must be readable like any other file."""
    plain, atomic = tmp_path / "plain.txt", tmp_path / "atomic.txt"
    plain.write_text("x", encoding="utf-8")
    write_text_atomic(atomic, "x", durable=True)
    assert atomic.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777


def test_a_failed_write_keeps_the_previous_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    target.write_text("previous", encoding="utf-8")

    def half_then_fail(tmp: Path) -> None:
        tmp.write_text("half of the new", encoding="utf-8")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        replace_file(target, half_then_fail)
    assert target.read_text(encoding="utf-8") == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_temporary_names_are_hidden_unique_and_skipped_by_the_landing_scan(
    tmp_path: Path,
) -> None:
    target = tmp_path / "customers_2024-01-01.csv"
    names = {temporary_sibling(target).name for _ in range(100)}
    assert len(names) == 100
    for name in names:
        assert name.startswith(f".{target.name}.{os.getpid()}.") and name.endswith(".tmp")
        assert skip_reason(name) is not None  # a half-written landing file is never ingested


def test_concurrent_writers_never_leave_a_torn_file(tmp_path: Path) -> None:
    """Eight threads rewrite one file while a reader keeps reading it: every read is whole."""
    target = tmp_path / "lease.json"
    contents = [str(i) * 200_000 for i in range(8)]
    write_text_atomic(target, contents[0])
    stop = threading.Event()
    torn: list[int] = []

    def reader() -> None:
        while not stop.is_set():
            text = target.read_text(encoding="utf-8")
            if text not in contents:
                torn.append(len(text))

    def writer(text: str) -> None:
        for _ in range(20):
            write_text_atomic(target, text)

    watcher = threading.Thread(target=reader)
    watcher.start()
    writers = [threading.Thread(target=writer, args=(c,)) for c in contents]
    for w in writers:
        w.start()
    for w in writers:
        w.join(timeout=120)
    stop.set()
    watcher.join(timeout=120)
    assert not any(w.is_alive() for w in writers) and not watcher.is_alive()
    assert torn == []
    assert target.read_text(encoding="utf-8") in contents
    assert [p.name for p in tmp_path.iterdir()] == ["lease.json"]
