"""The YAML reader refuses what YAML would silently accept: duplicate keys, alias bombs, and
nesting that would crash the parser; ordinary anchors and merge keys keep working."""

import subprocess
import sys
import textwrap
import time
import tracemalloc
from pathlib import Path

import pytest

from mlops_assets.config.yaml_reader import MAX_DEPTH, MAX_NODES, read_yaml
from mlops_assets.errors import ConfigError
from mlops_assets_tests.config.config_helpers import (
    line_of,
    load_error,
    only_problem,
    use_case_file,
)

BOMB = textwrap.dedent(
    """\
    a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
    b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
    d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
    e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
    f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
    g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
    h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
    i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
    """
)


def _read_error(path: Path, text: str) -> ConfigError:
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        read_yaml(path)
    return info.value


@pytest.mark.parametrize(
    ("text", "key_path", "line", "first"),
    [
        ("name: a\nowners: []\nname: b\n", "name", 3, 1),
        ("model:\n  label: churn\n  task: x\n  label: churned\n", "model.label", 4, 2),
        ("rules:\n  - {type: not_null, column: a, column: b}\n", "rules.0.column", 2, 2),
        ("a:\n  - x: 1\n  - x: 2\n    y: 3\n    x: 4\n", "a.1.x", 5, 3),
    ],
)
def test_a_key_written_twice_is_an_error_at_the_second_one(
    tmp_path: Path, text: str, key_path: str, line: int, first: int
) -> None:
    path = tmp_path / "dup.yaml"
    err = _read_error(path, text)
    assert err.context == {"file": str(path), "line": line, "key_path": key_path}
    key = key_path.rsplit(".", 1)[-1]
    assert f"key `{key}` appears twice" in err.message
    assert f"(first at line {first})" in err.message
    assert err.message.startswith(f"{path}:{line}: {key_path}:")


def test_duplicate_keys_in_the_shipped_use_case_fail_the_load(
    configs_copy: Path, data_dir: Path
) -> None:
    path = use_case_file(configs_copy)
    text = path.read_text()
    path.write_text(
        text.replace("  label_column: churn\n", "  label_column: churn\n  label_column: x\n")
    )
    err = load_error(configs_copy, data_dir)
    assert err.context["key_path"] == "training_set.label_column"
    assert err.context["line"] == line_of(path, "label_column: x")


def test_anchors_and_merge_keys_still_work(tmp_path: Path) -> None:
    path = tmp_path / "anchors.yaml"
    path.write_text(
        "base: &base {severity: warn, blocking: false}\n"
        "rule: {<<: *base, severity: error}\n"  # an explicit key overrides a merged one
        "same: *base\n"
    )
    data, _ = read_yaml(path)
    assert data["rule"] == {"severity": "error", "blocking": False}
    assert data["same"] == {"severity": "warn", "blocking": False}


def test_an_alias_bomb_fails_fast_with_little_memory(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)  # 9**9 = 387 million strings once expanded
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(ConfigError) as info:
            read_yaml(path)
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"\nalias bomb refused in {seconds * 1000:.1f} ms, peak {peak / 1e6:.2f} MB")
    assert seconds < 1.0, f"took {seconds:.2f} s"
    assert peak < 20e6, f"peak {peak / 1e6:.1f} MB"
    assert "alias bomb" in info.value.message
    assert f"{MAX_NODES:,}" in info.value.message
    assert info.value.context["file"] == str(path)
    assert isinstance(info.value.context["line"], int)


def test_a_bomb_inside_the_use_case_names_file_line_and_key(
    configs_copy: Path, data_dir: Path
) -> None:
    path = use_case_file(configs_copy)
    nested = "".join(f"  {line}\n" for line in BOMB.splitlines())
    path.write_text(path.read_text() + "bomb:\n" + nested)
    started = time.perf_counter()
    err = load_error(configs_copy, data_dir)
    assert time.perf_counter() - started < 1.0
    assert str(err.context["key_path"]).startswith("bomb.")
    assert err.context["file"] == str(path)


def test_moderate_aliasing_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("\n".join(BOMB.splitlines()[:4]) + "\n")  # 9**4 = 6,561 values
    data, _ = read_yaml(path)
    assert len(data["d"]) == 9 and data["d"][8][8][8][8] == "lol"


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    err = _read_error(tmp_path / "loop.yaml", "a: &loop\n  - 1\n  - *loop\n")
    assert "recursive" in err.message
    assert err.context["key_path"] == "a.1"
    assert err.context["line"] == 3


def test_an_undefined_alias_names_itself(tmp_path: Path) -> None:
    err = _read_error(tmp_path / "undefined.yaml", "a: 1\nb:\n  c: *nowhere\n")
    assert "alias *nowhere has no anchor &nowhere" in err.message
    assert (err.context["key_path"], err.context["line"]) == ("b.c", 3)


def test_deep_nesting_is_refused_before_the_parser_can_crash(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    depth = 100_000  # LibYAML's composer crashes the process (SIGSEGV) on this
    path.write_text("a: " + "[" * depth + "]" * depth + "\n")
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from mlops_assets.config.yaml_reader import read_yaml\n"
        "from mlops_assets.errors import ConfigError\n"
        "try:\n"
        f"    read_yaml(Path({str(path)!r}))\n"
        "except ConfigError as exc:\n"
        "    print(exc.message)\n"
        "    sys.exit(3)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 3, (done.returncode, done.stderr[-2000:])
    assert f"nested deeper than {MAX_DEPTH} levels" in done.stdout


def test_a_second_document_is_refused(tmp_path: Path) -> None:
    err = _read_error(tmp_path / "two.yaml", "name: a\n---\nname: b\n")
    assert "more than one YAML document" in err.message
    assert err.context["line"] == 2


def test_an_empty_file_has_no_data(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("# only a comment\n")
    assert read_yaml(path) == (None, None)


def test_a_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError) as info:
        read_yaml(path)
    assert "UTF-8" in info.value.message and info.value.context["line"] == 1


def test_a_use_case_missing_a_top_level_key_still_names_a_line(
    configs_copy: Path, data_dir: Path
) -> None:
    path = use_case_file(configs_copy)
    path.write_text(path.read_text().replace('start_date: "2026-01-01"\n', ""))
    problem = only_problem(load_error(configs_copy, data_dir))
    assert (problem.key_path, problem.line) == ("start_date", 3)  # the document's first line
