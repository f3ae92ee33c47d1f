"""Reading landing files into bronze batches: nothing dropped silently, every file accounted for."""

import gzip
import random
from datetime import UTC, datetime
from pathlib import Path

import narwhals as nw
import polars as pl
import pytest

from mlops_assets.config.datasets import DatasetConfig
from mlops_assets.storage.landing import (
    IN_PROGRESS,
    MISSING_FIELDS,
    LandingBatch,
    LandingFile,
    MissingColumnsPolicy,
    landing_files,
    read_landing,
)
from mlops_assets.transforms.quality import REASON, RULE, refine
from mlops_assets.transforms.schema_contract import CAST_ERROR_RULE

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
LINEAGE = ["_ingested_at", "_source_file", "_row_number", "_batch_id", MISSING_FIELDS]
HEADER = "id,amount,status\n"
COLUMNS = ["id", "amount", "status"]


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    folder = tmp_path / "landing" / "shop" / "orders" / "2026-01-01"
    folder.mkdir(parents=True)
    return folder


def _batch(folder: Path, file_format: str = "csv", delimiter: str = ",") -> LandingBatch:
    return read_landing(
        folder,
        folder.parents[2],
        file_format,
        batch_id="run-1",
        ingested_at=NOW,
        delimiter=delimiter,
    )


def _read(folder: Path, file_format: str = "csv", delimiter: str = ",") -> pl.DataFrame:
    return _batch(folder, file_format, delimiter).frame


def _records(batch: LandingBatch) -> dict[str, LandingFile]:
    """Records by file name (without the folder)."""
    return {r.file.rsplit("/", 1)[-1]: r for r in batch.records}


def test_csv_rows_stay_text_with_lineage(landing: Path) -> None:
    (landing / "a.csv").write_text(HEADER + "o1,10.5,open\no2,,closed\n")
    batch = read_landing(landing, landing.parents[2], "csv", batch_id="run-1", ingested_at=NOW)
    frame = batch.frame
    assert frame.columns == ["id", "amount", "status", *LINEAGE]
    assert all(frame.schema[c] == pl.String for c in ("id", "amount", "status"))
    assert frame["amount"].to_list() == ["10.5", None]  # empty field -> null, as before
    assert frame["_source_file"].to_list() == ["shop/orders/2026-01-01/a.csv"] * 2
    assert frame["_row_number"].to_list() == [1, 2]
    assert frame["_batch_id"].to_list() == ["run-1", "run-1"]
    assert frame["_ingested_at"].to_list() == [NOW, NOW]
    assert frame[MISSING_FIELDS].to_list() == [0, 0]
    assert batch.files == ["shop/orders/2026-01-01/a.csv"]
    assert batch.rows_per_file == {"shop/orders/2026-01-01/a.csv": 2}


def test_several_files_with_different_columns_are_stacked(landing: Path) -> None:
    (landing / "a.csv").write_text(HEADER + "o1,1,open\n")
    (landing / "b.csv").write_text("id,amount,tier\no2,2,gold\no3,3,silver\n")
    frame = _read(landing)
    assert frame.height == 3
    assert frame["tier"].to_list() == [None, "gold", "silver"]
    assert frame["status"].to_list() == ["open", None, None]
    assert frame["_row_number"].to_list() == [1, 1, 2]  # numbered per file


def test_empty_and_header_only_files_give_no_rows_and_are_reported(landing: Path) -> None:
    (landing / "empty.csv").write_text("")
    (landing / "header.csv").write_text(HEADER)
    (landing / "blank.csv").write_text("\n")
    batch = read_landing(landing, landing.parents[2], "csv", batch_id="r", ingested_at=NOW)
    assert batch.frame.height == 0
    assert batch.frame.columns == LINEAGE  # the lineage schema is always there
    assert sorted(batch.empty_files) == sorted(batch.files)
    assert len(batch.files) == 3


def test_no_folder_means_no_files(tmp_path: Path) -> None:
    assert landing_files(tmp_path / "missing") == []
    batch = read_landing(tmp_path / "missing", tmp_path, "csv", batch_id="r", ingested_at=NOW)
    assert batch.files == [] and batch.records == [] and batch.frame.height == 0


def test_hidden_temporary_and_foreign_files_are_reported_not_ingested(landing: Path) -> None:
    (landing / "a.csv").write_text(HEADER + "o1,1,open\n")
    in_progress = [".a.csv.1234.tmp", ".hidden.csv", "_SUCCESS", "_partial.csv", "b.csv.part"]
    in_progress += ["c.csv.crdownload", "d.CSV.TMP"]
    for name in in_progress:
        (landing / name).write_text(HEADER + "o9,9,open\n")
    (landing / "notes.txt").write_text("hello")
    (landing / "sub.csv").mkdir()
    assert [p.name for p in landing_files(landing)] == ["a.csv", "notes.txt", "sub.csv"]
    batch = _batch(landing)
    assert batch.frame["id"].to_list() == ["o1"]
    records = _records(batch)
    assert sorted(records) == sorted(["a.csv", "notes.txt", "sub.csv", *in_progress])
    assert {n: (r.status, r.reason) for n, r in records.items() if n in in_progress} == {
        n: ("skipped", IN_PROGRESS) for n in in_progress
    }
    assert records["notes.txt"].status == "rejected"
    assert "unknown file type" in records["notes.txt"].reason
    assert records["sub.csv"].status == "rejected"
    assert "folder" in records["sub.csv"].reason
    assert (records["a.csv"].status, records["a.csv"].rows) == ("ingested", 1)


def test_extensions_match_whatever_their_case(landing: Path) -> None:
    (landing / "EXPORT.CSV").write_text(HEADER + "o1,1,open\n")
    (landing / "y.csv.GZ").write_bytes(gzip.compress((HEADER + "o2,2,open\n").encode()))
    pl.DataFrame({"id": ["o3"], "amount": ["3"], "status": ["open"]}).write_parquet(
        landing / "x.Parquet"
    )
    batch = _batch(landing)
    assert sorted(batch.frame["id"].to_list()) == ["o1", "o2", "o3"]
    assert {n: (r.status, r.format) for n, r in _records(batch).items()} == {
        "EXPORT.CSV": ("ingested", "csv"),
        "y.csv.GZ": ("ingested", "csv+gzip"),
        "x.Parquet": ("ingested", "parquet"),
    }


def test_gzip_csv_and_other_delimiters(landing: Path) -> None:
    with gzip.open(landing / "a.csv.gz", "wt") as handle:
        handle.write("id;amount;status\no1;1,5;open\n")
    frame = _read(landing, delimiter=";")
    assert frame.select("id", "amount", "status").rows() == [("o1", "1,5", "open")]


def test_truncated_line_is_kept_with_nulls_then_quarantined(landing: Path) -> None:
    # the writer died mid-row: the last line has two of its four fields
    (landing / "a.csv").write_text(
        "id,ts,amount,status\no1,2026-01-01T00:00:00,5,open\no2,2026-01-01T01"
    )
    frame = _read(landing)
    assert frame.height == 2  # the cut row is kept in bronze
    assert frame.row(1, named=True) | {} == {
        "id": "o2",
        "ts": "2026-01-01T01",
        "amount": None,
        "status": None,
        **{k: frame.row(1, named=True)[k] for k in LINEAGE},
    }
    assert frame[MISSING_FIELDS].to_list() == [0, 2]
    ds = DatasetConfig(
        name="orders",
        columns=[
            {"name": "id", "dtype": "string"},
            {"name": "ts", "dtype": "datetime"},
            {"name": "amount", "dtype": "float64"},
            {"name": "status", "dtype": "string"},
        ],
        keys=["id"],
    )
    split = refine(nw.from_native(frame).lazy(), ds)
    silver, quarantine = split.silver.collect(), split.quarantine.collect()
    assert silver["id"].to_list() == ["o1"]
    assert quarantine[RULE].to_list() == [CAST_ERROR_RULE]
    assert quarantine[REASON].to_list() == [
        "ts: value '2026-01-01T01' is not a valid datetime; "
        "row: 2 field(s) missing (line cut short)"
    ]


def test_trailing_empty_field_is_not_a_cut_line(landing: Path) -> None:
    (landing / "a.csv").write_text(HEADER + "o1,1,\n")
    frame = _read(landing)
    assert frame["status"].to_list() == [None]
    assert frame[MISSING_FIELDS].to_list() == [0]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (bytes(range(128, 256)) * 8, "UTF-8"),  # not UTF-8, no line break: all "header"
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "PNG image"),
        (b"\x00\x01\x02\x03" * 100, "binary content"),  # valid UTF-8, control characters
        (b"\x01\x02\x03\x04" * 100, "not text"),  # control characters, no NUL
        (random.Random(7).randbytes(4096), "binary content"),
        (b"PK\x03\x04" + bytes(100), "zip archive"),
        (b"\xff\xfei\x00d\x00\n\x00", "UTF-16"),
    ],
    ids=["high-bytes", "png", "control", "control-no-nul", "random", "zip", "utf16"],
)
def test_garbage_file_is_rejected_with_its_reason_and_the_rest_ingested(
    landing: Path, content: bytes, reason: str
) -> None:
    (landing / "a.csv").write_text(HEADER + "o1,1,open\n")
    (landing / "broken.csv").write_bytes(content)
    batch = _batch(landing)
    assert batch.frame["id"].to_list() == ["o1"]
    broken = _records(batch)["broken.csv"]
    assert broken.status == "rejected" and broken.rows == 0
    assert reason in broken.reason
    assert batch.rejected == [broken]


def test_parquet_keeps_its_types(landing: Path) -> None:
    pl.DataFrame({"id": ["o1", "o2"], "amount": [1.5, None], "n": [1, 2]}).write_parquet(
        landing / "a.parquet"
    )
    (landing / "header_only.csv").write_text(HEADER)
    batch = read_landing(landing, landing.parents[2], "parquet", batch_id="r", ingested_at=NOW)
    assert batch.files == [
        "shop/orders/2026-01-01/a.parquet",
        "shop/orders/2026-01-01/header_only.csv",
    ]
    assert batch.empty_files == ["shop/orders/2026-01-01/header_only.csv"]
    note = _records(batch)["header_only.csv"].reason
    assert "CSV in a parquet dataset" in note and "header only" in note
    frame = batch.frame
    assert frame.schema["amount"] == pl.Float64 and frame.schema["n"] == pl.Int64
    assert frame["amount"].to_list() == [1.5, None]
    assert frame[MISSING_FIELDS].to_list() == [0, 0]


def test_broken_parquet_is_rejected_naming_the_file(landing: Path) -> None:
    (landing / "a.parquet").write_bytes(b"PAR1 this is not really parquet")
    batch = _batch(landing, "parquet")
    assert batch.frame.height == 0
    [record] = batch.rejected
    assert record.file == "shop/orders/2026-01-01/a.parquet"
    assert record.reason.startswith("not a readable Parquet file")


def test_parquet_in_a_csv_dataset_is_read_as_text_with_a_note(landing: Path) -> None:
    # what `mlops-assets simulate --format parquet` writes, and a typed Parquet file
    pl.DataFrame({"id": ["o1"], "amount": ["1.5"], "status": ["open"]}).write_parquet(
        landing / "text.parquet"
    )
    pl.DataFrame({"id": ["o2"], "amount": [2.5], "status": ["shut"]}).write_parquet(
        landing / "typed.csv"  # a Parquet file with the wrong name
    )
    batch = _batch(landing)
    frame = batch.frame.sort("id")
    assert frame.select("id", "amount", "status").rows() == [
        ("o1", "1.5", "open"),
        ("o2", "2.5", "shut"),
    ]
    assert all(frame.schema[c] == pl.String for c in ("id", "amount", "status"))
    records = _records(batch)
    assert records["text.parquet"].reason == "Parquet in a csv dataset: values read as text"
    assert records["typed.csv"].reason.startswith("a Parquet file named .csv: read as Parquet")


def test_gzip_named_csv_is_decompressed_and_its_last_row_is_not_cut(landing: Path) -> None:
    (landing / "a.csv").write_bytes(gzip.compress((HEADER + "o1,1,open\no2,2,\n").encode()))
    batch = _batch(landing)
    assert batch.frame.select("id", "status", MISSING_FIELDS).rows() == [
        ("o1", "open", 0),
        ("o2", None, 0),  # an empty last field, not a cut line
    ]
    record = _records(batch)["a.csv"]
    assert (record.format, record.reason) == (
        "csv+gzip",
        "gzip-compressed although not named .gz: decompressed",
    )


def test_gzip_cut_short_is_rejected(landing: Path) -> None:
    whole = gzip.compress((HEADER + "o1,1,open\n" * 1000).encode())
    (landing / "a.csv.gz").write_bytes(whole[: len(whole) // 2])
    [record] = _batch(landing).rejected
    assert record.reason.startswith("damaged or cut-short gzip stream")


def test_a_cut_line_is_found_after_quoted_line_breaks(landing: Path) -> None:
    # the last record spans lines (a quoted line break) and lacks its last field
    (landing / "a.csv").write_text(HEADER + 'o1,1,"a\nb"\no2,"2\n2"\n')
    frame = _read(landing)
    assert frame.select("id", "amount", MISSING_FIELDS).rows() == [
        ("o1", "1", 0),
        ("o2", "2\n2", 1),
    ]
    (landing / "a.csv").write_text(HEADER + 'o1,1,"a\nb, with ""quotes"""\n')
    assert _read(landing)[MISSING_FIELDS].to_list() == [0]


@pytest.mark.parametrize("cut", [True, False])
def test_a_cut_line_is_found_at_the_end_of_a_large_file(landing: Path, cut: bool) -> None:
    # over 1 MiB: the file is parsed in place and only its end is read again
    body = "".join(f"o{i},{i},open\n" for i in range(120_000))
    last = "o_last,7" if cut else "o_last,7,open"
    (landing / "big.csv").write_text(HEADER + body + last + "\n")
    assert (landing / "big.csv").stat().st_size > 1 << 20
    frame = _read(landing)
    assert frame.height == 120_001
    assert frame[MISSING_FIELDS].to_list()[-2:] == [0, 1 if cut else 0]
    assert frame[MISSING_FIELDS].sum() == (1 if cut else 0)


def test_a_last_record_longer_than_the_tail_read_is_counted_from_the_whole_file(
    landing: Path,
) -> None:
    # the last record's quoted value holds 2 MiB of lines: it starts before the end read apart
    long_value = '"' + "line, with a comma\n" * 110_000 + '"'
    (landing / "long.csv").write_text(HEADER + "o1,1,open\n" + f"o2,{long_value}\n")
    frame = _read(landing)
    assert frame.select("id", MISSING_FIELDS).rows() == [("o1", 0), ("o2", 1)]
    assert frame["amount"][1].count("\n") == 110_000


def test_wrong_delimiter_is_rejected_with_a_hint(landing: Path) -> None:
    (landing / "semi.csv").write_text("id;amount;status\no1;1;open\n")
    (landing / "tabs.csv").write_text("id\tamount\tstatus\no1\t1\topen\n")
    batch = read_landing(
        landing, landing.parents[2], "csv", batch_id="r", ingested_at=NOW, columns=COLUMNS
    )
    records = _records(batch)
    assert records["semi.csv"].reason == (
        "the header does not fit the declared columns: 1 column(s) found, 3 declared, "
        "none in common: wrong delimiter? this file looks `;`-separated"
    )
    assert records["tabs.csv"].reason.endswith("this file looks tab-separated")
    assert batch.frame.height == 0
    # without declared columns, the name check still stops the long column name
    [plain] = _batch(landing).rejected[:1]
    assert "schema evolution must not add" in plain.reason
    assert plain.reason.endswith("this file looks `;`-separated")


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("id,amount,status,Bad Name", "schema evolution must not add"),
        ("id,amount,status," + "x" * 129, "schema evolution must not add"),
        ("id,amount,status,", "schema evolution must not add"),  # an empty name
        ("id,amount,status,_source_file", "reserved for lineage"),
        ("id,amount,status,ID2,id2", "repeated column name"),
        ("id,amount,status,status", "repeated column name"),
        ("id,amount,Status", "only by case"),
    ],
    ids=["space", "too-long", "empty", "lineage", "case-repeat", "repeat", "case"],
)
def test_header_names_schema_evolution_must_not_add_are_rejected(
    landing: Path, header: str, reason: str
) -> None:
    fields = header.count(",") + 1
    (landing / "a.csv").write_text(header + "\n" + ",".join(["v"] * fields) + "\n")
    batch = read_landing(
        landing, landing.parents[2], "csv", batch_id="r", ingested_at=NOW, columns=COLUMNS
    )
    [record] = batch.rejected
    assert reason in record.reason
    assert batch.frame.height == 0


def test_missing_declared_columns_are_flagged_or_rejected(landing: Path) -> None:
    (landing / "a.csv").write_text("id,status,extra\no1,open,x\n")

    def read(policy: MissingColumnsPolicy) -> LandingBatch:
        return read_landing(
            landing,
            landing.parents[2],
            "csv",
            batch_id="r",
            ingested_at=NOW,
            columns=COLUMNS,
            missing_columns=policy,
        )

    flagged = read("flag")
    [record] = flagged.records
    assert (record.status, record.rows, record.missing_columns) == ("ingested", 1, ["amount"])
    assert record.reason == "lacks declared column(s) amount"
    assert flagged.frame["extra"].to_list() == ["x"]  # a valid new column is kept
    rejected = read("reject")
    [record] = rejected.records
    assert (record.status, record.rows, record.missing_columns) == ("rejected", 0, ["amount"])
    assert record.reason == "lacks declared column(s) amount"
    assert rejected.frame.height == 0


def test_a_line_longer_than_the_header_rejects_the_file(landing: Path) -> None:
    (landing / "a.csv").write_text(HEADER + "o1,1,open\no2,2,open,surplus\n")
    [record] = _batch(landing).rejected
    assert "more fields than the header" in record.reason


def test_unsafe_names_and_links_are_rejected_and_reported(landing: Path, tmp_path: Path) -> None:
    (landing / "bad\nname.csv").write_text(HEADER + "o1,1,open\n")
    (landing / "back\\slash.csv").write_text(HEADER + "o1,1,open\n")
    outside = tmp_path / "secret.csv"
    outside.write_text(HEADER + "o9,9,open\n")
    (landing / "link.csv").symlink_to(outside)
    batch = _batch(landing)
    assert batch.frame.height == 0
    reasons = {r.file.rsplit("/", 1)[-1]: r.reason for r in batch.rejected}
    assert set(reasons) == {"bad\\nname.csv", "back\\slash.csv", "link.csv"}
    assert reasons["bad\\nname.csv"].startswith("unsafe file name")
    assert reasons["link.csv"].startswith("symbolic link")


def test_records_frame_has_one_row_per_entry(landing: Path) -> None:
    (landing / "a.csv").write_text(HEADER + "o1,1,open\n")
    (landing / "b.txt").write_text("x")
    (landing / ".c.tmp").write_text("x")
    records = _batch(landing).records_frame()
    assert records.columns == [
        "file",
        "status",
        "rows",
        "format",
        "reason",
        "missing_columns",
        "_ingested_at",
        "_batch_id",
    ]
    assert records.select("status", "rows").rows() == [
        ("skipped", 0),
        ("ingested", 1),
        ("rejected", 0),
    ]
    assert records["_batch_id"].unique().to_list() == ["run-1"]


def test_excluded_files_are_neither_opened_nor_recorded(landing: Path) -> None:
    """``exclude`` (files ingested before, for ``landing_files: new``): a damaged one would be
    rejected if it were read, so no record at all shows it was never opened."""
    (landing / "early.parquet").write_bytes(b"PAR1 damaged since it was ingested")
    (landing / "late.csv").write_text(HEADER + "o9,1.0,open\n")
    rel = str((landing / "early.parquet").relative_to(landing.parents[2]))
    everything = _batch(landing)
    assert [r.file for r in everything.rejected] == [rel], "read, the file is rejected"

    batch = read_landing(
        landing, landing.parents[2], "csv", batch_id="run-2", ingested_at=NOW, exclude={rel}
    )
    assert [r.file.rsplit("/", 1)[-1] for r in batch.records] == ["late.csv"]
    assert batch.rejected == [] and batch.frame["id"].to_list() == ["o9"]
    assert set(batch.frame["_source_file"]) == {rel.replace("early.parquet", "late.csv")}
