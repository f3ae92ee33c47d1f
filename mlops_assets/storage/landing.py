"""A day's landing folder into a raw bronze batch: every file ingested, rejected or skipped.

No landing file goes unaccounted. Each entry of the folder gets a :class:`LandingFile` record:

- ``skipped``: names following the in-progress/hidden conventions (``_*``, ``.*``, ``*.tmp``,
  ``*.part``, ``*.crdownload``): a writer has not finished, or the file is not data.
- ``rejected``: anything that cannot become rows without losing or inventing data, with the
  reason: unknown extension, unsafe name, symbolic link, folder, binary or non-UTF-8 content,
  damaged gzip or Parquet, a header that does not fit the declared columns (wrong delimiter),
  column names schema evolution must not add, a line with more fields than the header, and,
  with ``missing_columns="reject"``, a file lacking declared columns.
- ``ingested``: every row is in the batch (``rows`` of them). A note in ``reason`` tells what was
  unusual (read by its real format, lacks declared columns, header only).

Files are read by their real format, not their name: extensions match case-insensitively and the
content is sniffed (gzip ``1f 8b`` is decompressed, ``PAR1`` is Parquet), so a Parquet file in a
CSV dataset or a gzip named ``.csv`` is read correctly and the note says so. CSV values stay
strings (typing happens in silver); Parquet keeps its types, except in a CSV dataset where its
values become text like every other CSV value. Reads are whole-file Polars reads (no per-row
Python); blank lines are dropped (Polars would invent all-null rows), and only the last record's
fields are counted again, to tell a line cut short from empty fields.
"""

import re
from collections.abc import Collection, Sequence
from datetime import datetime
from pathlib import Path
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from mlops_assets.errors import DataValidationError
from mlops_assets.storage.landing_formats import (
    MISSING_FIELDS,
    FileRejectedError,
    ReadSpec,
    read_file,
)

__all__ = [
    "DATA_SUFFIXES",
    "IN_PROGRESS",
    "MISSING_FIELDS",
    "FileStatus",
    "LandingBatch",
    "LandingFile",
    "MissingColumnsPolicy",
    "display_name",
    "landing_files",
    "read_landing",
    "skip_reason",
]

FileStatus = Literal["ingested", "rejected", "skipped"]
MissingColumnsPolicy = Literal["flag", "reject"]
DATA_SUFFIXES = (".csv", ".csv.gz", ".parquet")
IN_PROGRESS = "in-progress/hidden file convention"
_IN_PROGRESS_SUFFIXES = (".tmp", ".part", ".crdownload")
_LINEAGE = ["_ingested_at", "_source_file", "_row_number", "_batch_id", MISSING_FIELDS]
_UNSAFE_NAME = re.compile(r"[\\\x00-\x1f\x7f-\x9f\ud800-\udfff]")


class LandingFile(BaseModel):
    """What happened to one entry of a landing folder."""

    file: str = Field(description="Path relative to the landing root (control chars escaped).")
    status: FileStatus = Field(description="ingested, rejected or skipped.")
    rows: int = Field(default=0, description="Data rows ingested from the file.")
    format: str = Field(default="", description="Format read (csv, csv+gzip, parquet); '' if not.")
    reason: str = Field(default="", description="Why rejected/skipped, or a note on an ingestion.")
    missing_columns: list[str] = Field(
        default_factory=list, description="Declared columns the file lacks."
    )


class LandingBatch(BaseModel):
    """Everything found in a landing folder: the rows, and one record per entry."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    frame: pl.DataFrame = Field(description="All rows of all ingested files, with lineage.")
    records: list[LandingFile] = Field(description="Every entry of the folder, accounted for.")
    batch_id: str = Field(description="The ingestion's batch id (the Dagster run id).")
    ingested_at: datetime = Field(description="When the batch was read (UTC).")

    def _with(self, status: FileStatus) -> list[LandingFile]:
        return [r for r in self.records if r.status == status]

    @property
    def files(self) -> list[str]:
        """Files ingested (including those with no data rows)."""
        return [r.file for r in self._with("ingested")]

    @property
    def empty_files(self) -> list[str]:
        """Files ingested with no data rows."""
        return [r.file for r in self._with("ingested") if r.rows == 0]

    @property
    def rows_per_file(self) -> dict[str, int]:
        return {r.file: r.rows for r in self._with("ingested")}

    @property
    def rejected(self) -> list[LandingFile]:
        return self._with("rejected")

    @property
    def skipped(self) -> list[LandingFile]:
        return self._with("skipped")

    def records_frame(self) -> pl.DataFrame:
        """One row per entry: file, status, rows, format, reason, missing_columns, lineage."""
        schema = {
            "file": pl.String,
            "status": pl.String,
            "rows": pl.Int64,
            "format": pl.String,
            "reason": pl.String,
            "missing_columns": pl.String,
        }
        rows = [
            r.model_dump() | {"missing_columns": ", ".join(r.missing_columns)} for r in self.records
        ]
        return pl.DataFrame(rows, schema=schema).with_columns(
            pl.lit(self.ingested_at).cast(pl.Datetime("us", "UTC")).alias("_ingested_at"),
            pl.lit(self.batch_id).alias("_batch_id"),
        )


def display_name(name: str) -> str:
    """``name`` with control characters and undecodable bytes escaped (safe in any report)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in name)


def skip_reason(name: str) -> str | None:
    """Why an entry named ``name`` is skipped (in-progress or hidden), or None."""
    if name.startswith((".", "_")) or name.lower().endswith(_IN_PROGRESS_SUFFIXES):
        return IN_PROGRESS
    return None


def _entries(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    try:
        return sorted(folder.iterdir())
    except OSError as exc:
        raise DataValidationError(
            f"cannot list landing folder {folder}: {exc}",
            context={"folder": str(folder)},
            fix="check the folder's permissions, then re-materialize the partition",
        ) from exc


def landing_files(folder: Path) -> list[Path]:
    """Entries of a day folder that bronze ingests or rejects (skipped names left out), sorted.

    What the landing sensor watches: a new or changed entry here changes what bronze records.
    """
    return [p for p in _entries(folder) if skip_reason(p.name) is None]


def _entry_problem(path: Path) -> str | None:
    """Why an entry cannot be read as a data file at all, or None."""
    if _UNSAFE_NAME.search(path.name):
        return "unsafe file name (control characters, backslash or bytes that are not UTF-8)"
    if path.is_symlink():
        return "symbolic link: links are not followed (copy the file into the folder)"
    if path.is_dir():
        return "a folder: files in sub-folders are not read (move them into the day folder)"
    if not path.is_file():
        return "not a regular file"
    if not path.name.lower().endswith(DATA_SUFFIXES):
        suffix = "".join(path.suffixes) or "none"
        return f"unknown file type (extension {suffix!r}; expected .csv, .csv.gz or .parquet)"
    return None


def _account(path: Path, rel: str, spec: ReadSpec) -> tuple[LandingFile, pl.DataFrame | None]:
    """One entry's record, and its rows when it was ingested with any."""
    shown = display_name(rel)
    reason = skip_reason(path.name)
    if reason is not None:
        return LandingFile(file=shown, status="skipped", reason=reason), None
    reason = _entry_problem(path)
    if reason is not None:
        return LandingFile(file=shown, status="rejected", reason=reason), None
    try:
        content = read_file(path, spec)
    except FileRejectedError as rejected:
        return LandingFile(
            file=shown,
            status="rejected",
            format=rejected.format,
            reason=rejected.reason,
            missing_columns=rejected.missing_columns,
        ), None
    except OSError as exc:
        return LandingFile(file=shown, status="rejected", reason=f"cannot read: {exc}"), None
    record = LandingFile(
        file=shown,
        status="ingested",
        rows=content.frame.height,
        format=content.format,
        reason="; ".join(content.notes),
        missing_columns=content.missing_columns,
    )
    if content.frame.height == 0:
        return record, None
    frame = content.frame.with_row_index("_row_number", offset=1).with_columns(
        pl.col("_row_number").cast(pl.Int64), pl.lit(rel).alias("_source_file")
    )
    return record, frame


def read_landing(
    folder: Path,
    landing_root: Path,
    file_format: str,
    *,
    batch_id: str,
    ingested_at: datetime,
    delimiter: str = ",",
    columns: Sequence[str] | None = None,
    missing_columns: MissingColumnsPolicy = "flag",
    exclude: Collection[str] = (),
) -> LandingBatch:
    """Account for every entry of ``folder``; the ingested rows in one frame with lineage columns.

    ``columns`` are the declared (source) column names: with them, a header that fits none of
    them is rejected (with a delimiter hint), and a file lacking some is flagged (its rows are
    kept, the record lists the columns) or rejected, per ``missing_columns``. Entries named in
    ``exclude`` (paths relative to ``landing_root``: files ingested before, which the caller
    accounts for) are neither opened nor recorded.
    """
    spec = ReadSpec(
        dataset_format=file_format,
        delimiter=delimiter,
        columns=list(columns or []),
        reject_missing=missing_columns == "reject",
    )
    records: list[LandingFile] = []
    frames: list[pl.DataFrame] = []
    for path in _entries(folder):
        rel = str(path.relative_to(landing_root))
        if rel in exclude:
            continue
        record, frame = _account(path, rel, spec)
        records.append(record)
        if frame is not None:
            frames.append(frame)
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
    raw = [c for c in data.columns if c not in _LINEAGE]
    return LandingBatch(
        frame=data.select(*raw, *_LINEAGE),
        records=records,
        batch_id=batch_id,
        ingested_at=ingested_at,
    )
