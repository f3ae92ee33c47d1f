"""Compute engines the engine-agnostic transforms run on: Polars locally, Spark on a cluster.

``as_lazy(frame, engine)`` hands a Polars frame to a transform on any engine;
``collect_polars(result)`` brings the result back. pyspark is imported only when a Spark engine is
asked for, and Polars and pyarrow only when a name of this package is first used (PEP 562), so
importing ``mlops_assets.engines.frames`` with the code location loads neither.
"""

import importlib
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import narwhals as nw
    import polars as pl
    from pyspark.sql import SparkSession

    from mlops_assets.engines.polars import collect_polars, lazy
    from mlops_assets.engines.spark import SparkKind, get_spark, stop_spark, to_polars, to_spark

Engine = Literal["polars", "spark", "spark_connect"]
ENGINES: tuple[Engine, ...] = ("polars", "spark", "spark_connect")
SPARK_KINDS: "dict[Engine, SparkKind]" = {"spark": "classic", "spark_connect": "connect"}
_MODULE_OF = {
    "collect_polars": "polars",
    "lazy": "polars",
    "SparkKind": "spark",
    "get_spark": "spark",
    "stop_spark": "spark",
    "to_polars": "spark",
    "to_spark": "spark",
}


def __getattr__(name: str) -> Any:
    """The engine helpers, imported on first use."""
    if name in _MODULE_OF:
        return getattr(importlib.import_module(f"mlops_assets.engines.{_MODULE_OF[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def as_lazy(
    frame: "pl.DataFrame", engine: Engine = "polars", spark: "SparkSession | None" = None
) -> "nw.LazyFrame[Any]":
    """``frame`` as a narwhals LazyFrame on ``engine`` (makes a Spark session if none is given)."""
    import narwhals as nw

    from mlops_assets.engines.polars import lazy
    from mlops_assets.engines.spark import get_spark, to_spark

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
