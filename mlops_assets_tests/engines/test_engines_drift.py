"""Drift statistics on a Spark DataFrame equal the Polars ones (only the profiled columns move)."""

from typing import Any

import numpy as np
import polars as pl
import pytest

from mlops_assets.config.monitoring import DriftConfig
from mlops_assets.engines import to_spark
from mlops_assets.monitoring.profile import build_profile
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
