"""Where landing files go (the lakehouse owns the folders), and how they are written atomically.

Layout (what the ingestion reads; `<subdir>` is the dataset's landing subdir, by default its name)::

    <landing root>/<use_case>/<subdir>/<YYYY-MM-DD>/<dataset>_<YYYY-MM-DD>.<csv|parquet>

Every column of a landing file is text (CSV, or Parquet with String columns), so both formats
read back to the same frame: ``pl.read_csv(path, infer_schema=False)`` / ``pl.read_parquet(path)``.
"""

import datetime as dt
from pathlib import Path
from typing import Literal

import polars as pl

from mlops_assets.errors import StorageError
from mlops_assets.simulate.text import DATE_FORMAT, TIMESTAMP_FORMAT, as_text
from mlops_assets.storage.atomic import replace_file
from mlops_assets.storage.lakehouse import LocalLakehouse

FileFormat = Literal["csv", "parquet"]


def landing_root(data_dir: Path, use_case: str) -> Path:
    """The landing folder of one use case (under the lakehouse's landing root)."""
    return LocalLakehouse(data_dir).landing_root() / use_case


def landing_file(
    data_dir: Path,
    use_case: str,
    dataset: str,
    day: dt.date,
    file_format: str,
    subdir: str | None = None,
) -> Path:
    """Path of one dataset's landing file of one day."""
    stamp = day.isoformat()
    ext = "parquet" if file_format == "parquet" else "csv"
    folder = LocalLakehouse(data_dir).landing_dir(use_case, subdir or dataset)
    return folder / stamp / f"{dataset}_{stamp}.{ext}"


def write_atomic(frame: pl.DataFrame, path: Path, file_format: str, delimiter: str = ",") -> None:
    """Write `frame` as text to `path` through a hidden temp file and a rename (replaces any old).

    Raises StorageError when the file cannot be written (the previous file, if any, stays).
    """

    def write(tmp: Path) -> None:
        if file_format == "parquet":
            as_text(frame).write_parquet(tmp, compression="zstd", statistics=False)
        else:  # Polars writes typed values as `as_text` spells them (checked by a test)
            frame.write_csv(
                tmp, separator=delimiter, datetime_format=TIMESTAMP_FORMAT, date_format=DATE_FORMAT
            )

    try:
        replace_file(path, write)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise StorageError(
            "could not write a landing file",
            context={"path": str(path), "error": str(exc)},
            fix="check that the data directory is writable and the disk is not full",
        ) from exc
