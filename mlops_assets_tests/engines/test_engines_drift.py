"""Drift statistics on a Spark DataFrame equal the Polars ones (only the profiled columns move)."""

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from mlops_assets.config.monitoring import DriftConfig
from mlops_assets.engines import to_spark
from mlops_assets.monitoring.drift_check import DriftOutcome, check_drift
from mlops_assets.monitoring.profile import build_profile
from mlops_assets.monitoring.spark_drift import compute_drift_spark
from mlops_assets.monitoring.statistics import compute_drift

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def test_compute_drift_on_spark_matches_polars(engines_spark: tuple[str, Any]) -> None:
    _, spark = engines_spark
    rng = np.random.default_rng(7)
    n = 3_000
    reference = pl.DataFrame(
        {
            "x": rng.normal(0, 1, n),
            "y": rng.lognormal(0, 1, n),
            "c": rng.choice(["a", "b", "c"], n).tolist(),
        }
    )
    current = pl.DataFrame(
        {
            "x": rng.normal(0.4, 1, n),  # shifted
            "y": rng.lognormal(0, 1, n),
            "c": rng.choice(["a", "b", "c"], n, p=[0.6, 0.2, 0.2]).tolist(),  # shifted
            "unused": rng.normal(0, 1, n),
        }
    )
    config = DriftConfig()
    profile = build_profile(reference, ["x", "y"], ["c"], config, seed=1)
    on_polars = compute_drift(current, profile, config)
    on_spark = compute_drift(to_spark(current, spark), profile, config)
    assert on_spark.status == on_polars.status
    assert on_spark.drift_share == on_polars.drift_share
    assert on_spark.n_current == n
    for a, b in zip(on_spark.columns, on_polars.columns, strict=True):
        assert (a.column, a.method, a.drifted) == (b.column, b.method, b.drifted)
        assert a.statistic == pytest.approx(b.statistic, rel=1e-12)
    assert {c.column for c in on_spark.columns if c.drifted} == {"x", "c"}


def test_the_drift_check_dispatches_a_spark_frame_to_the_spark_aggregates(
    engines_spark: tuple[str, Any], tmp_path: Path
) -> None:
    """``check_drift`` (what the drift asset runs) on a Spark frame uses ``compute_drift_spark``:
    its result is the aggregates' one, and the verdicts are the exact engine's on the same data,
    every statistic within its stated bound."""
    _, spark = engines_spark
    rng = np.random.default_rng(11)
    n = 4_000
    reference = pl.DataFrame(
        {"x": rng.normal(0, 1, n), "c": rng.choice(["a", "b", "c"], n).tolist()}
    )
    current = pl.DataFrame(
        {
            "x": rng.normal(0.5, 1, n),  # shifted
            "c": rng.choice(["a", "b", "c"], n).tolist(),  # not shifted
            "unused": rng.normal(0, 1, n),
        }
    )
    config = DriftConfig()
    profile = build_profile(reference, ["x"], ["c"], config, seed=1)
    frame = to_spark(current, spark)

    def check(features: object, where: Path) -> DriftOutcome:
        return check_drift(
            features,
            None,
            reference=profile,
            prediction_profile=None,
            config=config,
            window="2026-01-01",
            model_version="1",
            reports_dir=where,
            render_report=False,
        )

    on_spark = check(frame, tmp_path / "spark")
    on_polars = check(current, tmp_path / "polars")
    aggregates = compute_drift_spark(frame.select("x", "c"), profile, config)
    assert on_spark.inputs == aggregates.result  # the Spark path, not a collect to Polars
    assert on_spark.inputs.n_current == n
    # one of the two inputs drifted: a share of 0.5 reaches the default drift_share (0.5)
    assert on_spark.inputs.status == on_polars.inputs.status == "drift"
    for got, exact in zip(on_spark.inputs.columns, on_polars.inputs.columns, strict=True):
        assert (got.column, got.method, got.drifted) == (exact.column, exact.method, exact.drifted)
        bound = aggregates.bounds[got.column]
        assert exact.statistic is not None
        assert bound.low - 1e-12 <= exact.statistic <= bound.high + 1e-12
    assert {c.column for c in on_spark.inputs.columns if c.drifted} == {"x"}
    assert on_spark.window.drifted_columns == on_polars.window.drifted_columns == ["x"]
    assert on_spark.report is None and on_polars.report is None
