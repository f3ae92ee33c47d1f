"""Partition overwrites committed from Polars-written Parquet files: statistics, atomicity."""

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import polars as pl
import pytest
from deltalake import DeltaTable, write_deltalake
from polars.testing import assert_frame_equal

from mlops_assets.errors import StorageError
from mlops_assets.storage.delta import PARTITION_COLUMN, read_table, table_version, write_table

DAY1, DAY2 = "2026-01-01", "2026-01-02"


def _mixed(day: str = DAY1) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "i": [3, None, 1, -7],
            "f": [1.5, float("nan"), -2.0, None],
            "s": ["b", None, "z" * 40, "a"],
            "short": ["b", None, "é" * 16, "a"],
            "wide": ["b", None, "é" * 17, "a"],
            "flag": [True, False, None, True],
            "d": [date(2026, 1, 2), None, date(2025, 12, 31), date(2026, 1, 1)],
            "ts": [
                datetime(2026, 1, 1, 1, 2, 3, 456789, tzinfo=UTC),
                None,
                datetime(2026, 1, 1, tzinfo=UTC),
                datetime(2026, 1, 1, 0, 0, 0, 999, tzinfo=UTC),
            ],
            "naive": [datetime(2026, 1, 1), None, datetime(2026, 1, 2), datetime(2026, 1, 3)],
            "tags": [["x"], [], None, ["y", "z"]],
        }
    ).with_columns(pl.lit(day).alias(PARTITION_COLUMN))


def _stats(path: Path) -> list[dict[str, Any]]:
    """Every live file's Delta statistics, as committed."""
    out: list[dict[str, Any]] = []
    for log in sorted((path / "_delta_log").glob("*.json")):
        for line in log.read_text().splitlines():
            action = json.loads(line)
            if "add" in action:
                out.append(json.loads(action["add"]["stats"]))
    return out


def test_statistics_agree_with_delta_rs_and_bound_every_value(tmp_path: Path) -> None:
    frame = _mixed()
    ours, theirs = tmp_path / "ours", tmp_path / "delta_rs"
    write_table(ours, frame, partitions=[DAY1])
    write_deltalake(str(theirs), frame, partition_by=[PARTITION_COLUMN])
    [mine], [reference] = _stats(ours), _stats(theirs)
    assert mine["numRecords"] == reference["numRecords"] == 4
    assert mine["nullCount"] == reference["nullCount"]
    # Exact where Delta's format can state the bound exactly, as delta-rs states it.
    for column in ("i", "f", "flag", "d", "short"):
        assert mine["minValues"][column] == reference["minValues"][column], column
        assert mine["maxValues"][column] == reference["maxValues"][column], column
    # A bound over 32 bytes may have been cut by the Parquet writer: none rather than a cut one.
    assert "s" not in mine["minValues"] and "wide" not in mine["minValues"]
    assert "naive" not in mine["minValues"] and "tags" not in mine["minValues"]
    # Timestamps: milliseconds, the maximum rounded up so that it still bounds every value
    # (delta-rs cuts it to .456 below the real .456789).
    assert mine["minValues"]["ts"] == "2026-01-01T00:00:00.000Z"
    assert mine["maxValues"]["ts"] == "2026-01-01T01:02:03.457Z"
    assert reference["maxValues"]["ts"] == "2026-01-01T01:02:03.456Z"


@pytest.mark.parametrize("unit", ["ms", "us", "ns"])
def test_timestamp_bounds_round_outwards_in_every_unit(
    tmp_path: Path, unit: Literal["ms", "us", "ns"]
) -> None:
    moments = [
        datetime(1969, 12, 31, 23, 59, 59, 999500, tzinfo=UTC),  # before the epoch
        datetime(2026, 1, 1, 1, 2, 3, 456001, tzinfo=UTC),
    ]
    frame = pl.DataFrame({"ts": pl.Series(moments).cast(pl.Datetime(unit, "UTC"))})
    write_table(
        tmp_path / "t", frame.with_columns(pl.lit(DAY1).alias(PARTITION_COLUMN)), partitions=[DAY1]
    )
    [stats] = _stats(tmp_path / "t")
    # milliseconds are exact; finer units round the minimum down and the maximum up
    high = "2026-01-01T01:02:03.456Z" if unit == "ms" else "2026-01-01T01:02:03.457Z"
    assert stats["minValues"]["ts"] == "1969-12-31T23:59:59.999Z"
    assert stats["maxValues"]["ts"] == high


def test_readers_filtering_on_statistics_find_every_row(tmp_path: Path) -> None:
    path = tmp_path / "t"
    write_table(path, _mixed(DAY1), partitions=[DAY1])
    write_table(path, _mixed(DAY2), partitions=[DAY2])
    latest = datetime(2026, 1, 1, 1, 2, 3, 456789, tzinfo=UTC)
    found = pl.scan_delta(str(path)).filter(pl.col("ts") >= latest).collect()
    assert found.height == 2  # one per day: the row the cut maximum would skip
    dataset = DeltaTable(str(path)).to_pyarrow_dataset()
    import pyarrow.compute as pc

    assert dataset.to_table(filter=pc.field("i") == -7).num_rows == 2
    assert dataset.to_table(filter=pc.field("d") == date(2025, 12, 31)).num_rows == 2


def test_round_trip_of_several_partitions_in_one_file_each(tmp_path: Path) -> None:
    path = tmp_path / "t"
    frame = pl.concat([_mixed(DAY1), _mixed(DAY2)])
    write_table(path, frame, partitions=[DAY1, DAY2])
    files = DeltaTable(str(path)).file_uris()
    assert len(files) == 2 and all(f.endswith(".snappy.parquet") for f in files)
    assert sorted(Path(f).parent.name for f in files) == [
        f"{PARTITION_COLUMN}={DAY1}",
        f"{PARTITION_COLUMN}={DAY2}",
    ]
    back = read_table(path).sort("i", "s", nulls_last=True)
    expected = frame.drop(PARTITION_COLUMN).sort("i", "s", nulls_last=True)
    assert_frame_equal(back, expected)


def test_a_failed_commit_leaves_the_previous_version_and_no_new_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "t"
    write_table(path, _mixed(DAY1), partitions=[DAY1])
    before = sorted(p for p in path.rglob("*.parquet"))

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("disk full while committing")

    monkeypatch.setattr(DeltaTable, "create_write_transaction", refuse)
    with pytest.raises(StorageError) as info:
        write_table(path, _mixed(DAY1).with_columns(pl.lit(99).alias("i")), partitions=[DAY1])
    assert "previous table version is intact" in (info.value.fix or "")
    assert sorted(p for p in path.rglob("*.parquet")) == before
    assert table_version(path) == 0
    assert_frame_equal(read_table(path), _mixed(DAY1).drop(PARTITION_COLUMN))


def test_rows_outside_the_partitions_written_are_refused_before_any_file(tmp_path: Path) -> None:
    path = tmp_path / "t"
    write_table(path, _mixed(DAY1), partitions=[DAY1])
    with pytest.raises(StorageError, match="not among those written"):
        write_table(path, pl.concat([_mixed(DAY1), _mixed(DAY2)]), partitions=[DAY1])
    assert len(list(path.rglob("*.parquet"))) == 1 and table_version(path) == 0


def test_an_empty_partition_write_empties_the_partition(tmp_path: Path) -> None:
    path = tmp_path / "t"
    write_table(path, pl.concat([_mixed(DAY1), _mixed(DAY2)]), partitions=[DAY1, DAY2])
    write_table(path, _mixed(DAY1).head(0), partitions=[DAY1])
    assert read_table(path, [DAY1]).height == 0 and read_table(path, [DAY2]).height == 4
