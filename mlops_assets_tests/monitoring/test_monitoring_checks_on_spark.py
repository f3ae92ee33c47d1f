"""The drift and performance checks run unchanged on Spark frames (what Databricks gives the
assets) and reach the same verdicts as on Polars; only bounded data reaches the driver."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from mlops_assets.config.monitoring import DriftConfig, PerformanceConfig
from mlops_assets.engines.frames import lazy
from mlops_assets.monitoring.drift_check import bounded_sample, check_drift, profiled
from mlops_assets.monitoring.performance_check import check_performance
from mlops_assets.monitoring.profile import build_profile
from mlops_assets.monitoring.spark_drift import compute_drift_spark
from mlops_assets.monitoring.statistics import compute_drift
from mlops_assets_tests.monitoring.conftest import CATEGORICAL, NUMERIC, make_frame

pytestmark = [pytest.mark.spark, pytest.mark.slow]
CONFIG = DriftConfig(report_sample_size=600)


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    """A local classic Spark session for this module (skipped where Java is missing)."""
    from mlops_assets.engines.spark import check_spark_available, get_spark, stop_spark
    from mlops_assets.errors import EngineError

    try:
        check_spark_available("classic")
    except EngineError as exc:
        pytest.skip(f"no local Spark here: {exc.message}")
    session = get_spark("classic")
    yield session
    stop_spark(session)


def test_drift_on_spark_frames_equals_polars(spark: Any, tmp_path: Path) -> None:
    from mlops_assets.engines.spark import to_spark

    reference = build_profile(make_frame(3_000, seed=1), NUMERIC, CATEGORICAL, CONFIG)
    current = make_frame(2_500, seed=2, mean=0.4, plan_mix=(0.3, 0.3, 0.4)).with_columns(
        pl.lit("not a model input").alias("note")
    )
    on_polars = compute_drift(current, reference, CONFIG)  # the verdict of record, locally
    on_spark = check_drift(
        lazy(to_spark(current, spark)),
        None,
        reference=reference,
        prediction_profile=None,
        config=CONFIG,
        window="2026-03-05",
        model_version="2",
        reports_dir=tmp_path,
    )
    assert on_spark.inputs.status == on_polars.status == "drift"
    assert on_spark.window.n_current == 2_500
    # on Spark the statistics come from cluster aggregates: exact ones equal, the binned ones
    # (Wasserstein, KS) hold the exact value inside their stated bound, with a certain verdict
    aggregates = compute_drift_spark(
        profiled(to_spark(current, spark), reference), reference, CONFIG
    )
    assert on_spark.inputs == aggregates.result
    for ours, theirs in zip(on_spark.inputs.columns, on_polars.columns, strict=True):
        assert (ours.column, ours.method, ours.drifted) == (
            theirs.column,
            theirs.method,
            theirs.drifted,
        )
        bound = aggregates.bounds[ours.column]
        assert theirs.statistic is not None
        if bound.exact:
            assert ours.statistic == pytest.approx(theirs.statistic, rel=1e-9)
        else:
            assert bound.low - 1e-12 <= theirs.statistic <= bound.high + 1e-12, ours.column
    assert on_spark.report is not None and on_spark.report.stat().st_size > 10_000
    sample = bounded_sample(to_spark(current, spark), ["num_normal", "cat_plan"], 600, seed=1)
    assert sample.columns == ["num_normal", "cat_plan"] and 0 < sample.height <= 600


def test_performance_on_spark_frames_equals_polars(spark: Any) -> None:
    from mlops_assets.engines.spark import to_spark

    rng = np.random.default_rng(3)
    n = 800
    start = datetime(2026, 3, 1, tzinfo=UTC)
    keys: dict[str, list[Any]] = {
        "customer_id": [f"C{i:04d}" for i in range(n)],
        "event_ts": [start + timedelta(minutes=i) for i in range(n)],
    }
    churn = rng.random(n) < 0.3
    probability = 1 / (1 + np.exp(-(np.where(churn, 1.0, -1.0) + rng.normal(0, 1, n))))
    predictions = pl.DataFrame(
        {
            **keys,
            "prediction": np.where(probability >= 0.5, "Yes", "No"),
            "probability": probability,
        }
    )
    labels = pl.DataFrame({**keys, "churn": np.where(churn, "Yes", "No")}).head(600)
    args: dict[str, Any] = {
        "keys": ["customer_id", "event_ts"],
        "label_column": "churn",
        "task": "classification",
        "baseline": {"roc_auc": 0.8},
        "config": PerformanceConfig(min_labelled_rows=100),
        "window": "2026-03-05",
        "model_version": "2",
        "positive_label": "Yes",
    }
    on_polars = check_performance(lazy(labels), lazy(predictions), **args)
    on_spark = check_performance(
        lazy(to_spark(labels, spark)), lazy(to_spark(predictions, spark)), **args
    )
    assert on_spark.window.n_labelled == on_polars.window.n_labelled == 600
    assert on_spark.window.labels_received == 600
    assert on_spark.window.status == on_polars.window.status
    assert on_spark.window.metrics == pytest.approx(on_polars.window.metrics, rel=1e-12)
