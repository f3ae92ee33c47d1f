"""Compute engines the engine-agnostic transforms run on: Polars locally, Spark on a cluster.

``as_lazy(frame, engine)`` hands a Polars frame to a transform on any engine;
``collect_polars(result)`` brings the result back. pyspark is imported only when a Spark engine is
asked for, so importing this package stays fast and works without Java.
"""

from typing import TYPE_CHECKING, Any, Literal

import narwhals as nw
import polars as pl

from mlops_assets.engines.polars import collect_polars, lazy
from mlops_assets.engines.spark import SparkKind, get_spark, stop_spark, to_polars, to_spark

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

Engine = Literal["polars", "spark", "spark_connect"]
ENGINES: tuple[Engine, ...] = ("polars", "spark", "spark_connect")
SPARK_KINDS: dict[Engine, SparkKind] = {"spark": "classic", "spark_connect": "connect"}


def as_lazy(
    frame: pl.DataFrame, engine: Engine = "polars", spark: "SparkSession | None" = None
) -> nw.LazyFrame[Any]:
    """``frame`` as a narwhals LazyFrame on ``engine`` (makes a Spark session if none is given)."""
    if engine == "polars":
        return lazy(frame)
    session = spark if spark is not None else get_spark(SPARK_KINDS[engine])
    return nw.from_native(to_spark(frame, session))


__all__ = [
    "ENGINES",
    "Engine",
    "SparkKind",
    "as_lazy",
    "collect_polars",
    "get_spark",
    "lazy",
    "stop_spark",
    "to_polars",
    "to_spark",
]
