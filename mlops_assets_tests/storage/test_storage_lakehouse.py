"""The local lakehouse's publish bookkeeping: partition leases, last writers, published state."""

import threading
from pathlib import Path

import narwhals as nw
import polars as pl
import pytest

from mlops_assets.errors import StorageError
from mlops_assets.storage.delta import PARTITIONS_KEY, RUN_ID_KEY
from mlops_assets.storage.lakehouse import LocalLakehouse, TableRef
from mlops_assets.storage.lease import read_record
from mlops_assets.storage.publish import (
    PAUSE_AT_ENV,
    PAUSE_DIR_ENV,
    pause_point,
    published_partition,
)
from mlops_assets.transforms.audit_report import ACCOUNTING_CHECK, published_accounting
from mlops_assets_tests.pause_helpers import PausedProcess, wait_for

DAY1, DAY2 = "2026-01-01", "2026-01-02"
BRONZE = TableRef(use_case="uc", layer="bronze", name="events")
SILVER = TableRef(use_case="uc", layer="silver", name="events")
QUARANTINE = TableRef(use_case="uc", layer="silver", name="events_quarantine")

HOLDER = """
import sys, time
from mlops_assets.storage.lakehouse import LocalLakehouse, TableRef
from mlops_assets.storage.publish import pause_point
ref = TableRef(use_case="uc", layer="silver", name="events")
lease = LocalLakehouse(sys.argv[1]).partition_lease(ref, "2026-01-01", "run-dead").acquire()
lease.mark("publishing", {"bronze": 5, "silver": 4, "quarantine": 1})
pause_point("holding")
"""


def _write(house: LocalLakehouse, ref: TableRef, rows: int, day: str, run: str) -> None:
    frame = nw.from_native(pl.DataFrame({"id": list(range(rows))}, schema={"id": pl.Int64}))
    house.write(
        house.table_location(ref),
        frame,
        partitions=[day],
        commit_metadata={RUN_ID_KEY: run, PARTITIONS_KEY: day},
    )


def test_second_run_of_a_partition_gets_a_conflict_naming_the_holder(tmp_path: Path) -> None:
    house = LocalLakehouse(tmp_path)
    first = house.partition_lease(SILVER, DAY1, "run-a").acquire()
    assert first.lock_path.parent == Path(house.staging_location(SILVER, DAY1, "run-a")).parent
    with pytest.raises(StorageError) as info:
        house.partition_lease(SILVER, DAY1, "run-b").acquire()
    message = info.value.message
    assert message.startswith(f"partition {DAY1} of uc/silver/events is being written by run run-a")
    assert "wait for it to finish or cancel it" in message
    assert info.value.context["holder_run_id"] == "run-a"
    assert info.value.fix is not None and "nothing was written" in info.value.fix
    # another partition of the same table is free
    with house.partition_lease(SILVER, DAY2, "run-b") as other:
        assert other.held
    first.release()
    assert not first.record_path.exists()  # a finished write leaves no record
    with house.partition_lease(SILVER, DAY1, "run-b") as second:
        assert second.held and second.predecessor is None


def test_a_killed_holder_never_blocks_and_leaves_its_record(tmp_path: Path) -> None:
    house = LocalLakehouse(tmp_path)
    holder = PausedProcess(HOLDER, [str(tmp_path)], point="holding", pause_dir=tmp_path / "p")
    try:
        pid = holder.wait_paused()
        with pytest.raises(StorageError, match=rf"being written by run run-dead \(pid {pid} on "):
            house.partition_lease(SILVER, DAY1, "run-next").acquire()
        holder.kill()
    finally:
        holder.stop()
    # the operating system dropped the lock with the process: the next run takes over at once
    with house.partition_lease(SILVER, DAY1, "run-next") as lease:
        dead = lease.predecessor
        assert dead is not None and dead.run_id == "run-dead" and dead.pid == pid
        assert dead.stage == "publishing"
        assert dead.expected_rows == {"bronze": 5, "silver": 4, "quarantine": 1}
        now = read_record(lease.record_path)
        assert now is not None and now.run_id == "run-next" and now.stage == "writing"


def test_partition_writer_is_the_run_that_last_replaced_the_partition(tmp_path: Path) -> None:
    house = LocalLakehouse(tmp_path)
    location = house.table_location(SILVER)
    assert house.partition_writer(location, DAY1) is None  # no table
    _write(house, SILVER, 3, DAY1, "run-1")
    _write(house, SILVER, 2, DAY2, "run-2")
    wider = nw.from_native(pl.DataFrame({"id": [9], "note": ["x"]}))  # a schema commit between
    house.write(location, wider, partitions=[DAY2], commit_metadata={RUN_ID_KEY: "run-3"})
    _write(house, SILVER, 4, DAY1, "run-4")
    assert house.partition_writer(location, DAY1) == "run-4"
    # run-3's commit did not say which partitions it replaced: it is not taken as the writer
    assert house.partition_writer(location, DAY2) == "run-2"
    assert house.partition_writer(location, "2026-01-03") is None


def test_published_state_of_a_whole_partition(tmp_path: Path) -> None:
    house = LocalLakehouse(tmp_path)
    _write(house, BRONZE, 10, DAY1, "run-b")
    _write(house, SILVER, 7, DAY1, "run-1")
    _write(house, QUARANTINE, 3, DAY1, "run-1")
    _write(house, SILVER, 5, DAY2, "run-2")  # another day changes nothing for DAY1
    state = published_partition(
        house, bronze=BRONZE, silver=SILVER, quarantine=QUARANTINE, partition=DAY1
    )
    assert (state.bronze_rows, state.silver_rows, state.quarantined_rows) == (10, 7, 3)
    assert state.silver_run == state.quarantine_run == "run-1"
    assert state.problems() == []
    outcome = published_accounting(state, expected_run="run-1")
    assert outcome.name == ACCOUNTING_CHECK and outcome.passed and outcome.blocking
    assert outcome.metadata["read_from"] == "published tables"
    # judged for a run that did not write it, the same partition is not that run's publish
    assert not published_accounting(state, expected_run="run-9").passed


@pytest.mark.parametrize(
    ("quarantine_rows", "expected"),
    [
        (3, ["quarantine was published by run run-k but silver by run run-1"]),
        (4, ["silver 7 + quarantine 4 = 11 rows, bronze has 10", "run run-k"]),
    ],
)
def test_half_published_partition_never_looks_healthy(
    tmp_path: Path, quarantine_rows: int, expected: list[str]
) -> None:
    house = LocalLakehouse(tmp_path)
    _write(house, BRONZE, 10, DAY1, "run-b")
    _write(house, SILVER, 7, DAY1, "run-1")
    _write(house, QUARANTINE, 3, DAY1, "run-1")
    # run-k published quarantine and died before silver; even with equal counts it is caught
    _write(house, QUARANTINE, quarantine_rows, DAY1, "run-k")
    state = published_partition(
        house, bronze=BRONZE, silver=SILVER, quarantine=QUARANTINE, partition=DAY1
    )
    problems = "; ".join(state.problems())
    assert all(part in problems for part in expected), problems
    outcome = published_accounting(state)
    assert not outcome.passed
    assert outcome.metadata["quarantine_run"] == "run-k"
    assert outcome.metadata["silver_run"] == "run-1"


def test_missing_tables_count_zero_rows(tmp_path: Path) -> None:
    house = LocalLakehouse(tmp_path)
    _write(house, BRONZE, 4, DAY1, "run-b")
    state = published_partition(
        house, bronze=BRONZE, silver=SILVER, quarantine=QUARANTINE, partition=DAY1
    )
    assert (state.silver_rows, state.quarantined_rows, state.silver_run) == (0, 0, None)
    assert state.problems() == ["silver 0 + quarantine 0 = 0 rows, bronze has 4"]


def test_pause_point_waits_for_release_only_when_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PAUSE_AT_ENV, "here:a.b")
    monkeypatch.delenv(PAUSE_DIR_ENV, raising=False)
    pause_point("elsewhere")  # another name: returns at once
    with pytest.raises(RuntimeError, match=PAUSE_DIR_ENV):
        pause_point("here:a.b")
    monkeypatch.setenv(PAUSE_DIR_ENV, str(tmp_path))
    waiter = threading.Thread(target=pause_point, args=("here:a.b",))
    waiter.start()
    wait_for("the pause marker", (tmp_path / "here_a.b.paused").exists, 30)
    assert waiter.is_alive()  # it waits ...
    (tmp_path / "here_a.b.go").write_text("go")
    waiter.join(timeout=30)
    assert not waiter.is_alive()  # ... until released


def test_parquet_files_of_partitions_read_the_same_rows_as_a_scan(tmp_path: Path) -> None:
    """What the drift asset reads instead of the IO manager's frame, when the lakehouse can
    name the files: the same rows of the same partitions."""
    house = LocalLakehouse(tmp_path)
    location = house.table_location(SILVER)
    assert house.parquet_files(location, [DAY1]) is None  # no table yet
    _write(house, SILVER, 3, DAY1, "run-1")
    _write(house, SILVER, 5, DAY2, "run-2")
    for partitions in ([DAY1], [DAY2], [DAY1, DAY2]):
        files = house.parquet_files(location, partitions)
        assert files is not None
        scanned = house.scan(location, partitions).to_native().collect()
        direct = files.scan().select(scanned.columns).collect()
        assert direct.sort("id").equals(scanned.sort("id"))
