"""Where landing files live, and how they are written so a reader never sees half a file.

Layout (what the ingestion reads)::

    <data_dir>/landing/<use_case>/customers/<YYYY-MM-DD>/customers_<YYYY-MM-DD>.<ext>
    <data_dir>/landing/<use_case>/labels/<YYYY-MM-DD>/labels_<YYYY-MM-DD>.<ext>

Every column of a landing file is text (CSV, or Parquet with String columns), so both formats
read back to the same frame: ``pl.read_csv(path, infer_schema=False)`` / ``pl.read_parquet(path)``.
"""

import datetime as dt
import os
from pathlib import Path
from typing import Literal

import polars as pl

from mlops_assets.errors import StorageError

FileFormat = Literal["csv", "parquet"]
Dataset = Literal["customers", "labels"]

CUSTOMERS_COLUMNS: tuple[str, ...] = ("customer_id", "event_ts")  # + the 19 features
LABELS_COLUMNS: tuple[str, ...] = ("customer_id", "event_ts", "churn", "label_ts")


def landing_root(data_dir: Path, use_case: str) -> Path:
    """The landing folder of one use case: `<data_dir>/landing/<use_case>`."""
    return data_dir / "landing" / use_case


def landing_file(
    data_dir: Path, use_case: str, dataset: Dataset, day: dt.date, file_format: FileFormat
) -> Path:
    """Path of the `customers` or `labels` landing file of one day."""
    stamp = day.isoformat()
    ext = "csv" if file_format == "csv" else "parquet"
    return landing_root(data_dir, use_case) / dataset / stamp / f"{dataset}_{stamp}.{ext}"


def write_atomic(frame: pl.DataFrame, path: Path, file_format: FileFormat) -> None:
    """Write `frame` to `path` through a hidden temp file and a rename (replaces any old file).

    Every column is written as text: CSV renders values itself, Parquet gets String columns.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if file_format == "csv":
            frame.write_csv(tmp)
        else:
            text = frame.select(pl.all().cast(pl.String))
            text.write_parquet(tmp, compression="zstd", statistics=False)
        tmp.replace(path)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise StorageError(
            "could not write a landing file",
            context={"path": str(path), "error": str(exc)},
            fix="check that the data directory is writable and the disk is not full",
        ) from exc
    finally:
        tmp.unlink(missing_ok=True)
