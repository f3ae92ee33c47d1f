"""The frame types that travel between assets: narwhals frames over Polars or Spark.

Assets annotate inputs and outputs with :data:`LazyFrame` / :data:`DataFrame`; the lakehouse IO
manager reads and writes them for its engine (Polars locally, Spark on Databricks). Type checkers
see the parameterised narwhals classes. Dagster builds a type check from each annotation when the
code location loads and cannot use a subscripted generic, so at run time the names are plain
classes standing in for narwhals': their ``isinstance`` imports narwhals on first use, and
narwhals (~80 ms) loads with the first step that handles a frame rather than with every code
server, sensor tick and run worker.
"""

from typing import TYPE_CHECKING, Any

from mlops_assets.errors import StorageError

if TYPE_CHECKING:
    import narwhals as nw
    import polars as pl

    LazyFrame = nw.LazyFrame[Any]
    DataFrame = nw.DataFrame[Any]
    AnyFrame = nw.DataFrame[Any] | nw.LazyFrame[Any]
else:

    class _NarwhalsFrame(type):
        """Instances and subclasses are those of the narwhals class of the same name."""

        def __instancecheck__(cls, instance: object) -> bool:
            import narwhals as nw

            return isinstance(instance, getattr(nw, cls.__name__))

        def __subclasscheck__(cls, subclass: type) -> bool:
            import narwhals as nw

            return issubclass(subclass, getattr(nw, cls.__name__))

    class LazyFrame(metaclass=_NarwhalsFrame):
        """A narwhals LazyFrame over Polars or Spark."""

    class DataFrame(metaclass=_NarwhalsFrame):
        """A narwhals DataFrame (in memory)."""

    AnyFrame = DataFrame | LazyFrame


def to_polars(frame: object) -> "pl.DataFrame":
    """A ``polars.DataFrame`` from a Polars, narwhals or any narwhals-supported frame.

    For steps that must hold the data on the driver (model fitting, scoring a sample, reports);
    only the selected columns should reach it.
    """
    import narwhals as nw
    import polars as pl

    if isinstance(frame, pl.DataFrame):
        return frame
    if isinstance(frame, pl.LazyFrame):
        return frame.collect()
    if isinstance(frame, nw.LazyFrame):
        native = frame.to_native()
        if isinstance(native, pl.LazyFrame):
            return native.collect()
        return frame.collect(backend="polars").to_polars()
    if isinstance(frame, nw.DataFrame):
        native = frame.to_native()
        return native if isinstance(native, pl.DataFrame) else frame.to_polars()
    try:
        wrapped = nw.from_native(frame)  # type: ignore[call-overload]
    except TypeError as exc:
        raise StorageError(
            f"cannot turn a {type(frame).__name__} into a table",
            fix="return a Polars, narwhals or Spark frame from lakehouse assets",
        ) from exc
    return to_polars(wrapped)


def lazy(frame: object) -> LazyFrame:
    """Any supported frame as a narwhals LazyFrame (Polars stays lazy, Spark stays Spark)."""
    import narwhals as nw
    import polars as pl

    if isinstance(frame, nw.LazyFrame):
        return frame
    if isinstance(frame, nw.DataFrame):
        return frame.lazy()
    if isinstance(frame, pl.DataFrame | pl.LazyFrame):
        return nw.from_native(frame).lazy()
    return nw.from_native(frame).lazy()  # type: ignore[call-overload,no-any-return]


def row_count(frame: AnyFrame) -> int:
    """Rows of a frame (a lazy one is counted by its engine, not collected)."""
    import narwhals as nw

    if isinstance(frame, nw.DataFrame):
        return len(frame)
    counted = frame.select(nw.len()).collect()
    return int(counted.item(0, 0))


def is_polars(frame: AnyFrame) -> bool:
    """Whether ``frame`` runs on Polars (where a transform may take a Polars-only fast path)."""
    import narwhals as nw

    return bool(frame.implementation is nw.Implementation.POLARS)


def persist(frame: AnyFrame) -> LazyFrame:
    """Compute ``frame`` once so several readers (metadata, checks, the write) share the result.

    Polars collects it into memory; Spark caches it on the cluster (nothing reaches the driver).
    """
    import narwhals as nw
    import polars as pl

    native = frame.to_native()
    if isinstance(native, pl.LazyFrame):
        return nw.from_native(native.collect()).lazy()
    if isinstance(native, pl.DataFrame):
        return nw.from_native(native).lazy()
    cache = getattr(native, "cache", None)
    if callable(cache):  # pyspark (classic and Connect)
        cached: LazyFrame = nw.from_native(cache()).lazy()
        return cached
    return frame.lazy() if isinstance(frame, nw.DataFrame) else frame
