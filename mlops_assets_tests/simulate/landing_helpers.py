"""Helpers of the simulator tests: reading landing files back as ingestion would."""

from pathlib import Path

import polars as pl


def read_landing(path: Path) -> pl.DataFrame:
    """Read one landing file the way ingestion does: every column as text."""
    if path.suffix == ".csv":
        return pl.read_csv(path, infer_schema=False)
    return pl.read_parquet(path)


def as_float(column: str) -> pl.Expr:
    """Parse a text column as Float64; unparseable values become null."""
    return pl.col(column).cast(pl.Float64, strict=False)


def as_int(column: str) -> pl.Expr:
    """Parse a text column as Int64; unparseable values become null."""
    return pl.col(column).cast(pl.Int64, strict=False)
