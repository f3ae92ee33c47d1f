"""Drift from Spark aggregates against the exact engine, on the same data and reference profile.

Exact methods (PSI, Jensen-Shannon, chi-square, Z-test) must equal the exact engine to 1e-9
relative; Wasserstein and KS must lie inside the interval the aggregates give (the stated bound:
bin width for Wasserstein, the largest cell mass for KS's D) and reach the same verdict.
"""

from collections.abc import Iterator
from typing import Any

import narwhals as nw
import numpy as np
import polars as pl
import pytest

from mlops_assets.config.monitoring import ColumnDriftConfig, DriftConfig
from mlops_assets.errors import MonitoringError, SchemaMismatchError
from mlops_assets.monitoring.profile import ReferenceProfile, build_profile
from mlops_assets.monitoring.schema import DriftResult
from mlops_assets.monitoring.spark_drift import (
    SparkDriftResult,
    SparkDriftSettings,
    compute_drift_spark,
)
from mlops_assets.monitoring.statistics import compute_drift
from mlops_assets_tests.monitoring.conftest import CATEGORICAL, NUMERIC, make_frame

pytestmark = [pytest.mark.spark, pytest.mark.slow]
EXACT_REL = 1e-9
SLACK = 1e-12  # rounding of a sum in another order


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    """A local classic Spark (the tests need percentile_approx, which Sail lacks)."""
    from mlops_assets.engines.spark import get_spark, stop_spark

    session = get_spark("classic")
    yield session
    stop_spark(session)


def _both(
    spark: Any,
    current: pl.DataFrame,
    profile: ReferenceProfile,
    config: DriftConfig,
    settings: SparkDriftSettings | None = None,
) -> tuple[DriftResult, SparkDriftResult]:
    from mlops_assets.engines.spark import to_spark

    exact = compute_drift(current, profile, config)
    return exact, compute_drift_spark(to_spark(current, spark), profile, config, settings)


def _assert_agrees(exact: DriftResult, got: SparkDriftResult) -> None:
    """Same methods and verdicts; exact statistics equal, the others inside their interval."""
    assert got.result.status == exact.status
    assert got.result.n_current == exact.n_current
    assert got.result.drift_share == exact.drift_share
    for want, have in zip(exact.columns, got.result.columns, strict=True):
        bound = got.bounds[want.column]
        assert (have.column, have.method, have.drifted) == (want.column, want.method, want.drifted)
        assert want.statistic is not None and have.statistic is not None
        if bound.exact:
            assert have.statistic == pytest.approx(want.statistic, rel=EXACT_REL, abs=1e-15)
        else:
            assert bound.low - SLACK <= want.statistic <= bound.high + SLACK, want.column
            assert bound.certain(have.threshold), f"{want.column} verdict not certain: {bound}"


@pytest.fixture(scope="module")
def reference() -> pl.DataFrame:
    return make_frame(5_000, seed=1)


@pytest.mark.parametrize(
    "drift",
    [
        pytest.param({}, id="no_drift"),
        pytest.param(
            {"mean": 0.5, "scale": 1.3, "plan_mix": (0.2, 0.3, 0.5), "flag_p": 0.5}, id="drift"
        ),
    ],
)
def test_distances_agree_with_the_exact_engine(
    spark: Any, reference: pl.DataFrame, drift: dict[str, Any]
) -> None:
    config = DriftConfig()
    profile = build_profile(reference, NUMERIC, CATEGORICAL, config, seed=1)
    settings = SparkDriftSettings(bins=1000)
    exact, got = _both(spark, make_frame(20_000, seed=2, **drift), profile, config, settings)
    _assert_agrees(exact, got)
    assert {c.method for c in got.result.columns} == {"wasserstein", "jensenshannon"}
    assert got.result.status == ("drift" if drift else "ok")
    for column in ("num_normal", "num_skewed", "num_count"):  # Wasserstein: |error| <= w / std
        prof = profile.columns[column]
        assert prof.kind == "numeric"
        values = make_frame(20_000, seed=2, **drift)[column].drop_nans().drop_nulls()
        lo = min(prof.sample[0], float(values.min()))  # type: ignore[arg-type]
        hi = max(prof.sample[-1], float(values.max()))  # type: ignore[arg-type]
        width = (hi - lo) / settings.bins / max(prof.std, 0.001)
        bound = got.bounds[column]
        assert bound.high - bound.low <= 2 * width + SLACK
    assert got.driver_rows < settings.max_driver_rows


def test_window_features_on_incomplete_history_are_measured_but_not_counted(
    spark: Any, reference: pl.DataFrame
) -> None:
    """As in the exact engine: a window feature whose training period was shorter than its
    window is shown with its statistic and a note, and never counts towards the verdict."""
    config = DriftConfig()
    uncounted = ["num_count", "cat_plan"]
    profile = build_profile(reference, NUMERIC, CATEGORICAL, config, seed=1).model_copy(
        update={"incomplete_history": uncounted}
    )
    drifted = make_frame(5_000, seed=3, mean=0.5, scale=1.3, plan_mix=(0.2, 0.3, 0.5))
    exact, got = _both(spark, drifted, profile, config)
    _assert_agrees(exact, got)
    by_name = {c.column: c for c in got.result.columns}
    for name in uncounted:
        column = by_name[name]
        assert column.statistic is not None and column.statistic >= column.threshold, name
        assert not column.drifted and (column.note or "").startswith("not counted"), name
        assert column.note == exact.column(name).note
    assert not set(uncounted) & set(got.result.drifted_columns)
    counted = [c for c in got.result.columns if c.column not in uncounted]
    assert got.result.drift_share == sum(c.drifted for c in counted) / len(got.result.columns)


def test_p_value_tests_on_a_small_reference_agree(spark: Any) -> None:
    """800 reference rows: KS, chi-square and the Z-test (current > 10,000 rows: scipy's rule)."""
    config = DriftConfig()
    profile = build_profile(make_frame(800, seed=4), NUMERIC, CATEGORICAL, config, seed=4)
    scenarios: list[dict[str, Any]] = [
        {},
        {"mean": 0.3, "plan_mix": (0.4, 0.3, 0.3), "flag_p": 0.45},
    ]
    for kwargs in scenarios:
        exact, got = _both(spark, make_frame(12_000, seed=5, **kwargs), profile, config)
        _assert_agrees(exact, got)
        assert {c.method for c in got.result.columns} == {"ks", "chisquare", "ztest"}


def test_psi_and_histogram_jensen_shannon_are_exact(spark: Any, reference: pl.DataFrame) -> None:
    per_column = {
        "num_normal": ColumnDriftConfig(method="psi"),
        "num_skewed": ColumnDriftConfig(method="jensenshannon"),  # Sturges histogram
        "num_count": ColumnDriftConfig(method="jensenshannon"),  # integers: Sturges widths >= 1
        "num_lowcard": ColumnDriftConfig(method="jensenshannon"),  # on the value counts
        "num_binary": ColumnDriftConfig(method="psi"),
        "cat_plan": ColumnDriftConfig(method="psi"),
        "cat_region": ColumnDriftConfig(method="chisquare"),
        "cat_flag": ColumnDriftConfig(method="ztest"),
    }
    config = DriftConfig(per_column=per_column)
    profile = build_profile(reference.drop_nulls(), NUMERIC, CATEGORICAL, config, seed=1)
    current = make_frame(15_000, seed=6, mean=0.2, null_share=0.0)
    exact, got = _both(spark, current, profile, config)
    _assert_agrees(exact, got)
    assert all(b.exact for b in got.bounds.values())


def test_unseen_values_missing_values_and_categories(spark: Any) -> None:
    rng = np.random.default_rng(9)
    n_ref, n_cur = 3_000, 12_000
    reference = pl.DataFrame(
        {
            "few": rng.integers(0, 3, n_ref).astype(np.float64),
            "few_js": rng.integers(0, 4, n_ref),
            "x": rng.normal(0, 1, n_ref),
            "c": rng.choice(["a", "b", "c"], n_ref),
            "ids": rng.choice(["k1", "k2"], n_ref),
        }
    )
    x: list[float | None] = rng.normal(0.05, 1, n_cur).tolist()
    x[:300] = [float("nan")] * 300
    x[300:310] = [float("inf")] * 10
    x[310:400] = [None] * 90
    current = pl.DataFrame(
        {
            "few": rng.integers(0, 12, n_cur).astype(np.float64),  # 9 unseen values
            "few_js": rng.integers(0, 5, n_cur),  # one unseen value
            "x": pl.Series(x, dtype=pl.Float64),
            "c": rng.choice(["a", "b", "c", "d"], n_cur, p=[0.3, 0.3, 0.3, 0.1]),
            "ids": [f"new-{i}" for i in range(n_cur)],  # 12,000 distinct unseen categories
        },
        strict=False,
    )
    config = DriftConfig(per_column={"few": ColumnDriftConfig(method="jensenshannon")})
    profile = build_profile(reference, ["few", "few_js", "x"], ["c", "ids"], config, seed=3)
    exact, got = _both(spark, current, profile, config, SparkDriftSettings(bins=200))
    _assert_agrees(exact, got)
    assert got.result.column("ids").drifted and got.result.column("c").method == "jensenshannon"
    # Only aggregates reached the driver: 12,000 distinct ids were one bucket.
    assert got.driver_rows < 2_000


def test_too_many_aggregate_rows_is_refused_before_the_grouping(spark: Any) -> None:
    from mlops_assets.engines.spark import to_spark

    config = DriftConfig()
    frame = make_frame(2_000, seed=7)
    profile = build_profile(frame, NUMERIC, CATEGORICAL, config, seed=7)
    small = SparkDriftSettings(bins=5_000, max_driver_rows=1_000)
    with pytest.raises(MonitoringError, match="more than max_driver_rows") as info:
        compute_drift_spark(to_spark(frame, spark), profile, config, small)
    assert info.value.fix is not None and "bins" in info.value.fix


def test_few_rows_empty_columns_and_wrong_inputs(spark: Any) -> None:
    from mlops_assets.engines.spark import to_spark

    config = DriftConfig(min_rows=50)
    reference = pl.DataFrame({"x": np.arange(2_000, dtype=np.float64), "c": ["a", "b"] * 1_000})
    profile = build_profile(reference, ["x"], ["c"], config)
    few = reference.head(10)
    got = compute_drift_spark(nw.from_native(to_spark(few, spark)), profile, config)
    assert got.result == compute_drift(few, profile, config)  # insufficient_data
    empty = pl.DataFrame(
        {"x": [None] * 100, "c": ["a"] * 100}, schema={"x": pl.Float64, "c": pl.String}
    )
    exact, got_empty = _both(spark, empty, profile, config)
    assert got_empty.result.columns == exact.columns  # x: no valid value, flagged with a note
    with pytest.raises(SchemaMismatchError, match="needs a Spark DataFrame"):
        compute_drift_spark(reference, profile, config)
    with pytest.raises(SchemaMismatchError, match="profiled columns"):
        compute_drift_spark(to_spark(reference.select("x"), spark), profile, config)
    with pytest.raises(SchemaMismatchError, match="non-numeric"):
        wrong = reference.with_columns(pl.col("x").cast(pl.String))
        compute_drift_spark(to_spark(wrong, spark), profile, config)
