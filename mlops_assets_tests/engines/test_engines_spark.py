"""Local Spark sessions and the Arrow round trip between Polars and Spark."""

import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, cast

import narwhals as nw
import polars as pl
import pytest

from mlops_assets.engines import as_lazy, collect_polars, get_spark, lazy, to_polars, to_spark
from mlops_assets.engines.spark import check_spark_available, is_connect
from mlops_assets.errors import EngineError
from mlops_assets_tests.engines.engines_helpers import assert_same_rows

Spark = tuple[str, Any]

EVERY_TYPE = pl.DataFrame(
    {
        "s": ["a", "é 🙂", "", None],
        "i": [0, -(2**63), 2**63 - 1, None],
        "f": [1.5, float("nan"), float("-inf"), None],
        "b": [True, False, None, True],
        "d": [date(2026, 1, 1), date(1, 1, 1), date(9999, 12, 31), None],
        "t": [
            datetime(2026, 1, 1, 0, 7, 12, 584997, tzinfo=UTC),
            datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
            datetime(1, 1, 1, tzinfo=UTC),
            None,
        ],
    },
    schema={
        "s": pl.String,
        "i": pl.Int64,
        "f": pl.Float64,
        "b": pl.Boolean,
        "d": pl.Date,
        "t": pl.Datetime("us", "UTC"),
    },
)


def test_no_java_is_an_engine_error_with_a_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no `java` anywhere on it
    with pytest.raises(EngineError, match="Java runtime") as info:
        check_spark_available("classic")
    assert info.value.fix is not None and "JAVA_HOME" in info.value.fix


def test_missing_pyspark_is_an_engine_error_with_a_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)  # `import pyspark` raises ImportError
    with pytest.raises(EngineError, match="pyspark is not installed") as info:
        get_spark("classic")
    assert info.value.fix is not None and "pyspark[connect]" in info.value.fix


def test_missing_connect_extras_is_an_engine_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "grpc", None)
    check_spark_available("classic")  # classic Spark does not need them
    with pytest.raises(EngineError, match=r"pyspark\[connect\]"):
        check_spark_available("connect")


def test_null_typed_columns_are_refused_before_spark_is_touched() -> None:
    frame = pl.DataFrame({"a": [1, 2], "nothing": [None, None]})
    with pytest.raises(EngineError, match="Null") as info:
        to_spark(frame, cast(Any, None))
    assert info.value.context["columns"] == ["nothing"]


def test_polars_engine_is_a_lazy_polars_frame() -> None:
    frame = as_lazy(EVERY_TYPE, "polars")
    assert isinstance(frame.to_native(), pl.LazyFrame)
    assert collect_polars(frame).equals(EVERY_TYPE)
    assert collect_polars(lazy(EVERY_TYPE).collect()).equals(EVERY_TYPE)


@pytest.mark.spark
@pytest.mark.slow
def test_session_settings(engines_spark: Spark) -> None:
    name, spark = engines_spark
    assert is_connect(spark) == (name == "spark_connect")
    assert get_spark("connect" if is_connect(spark) else "classic") is spark  # reused, not new
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    assert spark.conf.get("spark.sql.shuffle.partitions") == "2"
    assert spark.conf.get("spark.ui.enabled") == "false"


@pytest.mark.spark
@pytest.mark.slow
def test_arrow_round_trip_keeps_values_and_types(engines_spark: Spark) -> None:
    name, spark = engines_spark
    frame = EVERY_TYPE.with_columns(
        pl.col("t").dt.convert_time_zone("Asia/Kolkata").alias("t_local")
    )
    sdf = to_spark(frame, spark)
    assert [f.dataType.typeName() for f in sdf.schema.fields] == [
        "string",
        "long",
        "double",
        "boolean",
        "date",
        "timestamp",
        "timestamp",
    ]
    back = to_polars(sdf)
    assert back.schema["t"] == pl.Datetime("us", "UTC")
    expected = frame.with_columns(pl.col("t_local").dt.convert_time_zone("UTC"))
    assert back.equals(expected)  # same instants; NaN, infinities, extremes and nulls intact
    assert collect_polars(as_lazy(frame, cast(Any, name), spark=spark)).equals(expected)
    lazy_spark = nw.from_native(sdf)  # narwhals wraps a Spark DataFrame as a LazyFrame
    assert isinstance(lazy_spark, nw.LazyFrame)
    kept = collect_polars(lazy_spark.filter(nw.col("i") >= 0))
    assert kept.height == 2
    assert_same_rows(expected.filter(pl.col("i") >= 0), kept)
