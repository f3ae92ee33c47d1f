"""A hostile landing folder: every file is ingested with all its rows, or rejected or skipped with
a reason. Row counts are checked against Python's ``csv`` module and Parquet footers, never
against the code under test.
"""

import csv
import gzip
import io
import os
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import polars as pl
import pyarrow.parquet as pq
import pytest

from mlops_assets.storage.landing import (
    IN_PROGRESS,
    MISSING_FIELDS,
    LandingBatch,
    MissingColumnsPolicy,
    display_name,
    read_landing,
)

NOW = datetime(2026, 1, 2, tzinfo=UTC)
COLUMNS = ["id", "amount", "status"]
HEADER = "id,amount,status"


def _rows(n: int, sep: str = ",", newline: str = "\n") -> str:
    return newline.join(sep.join((f"o{i}", f"{i}.5", "open")) for i in range(n)) + newline


def _parquet(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


TEXT_FRAME = pl.DataFrame(
    {"id": ["p1", "p2", "p3"], "amount": ["1", "2", "3"], "status": ["a"] * 3}
)
TYPED_FRAME = pl.DataFrame({"id": ["t1", "t2"], "amount": [1.5, None], "status": ["a", "b"]})
QUOTED = (
    f"{HEADER}\n"
    'q1,1,"line one\nline two"\n'
    'q2,2,"crlf\r\ninside"\n'
    'q3,3,"he said ""hi"", twice"\n'
    'q4,4,"a,b"\n'
)
CSV_GZ = gzip.compress((f"{HEADER}\n" + _rows(7)).encode())
WHOLE_GZ = gzip.compress((f"{HEADER}\n" + _rows(500)).encode())


class Kind(NamedTuple):
    """One hostile file: its name, its bytes (None: a folder), what must happen, and why."""

    name: str
    content: bytes | None
    status: str  # ingested | rejected | skipped (with missing_columns="flag")
    reason: str  # a part of the reason ("" when an ingestion has nothing to say)


KINDS = [
    Kind("plain.csv", f"{HEADER}\n{_rows(5)}".encode(), "ingested", ""),
    Kind("bom.csv", b"\xef\xbb\xbf" + f"{HEADER}\n{_rows(4)}".encode(), "ingested", ""),
    Kind("crlf.csv", f"{HEADER}\r\n{_rows(6, newline=chr(13) + chr(10))}".encode(), "ingested", ""),
    Kind("quoted_newlines.csv", QUOTED.encode(), "ingested", ""),
    Kind("cut_mid_row.csv", f"{HEADER}\no1,1.5,open\no2,2".encode(), "ingested", ""),
    Kind("empty.csv", b"", "ingested", "empty file"),
    Kind("header_only.csv", f"{HEADER}\n".encode(), "ingested", "header only"),
    Kind("blank_lines.csv", f"\n{HEADER}\n\no1,1,a\n\n\r\no2,2,b\n\n".encode(), "ingested", ""),
    Kind("gzip_named.csv", CSV_GZ, "ingested", "gzip-compressed although not named .gz"),
    Kind("real.csv.gz", CSV_GZ, "ingested", ""),
    Kind("EXPORT.CSV", f"{HEADER}\n{_rows(3)}".encode(), "ingested", ""),
    Kind("semicolon.csv", f"id;amount;status\n{_rows(3, ';')}".encode(), "rejected", "`;`-sep"),
    Kind("missing_column.csv", b"id,status\no1,open\no2,shut\n", "ingested", "lacks declared"),
    Kind("extra_column.csv", f"{HEADER},tier\no1,1,a,gold\n".encode(), "ingested", ""),
    Kind("latin1.csv", f"{HEADER}\no1,1,caf\xe9\n".encode("latin-1"), "rejected", "UTF-8"),
    Kind("utf16.csv", f"{HEADER}\no1,1,a\n".encode("utf-16"), "rejected", "UTF-16"),
    Kind("garbage.csv", random.Random(3).randbytes(5000), "rejected", "binary content"),
    Kind("archive.csv", b"PK\x03\x04" + random.Random(4).randbytes(300), "rejected", "zip"),
    Kind("parquet_named.csv", _parquet(TEXT_FRAME), "ingested", "a Parquet file named .csv"),
    Kind("typed.parquet", _parquet(TYPED_FRAME), "ingested", "Parquet in a csv dataset"),
    Kind("zipped_parquet.csv.gz", gzip.compress(_parquet(TEXT_FRAME)), "ingested", "Parquet"),
    Kind("broken.parquet", b"PAR1" + bytes(200), "rejected", "not a readable Parquet"),
    Kind("cut.csv.gz", WHOLE_GZ[: len(WHOLE_GZ) // 2], "rejected", "gzip stream"),
    Kind("huge_field.csv", f"{HEADER}\no1,{'x' * 3_000_000},a\no2,2,b\n".encode(), "ingested", ""),
    Kind("open_quote.csv", f'{HEADER}\no1,1,a\no2,2,"never closed\n'.encode(), "rejected", "quot"),
    Kind("ragged.csv", f"{HEADER}\no1,1,a\no2,2,b,surplus\n".encode(), "rejected", "more fields"),
    Kind("bad_name.csv", f"{HEADER},total charges\no1,1,a,2\n".encode(), "rejected", "must not"),
    Kind("lineage.csv", f"{HEADER},_batch_id\no1,1,a,x\n".encode(), "rejected", "reserved"),
    Kind("notes.txt", b"hello", "rejected", "unknown file type"),
    Kind("folder.csv", None, "rejected", "a folder"),
    Kind("bell\x07name.csv", f"{HEADER}\n{_rows(1)}".encode(), "rejected", "unsafe file name"),
    Kind(os.fsdecode(b"\xffname.csv"), f"{HEADER}\n{_rows(1)}".encode(), "rejected", "unsafe"),
    Kind("_tmp_upload.csv", f"{HEADER}\n{_rows(2)}".encode(), "skipped", IN_PROGRESS),
    Kind(".hidden.csv", f"{HEADER}\n{_rows(2)}".encode(), "skipped", IN_PROGRESS),
    Kind("upload.csv.tmp", f"{HEADER}\n{_rows(2)}".encode(), "skipped", IN_PROGRESS),
    Kind("upload.csv.part", f"{HEADER}\n{_rows(2)}".encode(), "skipped", IN_PROGRESS),
    Kind("download.CSV.crdownload", f"{HEADER}\n{_rows(2)}".encode(), "skipped", IN_PROGRESS),
]


def expected_status(kind: Kind, policy: MissingColumnsPolicy) -> str:
    return "rejected" if policy == "reject" and kind.name == "missing_column.csv" else kind.status


def independent_rows(path: Path) -> int:
    """Data rows by the standard library: gzip, the Parquet footer, or ``csv`` minus the header."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    if data[:4] == b"PAR1":
        return int(pq.ParquetFile(io.BytesIO(data)).metadata.num_rows)
    limit = csv.field_size_limit(1 << 30)
    try:
        reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
        records = [r for r in reader if r]  # csv yields [] for a blank line
    finally:
        csv.field_size_limit(limit)
    return max(0, len(records) - 1)


@pytest.fixture
def landing(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "landing" / "shop" / "orders" / "2026-01-01"
    folder.mkdir(parents=True)
    yield folder


def _write(folder: Path, kind: Kind) -> Path:
    path = folder / kind.name
    if kind.content is None:
        path.mkdir()
    else:
        path.write_bytes(kind.content)
    return path


def _read(folder: Path, policy: MissingColumnsPolicy = "flag") -> LandingBatch:
    return read_landing(
        folder,
        folder.parents[2],
        "csv",
        batch_id="run",
        ingested_at=NOW,
        columns=COLUMNS,
        missing_columns=policy,
    )


def test_the_matrix_has_every_kind_the_issue_names() -> None:
    names = [k.name for k in KINDS]
    assert len(names) == len(set(names)) >= 15
    assert {k.status for k in KINDS} == {"ingested", "rejected", "skipped"}


@pytest.mark.parametrize("kind", KINDS, ids=[display_name(k.name) for k in KINDS])
def test_each_kind_alone_is_ingested_whole_or_refused_with_its_reason(
    landing: Path, kind: Kind
) -> None:
    path = _write(landing, kind)
    batch = _read(landing)
    [record] = batch.records
    assert record.file.endswith(display_name(kind.name))
    assert record.status == kind.status, record.reason
    assert kind.reason in record.reason
    if kind.status == "ingested":
        rows = independent_rows(path)
        assert record.rows == rows == batch.frame.height
        assert batch.frame["_row_number"].to_list() == list(range(1, rows + 1))
    else:
        assert record.reason and record.rows == 0 and batch.frame.height == 0


@pytest.mark.parametrize("policy", ["flag", "reject"])
def test_a_folder_of_every_kind_leaves_nothing_unaccounted(
    landing: Path, policy: MissingColumnsPolicy
) -> None:
    paths = {display_name(k.name): (_write(landing, k), k) for k in KINDS}
    batch = _read(landing, policy)

    on_disk = sorted(display_name(p.name) for p in landing.iterdir())
    accounted = sorted(r.file.rsplit("/", 1)[-1] for r in batch.records)
    assert accounted == on_disk == sorted(paths)  # total accounted == total files
    per_file = dict(batch.frame.group_by("_source_file").len().iter_rows())
    for record in batch.records:
        path, kind = paths[record.file.rsplit("/", 1)[-1]]
        assert record.status == expected_status(kind, policy), (record.file, record.reason)
        if record.status == "ingested":
            rows = independent_rows(path)
            assert record.rows == rows, record.file
            assert per_file.get(record.file, 0) == rows, record.file
        else:
            assert record.reason, record.file
            assert record.file not in per_file
    ingested = [r for r in batch.records if r.status == "ingested"]
    assert batch.frame.height == sum(r.rows for r in ingested) > 0


def test_in_the_mixed_folder_only_the_cut_row_is_flagged(landing: Path) -> None:
    for kind in KINDS:
        _write(landing, kind)
    frame = _read(landing).frame
    flagged = frame.filter(pl.col(MISSING_FIELDS) > 0)
    assert flagged.select("_source_file", "_row_number", MISSING_FIELDS).rows() == [
        ("shop/orders/2026-01-01/cut_mid_row.csv", 2, 1)
    ]
    # text everywhere in a CSV dataset, whatever the file's own types were
    assert all(frame.schema[c] == pl.String for c in COLUMNS)
    typed = frame.filter(pl.col("_source_file").str.ends_with("typed.parquet"))
    assert typed.select("id", "amount").rows() == [("t1", "1.5"), ("t2", None)]
    huge = frame.filter(pl.col("_source_file").str.ends_with("huge_field.csv"))
    assert huge["amount"].str.len_bytes().to_list() == [3_000_000, 1]
