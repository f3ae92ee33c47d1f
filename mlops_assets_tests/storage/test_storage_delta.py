"""Delta tables through delta-rs: round trips, partition overwrites and schema evolution."""

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from mlops_assets.errors import SchemaMismatchError, StorageError
from mlops_assets.storage.delta import (
    PARTITION_COLUMN,
    partition_files,
    read_table,
    remove_table,
    scan_table,
    table_exists,
    table_version,
    write_table,
)

DAY1, DAY2, DAY3 = "2026-01-01", "2026-01-02", "2026-01-03"


def _frame(ids: list[int], note: str = "x") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "id": ids,
            "amount": [i * 1.5 for i in ids],
            "note": [f"{note}{i}" for i in ids],
            "ts": [datetime(2026, 1, 1, i % 24, tzinfo=UTC) for i in ids],
            "day": [date(2026, 1, 1)] * len(ids),
            "flag": [i % 2 == 0 for i in ids],
        }
    )


def test_round_trip_keeps_values_and_types(tmp_path: Path) -> None:
    path = tmp_path / "t"
    frame = _frame([1, 2, 3])
    result = write_table(path, frame, commit_metadata={"dagster_run_id": "r1"})
    assert table_exists(path) and result.version == 0 == table_version(path)
    assert result.rows_written == 3
    assert_frame_equal(read_table(path).sort("id"), frame)


def test_missing_table_is_a_storage_error_with_a_fix(tmp_path: Path) -> None:
    assert table_version(tmp_path / "none") is None
    with pytest.raises(StorageError) as info:
        read_table(tmp_path / "none")
    assert info.value.fix is not None and "materialize" in info.value.fix


def test_unpartitioned_write_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "t"
    write_table(path, _frame([1, 2, 3]))
    result = write_table(path, _frame([7]))
    assert result.version == 1
    assert read_table(path)["id"].to_list() == [7]


def test_partition_overwrite_replaces_never_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "t"
    write_table(path, _frame([1, 2]), partitions=[DAY1])
    write_table(path, _frame([3, 4, 5]), partitions=[DAY2])
    for _ in range(3):  # re-running a day any number of times
        write_table(path, _frame([10, 11, 12], note="again"), partitions=[DAY1])
    everything = read_table(path)
    assert sorted(everything["id"].to_list()) == [3, 4, 5, 10, 11, 12]
    assert PARTITION_COLUMN not in everything.columns
    assert sorted(read_table(path, [DAY1])["id"].to_list()) == [10, 11, 12]
    assert sorted(read_table(path, [DAY2])["id"].to_list()) == [3, 4, 5]
    assert read_table(path, [DAY3]).height == 0
    lazy = scan_table(path, [DAY1, DAY2])
    assert lazy.collect().height == 6


def test_several_partitions_in_one_write(tmp_path: Path) -> None:
    path = tmp_path / "t"
    frame = _frame([1, 2, 3]).with_columns(pl.Series(PARTITION_COLUMN, [DAY1, DAY2, DAY2]))
    result = write_table(path, frame, partitions=[DAY1, DAY2])
    assert result.partitions == [DAY1, DAY2]
    assert read_table(path, [DAY2])["id"].to_list() == [2, 3]
    with pytest.raises(StorageError, match="needs a _partition_date column"):
        write_table(tmp_path / "u", _frame([1]), partitions=[DAY1, DAY2])


def test_new_columns_are_added_under_add_columns(tmp_path: Path) -> None:
    path = tmp_path / "t"
    write_table(path, _frame([1, 2]), partitions=[DAY1])
    wider = _frame([3]).with_columns(pl.lit("gold").alias("tier"))
    result = write_table(path, wider, partitions=[DAY2], schema_evolution="add_columns")
    assert result.added_columns == ["tier"]
    table = read_table(path).sort("id")
    assert table["tier"].to_list() == [None, None, "gold"]
    # a later batch without the column still writes (nulls), and never drops the column
    write_table(path, _frame([4]), partitions=[DAY3])
    assert read_table(path, [DAY3])["tier"].to_list() == [None]
    assert read_table(path, [DAY2])["tier"].to_list() == ["gold"]


def test_unpartitioned_overwrite_can_add_columns(tmp_path: Path) -> None:
    path = tmp_path / "t"
    write_table(path, _frame([1]))
    result = write_table(path, _frame([2]).with_columns(pl.lit(1).alias("extra")))
    assert result.added_columns == ["extra"]
    assert read_table(path)["extra"].to_list() == [1]


def test_refused_evolution_leaves_version_and_data_intact(tmp_path: Path) -> None:
    path = tmp_path / "t"
    write_table(path, _frame([1, 2]), partitions=[DAY1])
    before_version, before = table_version(path), read_table(path)
    wider = _frame([9]).with_columns(pl.lit("gold").alias("tier"))
    with pytest.raises(SchemaMismatchError) as info:
        write_table(path, wider, partitions=[DAY1], schema_evolution="fail")
    assert info.value.context["added"] == ["tier"]
    assert info.value.fix is not None and "add_columns" in info.value.fix
    assert table_version(path) == before_version
    assert_frame_equal(read_table(path), before)


@pytest.mark.parametrize(
    ("column", "value"),
    [("amount", "1.5"), ("id", 1.5), ("ts", datetime(2026, 1, 1)), ("flag", 1)],
)
def test_incompatible_type_change_is_refused(tmp_path: Path, column: str, value: object) -> None:
    path = tmp_path / "t"
    write_table(path, _frame([1, 2]), partitions=[DAY1])
    before_version, before = table_version(path), read_table(path)
    changed = _frame([3]).with_columns(pl.lit(value).alias(column))
    with pytest.raises(SchemaMismatchError) as info:
        write_table(path, changed, partitions=[DAY2])
    assert column in info.value.message and "column types differ" in info.value.message
    assert table_version(path) == before_version
    assert_frame_equal(read_table(path), before)


def test_all_null_column_takes_the_table_type(tmp_path: Path) -> None:
    path = tmp_path / "t"
    write_table(path, _frame([1]), partitions=[DAY1])
    nulls = _frame([2]).with_columns(pl.lit(None).alias("note"), pl.lit(None).alias("amount"))
    write_table(path, nulls, partitions=[DAY2])
    table = read_table(path, [DAY2])
    assert table.schema["note"] == pl.String and table.schema["amount"] == pl.Float64
    assert table["note"].to_list() == [None]


def test_unsigned_and_small_integers_are_widened_to_int64(tmp_path: Path) -> None:
    path = tmp_path / "t"
    frame = pl.DataFrame(
        {
            "u8": pl.Series([1, 255], dtype=pl.UInt8),
            "u32": pl.Series([0, 4_000_000_000], dtype=pl.UInt32),
            "u64": pl.Series([1, 2], dtype=pl.UInt64),
            "i16": pl.Series([-3, 3], dtype=pl.Int16),
        }
    )
    write_table(path, frame)
    table = read_table(path)
    assert dict(table.schema) == {c: pl.Int64 for c in frame.columns}
    assert table.to_dict(as_series=False) == frame.to_dict(as_series=False)
    # a later write of the same (narrow) frame has the same, compatible types
    write_table(path, frame)
    assert table_version(path) == 1


def test_commit_metadata_is_recorded(tmp_path: Path) -> None:
    from deltalake import DeltaTable

    path = tmp_path / "t"
    write_table(path, _frame([1]), commit_metadata={"dagster_run_id": "run-42"})
    history = DeltaTable(str(path)).history()
    assert history[0].get("dagster_run_id") == "run-42"


def test_remove_table(tmp_path: Path) -> None:
    path = tmp_path / "staging" / "t"
    write_table(path, _frame([1]))
    remove_table(path)
    assert not table_exists(path) and not path.exists()
    remove_table(path)  # idempotent


def _rows(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(sorted(c for c in frame.columns if c != PARTITION_COLUMN)).sort("id")


def test_partition_files_hold_exactly_the_rows_of_a_scan(tmp_path: Path) -> None:
    """The files a reader may read instead of the table: the same rows, partition by partition,
    after overwrites (the replaced files are not among them)."""
    path = tmp_path / "t"
    write_table(path, _frame([1, 2]), partitions=[DAY1])
    write_table(path, _frame([3, 4, 5]), partitions=[DAY2])
    write_table(path, _frame([10, 11, 12], note="again"), partitions=[DAY1])
    for partitions in ([DAY1], [DAY2], [DAY1, DAY2], None):
        files = partition_files(path, partitions)
        assert files is not None
        assert all(Path(f).is_file() for f in files)
        assert_frame_equal(
            _rows(pl.read_parquet(files)), _rows(read_table(path, partitions)), check_dtypes=True
        )
    assert partition_files(path, [DAY3]) is None  # no file: nothing to read directly
    assert partition_files(tmp_path / "none", [DAY1]) is None


def test_partition_files_of_a_table_under_a_path_with_a_space_and_a_percent(
    tmp_path: Path,
) -> None:
    """delta-rs names its files as percent-encoded URIs; the paths handed out are real ones.

    (Polars' own ``scan_delta`` reads those URIs literally and finds no file under such a path,
    so the written frame is the reference.)"""
    path = tmp_path / "data dir 100%" / "t"
    write_table(path, _frame([1, 2]), partitions=[DAY1])
    files = partition_files(path, [DAY1])
    assert files is not None and all(Path(f).is_file() for f in files)
    assert_frame_equal(_rows(pl.read_parquet(files)), _rows(_frame([1, 2])))


def test_partition_files_decline_what_files_alone_do_not_give(tmp_path: Path) -> None:
    """Schema evolution between the files, a table partitioned otherwise, deletion vectors."""
    from deltalake import write_deltalake

    evolved = tmp_path / "evolved"
    write_table(evolved, _frame([1, 2]), partitions=[DAY1])
    write_table(evolved, _frame([3]).with_columns(pl.lit("gold").alias("tier")), partitions=[DAY2])
    assert partition_files(evolved, [DAY1]) is not None
    assert partition_files(evolved, [DAY1, DAY2]) is None  # the files' columns differ
    other = tmp_path / "other"
    write_deltalake(str(other), _frame([1, 2]).to_arrow(), partition_by=["flag"])
    assert partition_files(other, ["true"]) is None
    assert partition_files(other) is None  # "flag" lives in the log, not in the files
    plain = tmp_path / "plain"
    write_table(plain, _frame([1, 2]))
    assert partition_files(plain, [DAY1]) is None  # no partitions to filter on
    files = partition_files(plain)
    assert files is not None
    assert_frame_equal(_rows(pl.read_parquet(files)), _rows(read_table(plain)))
    vectors = tmp_path / "vectors"
    write_deltalake(
        str(vectors),
        _frame([1, 2]).to_arrow(),
        configuration={"delta.enableDeletionVectors": "true"},
    )
    assert partition_files(vectors) is None


def _evolved_table(path: Path) -> None:
    """Two partitions, the second with a column the first file lacks, and an unpartitioned
    sibling: what the lakehouse writes."""
    write_table(path / "t", _frame([1, 2]), partitions=[DAY1])
    write_table(
        path / "t", _frame([3]).with_columns(pl.lit("gold").alias("tier")), partitions=[DAY2]
    )
    write_table(path / "plain", _frame([4, 5]))


@pytest.mark.parametrize(
    "folder", ["data dir", "100%", "a#b", "café", "50% off/ü", "run=3", "a=b c"]
)
def test_a_table_under_a_path_polars_scan_delta_cannot_read_reads_back(
    tmp_path: Path, folder: str
) -> None:
    """delta-rs names the files by percent-encoded URIs, which Polars' ``scan_delta`` opens as
    they are (it finds no file under such a path), and ``scan_delta`` takes any ``key=value``
    folder for a partition column; the files are read as ``file://`` URLs with the log's
    partition values instead: the same rows, types and columns as the same writes under a plain
    path, partition filters and schema evolution included."""
    from mlops_assets.storage.delta import scan_delta

    plain, hostile = tmp_path / "plain", tmp_path / folder
    _evolved_table(plain)
    _evolved_table(hostile)
    for partitions in ([DAY1], [DAY2], [DAY1, DAY2], [DAY3], None):
        got = read_table(hostile / "t", partitions)
        assert_frame_equal(_rows(got), _rows(read_table(plain / "t", partitions)))
    assert read_table(hostile / "t", [DAY1, DAY2])["tier"].to_list().count("gold") == 1
    assert_frame_equal(_rows(read_table(hostile / "plain")), _rows(read_table(plain / "plain")))
    whole = scan_delta(hostile / "t").collect()  # the partition column too, as scan_delta gives it
    assert_frame_equal(_rows(whole), _rows(pl.scan_delta(str(plain / "t")).collect()))
    assert sorted(whole[PARTITION_COLUMN].unique().to_list()) == [DAY1, DAY2]


def test_a_table_partitioned_otherwise_under_such_a_path_reads_back(tmp_path: Path) -> None:
    """Partition values of another type, from the log (the files do not hold them)."""
    from deltalake import write_deltalake

    from mlops_assets.storage.delta import scan_delta

    frames = {}
    for root in (tmp_path / "plain", tmp_path / "x=1 é"):
        write_deltalake(str(root / "t"), _frame([1, 2, 3]).to_arrow(), partition_by=["flag"])
        frames[root.name] = scan_delta(root / "t").collect()
    assert_frame_equal(_rows(frames["x=1 é"]), _rows(frames["plain"]))
    assert frames["x=1 é"].schema == frames["plain"].schema


def test_an_empty_table_under_such_a_path_reads_as_its_schema(tmp_path: Path) -> None:
    from deltalake import DeltaTable

    path = tmp_path / "data dir" / "t"
    DeltaTable.create(str(path), _frame([1]).to_arrow().schema)
    assert_frame_equal(read_table(path), _frame([1]).clear())


def test_reader_features_under_such_a_path_are_refused_with_the_characters(
    tmp_path: Path,
) -> None:
    """Deletion vectors (or any reader feature) need Polars' own Delta reader, which cannot
    open files under such a path: a clear error naming the characters, not a bare
    FileNotFoundError or rows a deletion vector removed."""
    from deltalake import write_deltalake

    path = tmp_path / "café 100%" / "t"
    write_deltalake(
        str(path), _frame([1, 2]).to_arrow(), configuration={"delta.enableDeletionVectors": "true"}
    )
    with pytest.raises(StorageError) as info:
        read_table(path)
    assert info.value.fix is not None and "MLOPS_DATA_DIR" in info.value.fix
    assert info.value.context["characters"] == " %é"
    assert "deletionVectors" in str(info.value)


def test_a_path_delta_rs_would_decode_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    """``x%20y`` is a folder name delta-rs takes for an escaped ``x y``: writing there would
    fail half-way and reading would look elsewhere, so both are refused up front."""
    path = tmp_path / "x%20y" / "t"
    with pytest.raises(StorageError) as info:
        write_table(path, _frame([1, 2]), partitions=[DAY1])
    assert info.value.context["escape"] == "%20" and info.value.fix is not None
    assert not path.exists() and not (tmp_path / "x y").exists()
    (path / "_delta_log").mkdir(parents=True)  # a table put there by other means
    with pytest.raises(StorageError, match="percent-escape"):
        read_table(path)
