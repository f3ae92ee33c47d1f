"""Local Spark sessions (classic and Spark Connect) and Arrow conversion to and from Polars.

pyspark is imported inside the functions, so importing this module stays fast and works without
Java. Local sessions use the settings measured on this machine (see shared/STACK_NOTES.md):
loopback only, no UI, UTC session time zone, as many shuffle partitions as cores (the default of
200 makes every small join or group-by slow). :func:`connect_remote` opens a Spark Connect session
to a running server instead (Sail in the tests; Databricks speaks the same protocol), which needs
no Java on this side. The transforms themselves never import this module: they take
``narwhals.LazyFrame`` and ``nw.from_native(spark_df)`` is all a Spark caller needs.

The session time zone must be "UTC" for the transforms: narwhals maps ``Datetime("us", "UTC")`` to
Spark's TIMESTAMP only when it equals the session's zone (a cluster set to "Etc/UTC" is refused).
"""

import contextlib
import importlib.util
import os
import shutil
import socket
import sys
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
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


def check_spark_available(kind: SparkKind = "classic", *, need_java: bool = True) -> None:
    """Raise EngineError (with a fix) unless pyspark, its Connect extras and Java are present.

    ``need_java=False``: a client of a remote Spark Connect server runs no JVM of its own.
    """
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
    if need_java and _java_home() is None:
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


@contextlib.contextmanager
def _ephemeral_connect_port(local_connect: bool) -> Iterator[None]:
    """While a local Spark Connect server starts, let it bind an ephemeral port.

    PySpark binds a local server to the fixed port 15002 and connects to ``sc://localhost``
    unless ``SPARK_TESTING`` is set, in which case the server takes a free port and the client
    asks the driver JVM which one (SPARK-42272). Without it, two processes on one machine (two
    Dagster step processes, two test workers) cannot each run a local Connect server. The
    variable is set only for the start (it also turns the Spark UI off) and then restored.
    """
    if not local_connect or "SPARK_TESTING" in os.environ:
        yield
        return
    os.environ["SPARK_TESTING"] = "1"
    try:
        yield
    finally:
        os.environ.pop("SPARK_TESTING", None)


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
    if current is not None and _is_remote(current):
        raise EngineError(
            "a Spark Connect session to a remote server is active in this process",
            context={"wanted": f"local {kind} session"},
            fix="stop it with stop_spark(session) first: a process talks Spark Connect or "
            "classic Spark, one at a time",
        )
    if current is not None and is_connect(current) != (kind == "connect"):
        stop_spark(current)
    if kind == "classic":
        _leave_connect_mode()
    builder: Any = SparkSession.builder.appName(app_name)
    builder = builder.remote(master) if kind == "connect" else builder.master(master)
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        with warnings.catch_warnings(), _ephemeral_connect_port(kind == "connect"):
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


def connect_remote(
    url: str,
    *,
    conf: Mapping[str, str] | None = None,
    timeout_s: float = 60.0,
) -> "SparkSession":
    """A new Spark Connect session to a running server (``sc://host:port``: Sail, a cluster).

    Unlike :func:`get_spark` it never reuses another session: ``getOrCreate`` would hand back
    whatever Connect session is already active in the process, whatever its URL. A local session
    that is active (classic or Connect) is stopped first, as :func:`get_spark` does for the other
    kind. While the remote session lives the process is in Connect mode (no classic session);
    stop it with :func:`stop_spark`. The session
    time zone is UTC (see the module docstring) unless ``conf`` says otherwise. The first query
    is retried until ``timeout_s``: a server that has just opened its port may not serve
    sessions yet.
    """
    check_spark_available("connect", need_java=False)
    if not url.startswith("sc://"):
        raise EngineError(
            f"{url!r} is not a Spark Connect URL",
            context={"url": url},
            fix="pass sc://host:port (for a local Spark use get_spark instead)",
        )
    from pyspark.sql import SparkSession

    current = SparkSession.getActiveSession()
    if current is not None and not _is_remote(current):
        stop_spark(current)  # a local session (classic or Connect): one kind per process
    settings = {"spark.sql.session.timeZone": "UTC", **dict(conf or {})}
    deadline = time.monotonic() + timeout_s
    _wait_for_port(url, deadline, timeout_s)  # the client would retry a closed port for minutes
    while True:
        builder: Any = SparkSession.builder.remote(url)
        session: SparkSession = builder.create()
        try:
            for key, value in settings.items():
                session.conf.set(key, value)
            session.range(1).collect()
            return session
        except Exception as exc:  # not serving yet, or refused
            session.stop()
            if time.monotonic() > deadline:
                raise EngineError(
                    f"the Spark Connect server at {url} did not answer within {timeout_s:.0f} s",
                    context={"url": url, "error": f"{type(exc).__name__}: {exc}"[:500]},
                    fix="start the server first (for the tests: `make sail`) and check its log",
                ) from exc
            time.sleep(0.2)


def _wait_for_port(url: str, deadline: float, timeout_s: float) -> None:
    """Poll ``sc://host:port`` until it accepts TCP connections (EngineError at the deadline)."""
    address = url.removeprefix("sc://").split("/", 1)[0]
    host, _, port = address.rpartition(":") if ":" in address else (address, "", "15002")
    while True:
        try:
            with socket.create_connection((host, int(port)), timeout=1.0):
                return
        except OSError as exc:
            if time.monotonic() > deadline:
                raise EngineError(
                    f"the Spark Connect server at {url} did not answer within {timeout_s:.0f} s",
                    context={"url": url, "error": f"{type(exc).__name__}: {exc}"[:500]},
                    fix="start the server first (for the tests: `make sail`) and check its log",
                ) from exc
            time.sleep(0.1)


def is_connect(session: Any) -> bool:
    """Whether ``session`` (or a DataFrame's session) is a Spark Connect one."""
    return type(session).__module__.startswith("pyspark.sql.connect")


def stop_spark(session: "SparkSession") -> None:
    """Stop a session (for a local Spark Connect session, its in-process server too).

    After the last remote Connect session stopped, the process may start classic sessions
    again (pyspark itself only resets that for local Connect sessions). A local Connect server
    leaves its authentication token in ``SPARK_CONNECT_AUTHENTICATE_TOKEN``, which every later
    Connect client would send (and, holding a token, speak TLS to a plaintext server): it goes
    with its server.
    """
    remote, local_connect = _is_remote(session), _is_local_connect(session)
    session.stop()
    if remote:
        _leave_connect_mode()
    if local_connect:  # its server's token must not be sent to the next (remote) server
        os.environ.pop("SPARK_CONNECT_AUTHENTICATE_TOKEN", None)


def _is_local_connect(session: Any) -> bool:
    """A Spark Connect session to a server inside this process (``get_spark("connect")``)."""
    return is_connect(session) and "SPARK_LOCAL_REMOTE" in os.environ


def _is_remote(session: Any) -> bool:
    """A Spark Connect session to a server outside this process (:func:`connect_remote`)."""
    return is_connect(session) and "SPARK_LOCAL_REMOTE" not in os.environ


def _leave_connect_mode() -> None:
    """Switch pyspark's process-wide Connect mode off when no Connect session is left.

    Creating any Connect session sets ``SPARK_CONNECT_MODE_ENABLED``, and while it is set every
    ``pyspark.sql.functions`` call builds Connect expressions and classic sessions refuse to
    start; stopping a remote session does not unset it.
    """
    if "SPARK_CONNECT_MODE_ENABLED" not in os.environ or "SPARK_LOCAL_REMOTE" in os.environ:
        return
    from pyspark.sql.connect.session import SparkSession as ConnectSession

    if ConnectSession.getActiveSession() is None:
        os.environ.pop("SPARK_CONNECT_MODE_ENABLED", None)


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


def quote(parts: Sequence[str]) -> str:
    """A (multi-part) Spark SQL identifier, every part in backticks: ``a.b`` -> ```a`.`b```."""
    return ".".join("`" + part.replace("`", "``") + "`" for part in parts)


def is_spark_frame(frame: object) -> bool:
    """Whether ``frame`` is a pyspark DataFrame (classic or Spark Connect)."""
    return type(frame).__module__.startswith("pyspark.sql") and hasattr(frame, "sparkSession")


def spark_frame(frame: object, spark: "SparkSession") -> "tuple[SparkDataFrame, int | None]":
    """Any supported frame as a Spark DataFrame of ``spark``, with Delta's integer widths.

    A Spark frame (bare or inside narwhals) stays on the cluster; a Polars (or other
    narwhals-supported) frame is sent through Arrow, and its row count is returned with it
    (None for a Spark frame: counting would compute it). Integers narrower than 64 bits and
    unsigned ones become 64-bit, as the local Delta writer stores them, so both lakehouses
    give a table the same types.
    """
    import narwhals as nw

    native: Any = frame.to_native() if isinstance(frame, nw.DataFrame | nw.LazyFrame) else frame
    if is_spark_frame(native):
        return _wide_integers(native), None
    from mlops_assets.engines.frames import to_polars as any_to_polars

    df = any_to_polars(frame)
    narrow = [n for n, t in df.schema.items() if t.is_integer() and t != pl.Int64]
    if narrow:
        df = df.with_columns(pl.col(*narrow).cast(pl.Int64))
    return to_spark(df, spark), df.height


def _wide_integers(df: "SparkDataFrame") -> "SparkDataFrame":
    from pyspark.sql import functions as F  # noqa: N812
    from pyspark.sql.types import ByteType, IntegerType, LongType, ShortType

    narrow = (ByteType, ShortType, IntegerType)
    if not any(isinstance(f.dataType, narrow) for f in df.schema.fields):
        return df
    return df.select(
        *[
            F.col(quote([f.name])).cast(LongType()).alias(f.name)
            if isinstance(f.dataType, narrow)
            else F.col(quote([f.name]))
            for f in df.schema.fields
        ]
    )
