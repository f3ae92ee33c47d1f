"""Reading landing files into a raw bronze batch: every row kept as it came, with lineage columns.

CSV values stay strings (typing happens in silver, where a failure has a reason); Parquet keeps its
own types. Empty files give zero rows and are reported; unreadable files stop the batch with the
file's name, so nothing is dropped silently.
"""

import csv
import os
from datetime import datetime
from pathlib import Path

import polars as pl
from pydantic import BaseModel, Field

from mlops_assets.errors import DataValidationError

SUFFIXES = {"csv": (".csv", ".csv.gz"), "parquet": (".parquet",)}
MISSING_FIELDS = "_missing_fields"
"""Lineage column: fields the last CSV line lacked (a file cut mid-row); silver quarantines it."""
_TAIL_BYTES = 1 << 16


class LandingBatch(BaseModel):
    """What was found in a landing folder."""

    model_config = {"arbitrary_types_allowed": True}

    frame: pl.DataFrame = Field(description="All rows of all files, with lineage columns.")
    files: list[str] = Field(description="Files read, relative to the landing root.")
    empty_files: list[str] = Field(description="Files with no data rows.")
    rows_per_file: dict[str, int] = Field(description="Data rows per file.")


def list_files(folder: Path, file_format: str) -> list[Path]:
    """Landing files of a partition folder, sorted, hidden and temporary files ignored."""
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file()
        and not p.name.startswith((".", "_"))
        and p.name.endswith(SUFFIXES[file_format])
    )


def _fields_missing_at_end(path: Path, delimiter: str, expected: int) -> int:
    """Fields the file's last line lacks: a writer that died mid-row leaves a short last line.

    Polars fills a short line with nulls (indistinguishable from empty fields), so the last line
    is read back on its own (only the file's tail is read).
    """
    if path.name.endswith(".gz"):
        return 0  # a cut gzip stream does not decompress at all
    with path.open("rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        handle.seek(max(0, size - _TAIL_BYTES))
        tail = handle.read()
    lines = tail.rstrip(b"\r\n").splitlines()
    if not lines:
        return 0
    last = lines[-1].decode("utf-8", errors="replace")
    fields = next(csv.reader([last], delimiter=delimiter), [])
    return max(0, expected - len(fields))


def _read_one(path: Path, file_format: str, delimiter: str) -> pl.DataFrame:
    if path.stat().st_size == 0:
        return pl.DataFrame()
    try:
        if file_format == "parquet":
            return pl.read_parquet(path).with_columns(pl.lit(0, pl.Int64).alias(MISSING_FIELDS))
        frame = pl.read_csv(
            path,
            infer_schema=False,
            separator=delimiter,
            truncate_ragged_lines=True,
        )
    except pl.exceptions.NoDataError:
        return pl.DataFrame()
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        raise DataValidationError(
            f"cannot read landing file {path}: {exc}",
            context={"file": str(path), "format": file_format},
            fix="fix or replace the file (it stays in landing untouched), then re-materialize "
            "the partition",
        ) from exc
    if any(not n.isprintable() or "\ufffd" in n for n in frame.columns):  # binary, not UTF-8
        raise DataValidationError(
            f"cannot read landing file {path}: its header is not text "
            f"(columns {[name[:20] for name in frame.columns[:3]]})",
            context={"file": str(path), "format": file_format},
            fix="replace the file with a UTF-8 CSV that starts with a header line, then "
            "re-materialize the partition",
        )
    missing = _fields_missing_at_end(path, delimiter, frame.width) if frame.height else 0
    is_last = pl.int_range(pl.len()) == pl.len() - 1
    return frame.with_columns(
        pl.when(is_last).then(missing).otherwise(0).cast(pl.Int64).alias(MISSING_FIELDS)
    )


def read_landing(
    folder: Path,
    landing_root: Path,
    file_format: str,
    *,
    batch_id: str,
    ingested_at: datetime,
    delimiter: str = ",",
) -> LandingBatch:
    """Read every file of ``folder`` into one raw frame with lineage columns."""
    frames: list[pl.DataFrame] = []
    files: list[str] = []
    empty: list[str] = []
    rows: dict[str, int] = {}
    for path in list_files(folder, file_format):
        rel = str(path.relative_to(landing_root))
        files.append(rel)
        frame = _read_one(path, file_format, delimiter)
        rows[rel] = frame.height
        if frame.height == 0:
            empty.append(rel)
            continue
        frames.append(
            frame.with_row_index("_row_number", offset=1).with_columns(
                pl.col("_row_number").cast(pl.Int64),
                pl.lit(rel).alias("_source_file"),
            )
        )
    if frames:
        data = pl.concat(frames, how="diagonal_relaxed")
    else:
        data = pl.DataFrame(
            schema={"_row_number": pl.Int64, "_source_file": pl.String, MISSING_FIELDS: pl.Int64}
        )
    data = data.with_columns(
        pl.lit(ingested_at).cast(pl.Datetime("us", "UTC")).alias("_ingested_at"),
        pl.lit(batch_id).alias("_batch_id"),
    )
    raw = [c for c in data.columns if not c.startswith("_")]
    meta = ["_ingested_at", "_source_file", "_row_number", "_batch_id", MISSING_FIELDS]
    return LandingBatch(
        frame=data.select(*raw, *meta), files=files, empty_files=empty, rows_per_file=rows
    )
