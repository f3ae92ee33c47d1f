"""Reading landing files into bronze batches: nothing dropped silently, bad files named."""

import gzip
import random
from datetime import UTC, datetime
from pathlib import Path

import narwhals as nw
import polars as pl
import pytest

from mlops_assets.config.datasets import DatasetConfig
from mlops_assets.errors import DataValidationError
from mlops_assets.storage.landing import MISSING_FIELDS, list_files, read_landing
from mlops_assets.transforms.quality import REASON, RULE, refine
from mlops_assets.transforms.schema import CAST_ERROR_RULE

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
LINEAGE = ["_ingested_at", "_source_file", "_row_number", "_batch_id", MISSING_FIELDS]
HEADER = "id,amount,status\n"


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    folder = tmp_path / "landing" / "shop" / "orders" / "2026-01-01"
    folder.mkdir(parents=True)
    return folder


def _read(folder: Path, file_format: str = "csv", delimiter: str = ",") -> pl.DataFrame:
    batch = read_landing(
        folder,
        folder.parents[2],
        file_format,
        batch_id="run-1",
        ingested_at=NOW,
        delimiter=delimiter,
    )
    return batch.frame


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
    assert list_files(tmp_path / "missing", "csv") == []
    batch = read_landing(tmp_path / "missing", tmp_path, "csv", batch_id="r", ingested_at=NOW)
    assert batch.files == [] and batch.frame.height == 0


def test_hidden_temporary_and_foreign_files_are_ignored(landing: Path) -> None:
    (landing / "a.csv").write_text(HEADER + "o1,1,open\n")
    (landing / ".a.csv.1234.tmp").write_text(HEADER + "o9,9,open\n")
    (landing / ".hidden.csv").write_text(HEADER + "o9,9,open\n")
    (landing / "_SUCCESS").write_text("")
    (landing / "_partial.csv").write_text(HEADER + "o9,9,open\n")
    (landing / "notes.txt").write_text("hello")
    (landing / "sub.csv").mkdir()
    assert [p.name for p in list_files(landing, "csv")] == ["a.csv"]
    assert _read(landing)["id"].to_list() == ["o1"]


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
    "content",
    [
        bytes(range(128, 256)) * 8,  # not UTF-8, no line break: all "header"
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4,
        b"\x00\x01\x02\x03" * 100,  # valid UTF-8, but control characters
        random.Random(7).randbytes(4096),
    ],
    ids=["high-bytes", "png", "control", "random"],
)
def test_garbage_file_raises_naming_the_file(landing: Path, content: bytes) -> None:
    (landing / "a.csv").write_text(HEADER + "o1,1,open\n")
    (landing / "broken.csv").write_bytes(content)
    with pytest.raises(DataValidationError) as info:
        _read(landing)
    err = info.value
    assert err.context["file"] == str(landing / "broken.csv")
    assert "broken.csv" in err.message
    assert err.fix is not None and "re-materialize" in err.fix


def test_parquet_keeps_its_types(landing: Path) -> None:
    pl.DataFrame({"id": ["o1", "o2"], "amount": [1.5, None], "n": [1, 2]}).write_parquet(
        landing / "a.parquet"
    )
    (landing / "ignored.csv").write_text(HEADER)
    batch = read_landing(landing, landing.parents[2], "parquet", batch_id="r", ingested_at=NOW)
    assert batch.files == ["shop/orders/2026-01-01/a.parquet"]
    frame = batch.frame
    assert frame.schema["amount"] == pl.Float64 and frame.schema["n"] == pl.Int64
    assert frame["amount"].to_list() == [1.5, None]
    assert frame[MISSING_FIELDS].to_list() == [0, 0]


def test_broken_parquet_raises_naming_the_file(landing: Path) -> None:
    (landing / "a.parquet").write_bytes(b"PAR1 this is not really parquet")
    with pytest.raises(DataValidationError, match=r"a\.parquet"):
        _read(landing, "parquet")
