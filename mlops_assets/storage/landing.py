"""Reading landing files into a raw bronze batch: every row kept as it came, with lineage columns.

CSV values stay strings (typing happens in silver, where a failure has a reason); Parquet keeps its
own types. Empty files give zero rows and are reported; unreadable files stop the batch with the
file's name, so nothing is dropped silently.
"""

from datetime import datetime
from pathlib import Path

import polars as pl
from pydantic import BaseModel, Field

from mlops_assets.errors import DataValidationError

SUFFIXES = {"csv": (".csv", ".csv.gz"), "parquet": (".parquet",)}
MISSING_FIELDS = "_missing_fields"
"""Lineage column: fields a CSV line lacked (a line cut short); silver quarantines such rows."""


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
            empty_string_is_null=False,
        )
        # Empty fields read as "", so a null can only be a field missing from a short line;
        # count those, then make empty fields null as usual.
        missing = pl.sum_horizontal(pl.col(c).is_null() for c in frame.columns)
        return frame.with_columns(
            missing.cast(pl.Int64).alias(MISSING_FIELDS),
            *[pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) for c in frame.columns],
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
