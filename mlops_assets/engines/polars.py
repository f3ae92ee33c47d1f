"""The Polars engine (local default) and collecting any engine's result into Polars.

Transforms take and return ``narwhals.LazyFrame``; these helpers are the two ends of that: a Polars
frame going in, and any narwhals frame (Polars, classic Spark, Spark Connect) coming out.
"""

from typing import Any

import narwhals as nw
import polars as pl


def lazy(frame: pl.DataFrame | pl.LazyFrame) -> nw.LazyFrame[Any]:
    """``frame`` as the narwhals LazyFrame the transforms take."""
    return nw.from_native(frame).lazy()


def collect_polars(frame: nw.LazyFrame[Any] | nw.DataFrame[Any]) -> pl.DataFrame:
    """Run a transform's result on its own engine and return the rows as a Polars DataFrame.

    Spark results travel through Arrow; timestamps keep their instant (Spark reports them in the
    session time zone, UTC for the sessions of ``mlops_assets.engines.spark``).
    """
    if isinstance(frame, nw.LazyFrame):
        frame = frame.collect(backend="polars")
    native = frame.to_native()
    if isinstance(native, pl.DataFrame):
        return native
    out = pl.from_arrow(frame.to_arrow())
    assert isinstance(out, pl.DataFrame)
    return out
