"""Typed simulator columns as the text a landing file holds (what silver parses back).

Timestamps are ISO-8601 UTC with microseconds (`2026-01-01T13:45:12.123456Z`), dates `YYYY-MM-DD`,
booleans `true`/`false`; numbers use Polars' shortest round-trip text. CSV and Parquet files get
the same text, so both formats read back to the same frame.
"""

import numpy as np
import polars as pl

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S%.6fZ"
DATE_FORMAT = "%Y-%m-%d"


def text_expr(name: str, dtype: pl.DataType) -> pl.Expr:
    """Column `name` of type `dtype` as text."""
    col = pl.col(name)
    if isinstance(dtype, pl.Datetime):
        return col.dt.strftime(TIMESTAMP_FORMAT).alias(name)
    if isinstance(dtype, pl.Date):
        return col.dt.strftime(DATE_FORMAT).alias(name)
    return col.cast(pl.String).alias(name)


def as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column of `frame` as text."""
    return frame.select(text_expr(name, dtype) for name, dtype in frame.schema.items())


def format_ts(micros: np.ndarray) -> pl.Series:
    """ISO-8601 UTC text of epoch microseconds."""
    naive = pl.Series(micros, dtype=pl.Int64).cast(pl.Datetime("us"))
    return naive.dt.strftime(TIMESTAMP_FORMAT)
