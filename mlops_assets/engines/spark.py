"""Local Spark sessions (classic and Spark Connect) and Arrow conversion to and from Polars.

pyspark is imported inside the functions, so importing this module stays fast and works without
Java. Sessions use the settings measured on this machine (see shared/STACK_NOTES.md): loopback
only, no UI, UTC session time zone, as many shuffle partitions as cores (the default of 200 makes
every small join or group-by slow). The transforms themselves never import this module: they take
``narwhals.LazyFrame`` and ``nw.from_native(spark_df)`` is all a Spark caller needs.

The session time zone must be "UTC" for the transforms: narwhals maps ``Datetime("us", "UTC")`` to
Spark's TIMESTAMP only when it equals the session's zone (a cluster set to "Etc/UTC" is refused).
"""

import importlib.util
import os
import shutil
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import polars as pl
import pyarrow as pa

from mlops_assets.errors import EngineError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame as SparkDataFrame
    from pyspark.sql import SparkSession

SparkKind = Literal["classic", "connect"]

DEFAULT_MASTER = "local[2]"
LOCAL_IP = "127.0.0.1"
_PYSPARK_FIX = (
    "install the project's dependencies (`uv sync`; they pin `pyspark[connect]==4.3.0`), "
    "or `pip install 'pyspark[connect]==4.3.0'`"
)


_CONNECT_MODULES = ("grpc", "grpc_status", "google.protobuf", "zstandard")


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package is missing or was blocked
        return False


def _java_home() -> Path | None:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return Path(home)
    java = shutil.which("java")
    return Path(java).resolve().parent.parent if java else None


def check_spark_available(kind: SparkKind = "classic") -> None:
    """Raise EngineError (with a fix) unless pyspark, its Connect extras and Java are present."""
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise EngineError(
            "pyspark is not installed", context={"error": str(exc)}, fix=_PYSPARK_FIX
        ) from exc
    if kind == "connect":
        missing = [m for m in _CONNECT_MODULES if not _importable(m)]
        if missing:
            raise EngineError(
                "the Spark Connect client needs the `pyspark[connect]` extras",
                context={"missing_modules": missing},
                fix=_PYSPARK_FIX,
            )
    if _java_home() is None:
        raise EngineError(
            "Spark needs a Java runtime and none was found",
            context={"JAVA_HOME": os.environ.get("JAVA_HOME"), "PATH": os.environ.get("PATH")},
            fix="install Java 17 (e.g. `apt-get install openjdk-17-jre-headless`) and put `java` "
            "on PATH or set JAVA_HOME",
        )


def spark_conf(
    master: str = DEFAULT_MASTER, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The session settings used for local runs (``extra`` overrides any of them)."""
    cores = master.removeprefix("local[").removesuffix("]")
    partitions = cores if cores.isdigit() else "2"
    conf = {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.host": LOCAL_IP,
        "spark.driver.bindAddress": LOCAL_IP,
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": partitions,
        "spark.default.parallelism": partitions,
        "spark.sql.execution.arrow.pyspark.enabled": "true",
    }
    conf.update(extra or {})
    return conf


def get_spark(
    kind: SparkKind = "classic",
    *,
    master: str = DEFAULT_MASTER,
    app_name: str = "mlops_assets",
    conf: Mapping[str, str] | None = None,
) -> "SparkSession":
    """Get or create a local Spark session: classic PySpark or a Spark Connect session.

    Only one kind can live in a process at a time (a local Spark Connect server runs inside the
    classic driver): an active session of the other kind is stopped first.
    """
    check_spark_available(kind)
    os.environ.setdefault("SPARK_LOCAL_IP", LOCAL_IP)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    settings = spark_conf(master, conf)
    from pyspark.sql import SparkSession

    current = SparkSession.getActiveSession()
    if current is not None and is_connect(current) != (kind == "connect"):
        stop_spark(current)
    builder: Any = SparkSession.builder.appName(app_name)
    builder = builder.remote(master) if kind == "connect" else builder.master(master)
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        with warnings.catch_warnings():
            # The Connect client re-applies every option to its session: static ones (UI, driver
            # address) are refused with a warning, although the local server already has them.
            warnings.filterwarnings("ignore", message="Failed to set spark", category=UserWarning)
            session: SparkSession = builder.getOrCreate()
    except Exception as exc:  # the JVM or the Connect server did not come up
        raise EngineError(
            f"could not start a local {kind} Spark session",
            context={"master": master, "error": f"{type(exc).__name__}: {exc}"[:500]},
            fix="check that Java 17 works (`java -version`), that 127.0.0.1 is reachable, and "
            "that no other Spark session of another kind is running in this process",
        ) from exc
    if kind == "classic":
        session.sparkContext.setLogLevel("ERROR")
    return session


def is_connect(session: Any) -> bool:
    """Whether ``session`` (or a DataFrame's session) is a Spark Connect one."""
    return type(session).__module__.startswith("pyspark.sql.connect")


def stop_spark(session: "SparkSession") -> None:
    """Stop a session (for a local Spark Connect session, its in-process server too)."""
    session.stop()


def _spark_compatible(table: pa.Table) -> pa.Table:
    """Arrow types Spark reads: view/large strings and binaries become plain ones."""
    fields = []
    for field in table.schema:
        t = field.type
        if pa.types.is_string_view(t) or pa.types.is_large_string(t):
            t = pa.string()
        elif pa.types.is_binary_view(t) or pa.types.is_large_binary(t):
            t = pa.binary()
        fields.append(pa.field(field.name, t, field.nullable))
    return table.cast(pa.schema(fields))


def to_spark(frame: pl.DataFrame, spark: "SparkSession") -> "SparkDataFrame":
    """A Spark DataFrame with ``frame``'s rows, through Arrow (timestamps keep their instant)."""
    if any(dtype == pl.Null for dtype in frame.dtypes):
        nulls = [name for name, dtype in frame.schema.items() if dtype == pl.Null]
        raise EngineError(
            "columns of type Null have no Spark type",
            context={"columns": nulls},
            fix="cast them to the intended type first, e.g. pl.col(name).cast(pl.String)",
        )
    table = _spark_compatible(frame.to_arrow(compat_level=pl.CompatLevel.oldest()))
    return spark.createDataFrame(table)


def to_polars(frame: "SparkDataFrame") -> pl.DataFrame:
    """Collect a Spark DataFrame into Polars through Arrow (timestamps in the session time zone)."""
    result = pl.from_arrow(frame.toArrow())
    assert isinstance(result, pl.DataFrame)
    return result
