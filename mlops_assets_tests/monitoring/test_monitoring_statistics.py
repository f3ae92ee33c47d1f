"""Drift detection behaviour: real shifts are found, resamples are not, edge cases are explicit."""

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from mlops_assets.config.monitoring import ColumnDriftConfig, DriftConfig
from mlops_assets.errors import ConfigError, SchemaMismatchError
from mlops_assets.monitoring.profile import ReferenceProfile, build_profile
from mlops_assets.monitoring.statistics import compute_drift, compute_drift_frames
from mlops_assets_tests.monitoring.conftest import CATEGORICAL, NUMERIC, make_frame

CONFIG = DriftConfig()


@pytest.fixture(scope="module")
def large_profile() -> ReferenceProfile:
    """A 20,000-row training frame: distances (Wasserstein / Jensen-Shannon)."""
    return build_profile(make_frame(20_000, seed=0), NUMERIC, CATEGORICAL, CONFIG, seed=0)


@pytest.fixture(scope="module")
def small_profile() -> ReferenceProfile:
    """A 600-row training frame: p-value tests (KS / chi-square / Z)."""
    return build_profile(make_frame(600, seed=0), NUMERIC, CATEGORICAL, CONFIG, seed=0)


@pytest.mark.parametrize("size", ["large", "small"])
@pytest.mark.parametrize(
    ("shift", "drifting"),
    [
        ({"mean": 0.5}, {"num_normal", "num_skewed", "num_count"}),
        ({"scale": 1.8}, {"num_normal", "num_skewed"}),
        ({"plan_mix": (0.2, 0.3, 0.5), "flag_p": 0.6}, {"cat_plan", "cat_flag"}),
    ],
    ids=["mean_shift", "variance_change", "category_mix"],
)
def test_synthetic_shifts_are_detected(
    request: pytest.FixtureRequest, size: str, shift: dict[str, object], drifting: set[str]
) -> None:
    profile = request.getfixturevalue(f"{size}_profile")
    current = make_frame(2_000, seed=11, **shift)  # type: ignore[arg-type]
    result = compute_drift(current, profile, CONFIG)
    assert drifting <= set(result.drifted_columns), result.to_markdown()
    # Unchanged columns stay quiet (with a small reference, only those under two-sample tests:
    # Evidently's chi-square over-flags then, see the false-positive test below).
    unchanged = {"num_binary"} if size == "small" else {"num_lowcard", "num_binary", "cat_region"}
    assert not unchanged & set(result.drifted_columns), result.to_markdown()


def _false_positive_rates(n_reference: int, n_current: int) -> tuple[dict[str, float], int]:
    """Share of 50 seeded (reference, current) pairs from one distribution flagged per column,
    and how many pairs were called dataset drift. Both sides are redrawn: a false-positive
    rate is a property of the test, not of one lucky or unlucky reference."""
    flags: dict[str, list[bool]] = {}
    dataset_flags = 0
    for seed in range(100, 150):
        reference = make_frame(n_reference, seed=10_000 + seed)
        result = compute_drift_frames(
            reference, make_frame(n_current, seed=seed), NUMERIC, CATEGORICAL
        )
        for col in result.columns:
            flags.setdefault(col.column, []).append(col.drifted)
        dataset_flags += result.dataset_drift
    return {k: float(np.mean(v)) for k, v in flags.items()}, dataset_flags


def test_resamples_are_not_flagged_with_distances() -> None:
    """Normalised Wasserstein / Jensen-Shannon at 0.1 sit far above the sampling noise of
    5,000 vs 2,000 rows: no column of 50 resamples is flagged."""
    rates, dataset_flags = _false_positive_rates(5_000, 2_000)
    assert dataset_flags == 0
    assert max(rates.values()) == 0.0, rates


@pytest.fixture(scope="module")
def small_reference_rates() -> dict[str, float]:
    """False-positive rates with 600-row references (p-value tests) and 2,000-row windows."""
    return _false_positive_rates(600, 2_000)[0]


def test_resamples_with_two_sample_tests_stay_near_the_significance_level(
    small_reference_rates: dict[str, float],
) -> None:
    """KS (3 columns) and the Z-test (2 columns) are two-sample tests: ~5% false positives."""
    two_sample = ["num_normal", "num_skewed", "num_count", "num_binary", "cat_flag"]
    pooled = float(np.mean([small_reference_rates[c] for c in two_sample]))
    # 250 column-tests at alpha 0.05: expected 12.5 flags (sd ~3.4); allow up to 10%.
    assert pooled <= 0.10, small_reference_rates


def test_evidently_chisquare_overflags_small_references(
    small_reference_rates: dict[str, float],
) -> None:
    """Evidently's chi-square takes the reference shares as exact (a goodness-of-fit test), so
    the reference's own sampling noise inflates the statistic by about f = 1 + n_cur / n_ref.
    We keep the definition for parity and measure the consequence: the false-positive rate is
    P(chi2_df > crit / f), not 5%. Hence: prefer references above 1,000 rows (distances)."""
    from scipy import stats

    for name, k, n_ref in (("cat_plan", 3, 600), ("num_lowcard", 4, 600), ("cat_region", 6, 588)):
        inflation = 1 + 2_000 / n_ref
        expected = stats.chi2.sf(stats.chi2.ppf(0.95, k - 1) / inflation, k - 1)
        rate = small_reference_rates[name]
        assert rate == pytest.approx(expected, abs=0.2), (name, rate, expected)
        assert rate > 0.2


def test_too_few_rows_gives_no_verdict(large_profile: ReferenceProfile) -> None:
    result = compute_drift(make_frame(199, seed=3, mean=5.0), large_profile, CONFIG)
    assert result.status == "insufficient_data"
    assert result.columns == [] and not result.dataset_drift
    assert result.n_current == 199
    assert "199" in result.summary() and "199" in result.to_markdown()


def test_dataset_drift_uses_the_drift_share(large_profile: ReferenceProfile) -> None:
    current = make_frame(3_000, seed=12, plan_mix=(0.2, 0.3, 0.5), flag_p=0.6)  # 2 of 8 drift
    strict = compute_drift(current, large_profile, DriftConfig(drift_share=0.25))
    loose = compute_drift(current, large_profile, DriftConfig(drift_share=0.5))
    assert strict.drift_share == loose.drift_share == pytest.approx(2 / 8)
    assert strict.status == "drift" and strict.dataset_drift
    assert loose.status == "ok" and not loose.dataset_drift


def test_missing_column_is_a_schema_error(large_profile: ReferenceProfile) -> None:
    current = make_frame(500, seed=1).drop("cat_plan")
    with pytest.raises(SchemaMismatchError, match="profiled columns") as info:
        compute_drift(current, large_profile, CONFIG)
    assert info.value.context["missing_in_current"] == ["cat_plan"]
    assert info.value.fix


def test_wrong_method_for_the_column_type_is_a_config_error(
    large_profile: ReferenceProfile,
) -> None:
    cfg = DriftConfig(per_column={"cat_plan": ColumnDriftConfig(method="wasserstein")})
    with pytest.raises(ConfigError, match="does not apply to categorical"):
        compute_drift(make_frame(500, seed=1), large_profile, cfg)


def test_numeric_column_arriving_as_text_is_a_schema_error(large_profile: ReferenceProfile) -> None:
    current = make_frame(500, seed=1).with_columns(pl.col("num_count").cast(pl.String))
    with pytest.raises(SchemaMismatchError, match="non-numeric"):
        compute_drift(current, large_profile, CONFIG)


def test_entirely_missing_column_is_flagged_with_a_note(large_profile: ReferenceProfile) -> None:
    current = make_frame(1_000, seed=1).with_columns(
        pl.lit(None, dtype=pl.Float64).alias("num_normal"),
        pl.lit(None, dtype=pl.String).alias("cat_region"),
    )
    result = compute_drift(current, large_profile, CONFIG)
    for name in ("num_normal", "cat_region"):
        col = result.column(name)
        assert col.drifted and col.statistic is None
        assert col.note is not None and "no valid value" in col.note


def test_lazy_parquet_source_gives_the_same_result(
    tmp_path: Path, large_profile: ReferenceProfile
) -> None:
    current = make_frame(4_000, seed=21, mean=0.2)
    path = tmp_path / "current.parquet"
    current.write_parquet(path)
    eager = compute_drift(current, large_profile, CONFIG)
    lazy = compute_drift(pl.scan_parquet(path), large_profile, CONFIG, batch_columns=3)
    assert lazy == eager


@pytest.mark.parametrize(("batch_columns", "max_workers"), [(1, 1), (1, 2), (2, 3), (5, 2)])
def test_batches_flow_into_the_workers_without_losing_a_column(
    tmp_path: Path, large_profile: ReferenceProfile, batch_columns: int, max_workers: int
) -> None:
    """The next batch is taken while the previous one's columns are still being computed:
    whatever the batch size and the number of workers, every column comes back, once, with
    the eager result."""
    current = make_frame(4_000, seed=23, mean=0.3)
    path = tmp_path / "current.parquet"
    current.write_parquet(path)
    eager = compute_drift(current, large_profile, CONFIG)
    lazy = compute_drift(
        pl.scan_parquet(path),
        large_profile,
        CONFIG,
        batch_columns=batch_columns,
        max_workers=max_workers,
    )
    assert [c.column for c in lazy.columns] == [c.column for c in eager.columns]
    assert lazy == eager


def test_a_lazy_source_counts_categoricals_in_the_scan_with_the_same_result(
    tmp_path: Path, large_profile: ReferenceProfile
) -> None:
    """Categoricals of a LazyFrame are counted by the engine: nulls, a column with no value
    left, a category never seen in training and a numeric-typed column give eager's result."""
    current = make_frame(4_000, seed=22).with_columns(
        pl.when(pl.int_range(pl.len()) % 7 == 0)
        .then(None)
        .otherwise(pl.col("cat_region"))
        .alias("cat_region"),
        pl.lit(None, dtype=pl.String).alias("cat_flag"),
        pl.when(pl.int_range(pl.len()) < 300)
        .then(pl.lit("brand_new"))
        .otherwise(pl.col("cat_plan"))
        .alias("cat_plan"),
    )
    path = tmp_path / "current.parquet"
    current.write_parquet(path)
    eager = compute_drift(current, large_profile, CONFIG)
    lazy = compute_drift(pl.scan_parquet(path), large_profile, CONFIG)
    assert lazy == eager
    assert lazy.column("cat_flag").statistic is None  # no valid value: reported, not skipped
    numeric_keys = build_profile(
        pl.DataFrame({"tier": np.arange(5_000) % 4}), [], ["tier"], CONFIG, seed=0
    )
    tiers = pl.DataFrame({"tier": (np.arange(3_000) % 5).astype(np.int16)})
    assert compute_drift(tiers.lazy(), numeric_keys, CONFIG) == compute_drift(
        tiers, numeric_keys, CONFIG
    )


def test_result_is_independent_of_thread_count(large_profile: ReferenceProfile) -> None:
    current = make_frame(3_000, seed=8, scale=1.3)
    assert compute_drift(current, large_profile, CONFIG, max_workers=1) == compute_drift(
        current, large_profile, CONFIG, max_workers=4
    )


def test_categories_compare_across_integer_and_float_dtypes() -> None:
    """A category column read as Int64 at training and Float64 later has the same categories."""
    reference = pl.DataFrame({"tier": np.repeat([1, 2, 3], 500)})
    current = pl.DataFrame({"tier": pl.Series([1.0, 2.0, 3.0, None] * 100, dtype=pl.Float64)})
    result = compute_drift_frames(reference, current, [], ["tier"], DriftConfig(min_rows=10))
    col = result.column("tier")
    assert col.method == "jensenshannon"
    assert col.statistic == pytest.approx(0.0, abs=1e-12) and not col.drifted


def test_markdown_table_lists_drifted_columns_first(large_profile: ReferenceProfile) -> None:
    result = compute_drift(make_frame(3_000, seed=9, mean=0.5), large_profile, CONFIG)
    table = result.to_markdown()
    lines = [ln for ln in table.splitlines() if ln.startswith("| ") and "---" not in ln][1:]
    drift_flags = [ln.rstrip(" |").endswith("**yes**") for ln in lines]
    assert len(lines) == len(NUMERIC) + len(CATEGORICAL)
    assert drift_flags == sorted(drift_flags, reverse=True) and drift_flags[0]
    assert result.summary() in table


def test_override_for_an_unknown_column_is_a_config_error(
    large_profile: ReferenceProfile,
) -> None:
    cfg = DriftConfig(per_column={"num_norml": ColumnDriftConfig(method="ks")})
    with pytest.raises(ConfigError, match="not monitored") as info:
        compute_drift(make_frame(500, seed=1), large_profile, cfg)
    assert info.value.context["did_you_mean"] == {"num_norml": "num_normal"}


def test_columns_named_like_internal_helpers_work() -> None:
    reference = pl.DataFrame({"n": ["a", "b"] * 600, "count": np.arange(1_200, dtype=float)})
    result = compute_drift_frames(reference, reference, ["count"], ["n"])
    assert [c.drifted for c in result.columns] == [False, False]


def test_no_columns_asked_of_a_lazy_source_is_an_empty_result(
    large_profile: ReferenceProfile,
) -> None:
    frame = make_frame(2_000, seed=3)
    eager = compute_drift(frame, large_profile, DriftConfig(), columns=[])
    lazy = compute_drift(frame.lazy(), large_profile, DriftConfig(), columns=[])
    assert eager.columns == lazy.columns == [] and lazy.status == eager.status == "ok"


def test_wasserstein_is_exact_for_values_far_from_zero() -> None:
    """Epoch seconds (~1.7e9) with a spread of a second: scipy's distance to 1e-9 relative."""
    from scipy import stats

    rng = np.random.default_rng(7)
    reference = pl.DataFrame({"ts": 1.7e9 + rng.random(5_000)})
    current = pl.DataFrame({"ts": 1.7e9 + 0.25 + 0.5 * rng.random(20_000)})
    result = compute_drift_frames(reference, current, ["ts"], [], DriftConfig())
    col = result.column("ts")
    # Evidently's norm: the reference's population standard deviation
    expected = stats.wasserstein_distance(reference["ts"], current["ts"]) / float(
        np.std(reference["ts"].to_numpy())
    )
    assert col.method == "wasserstein" and col.statistic is not None
    assert col.statistic == pytest.approx(expected, rel=1e-9)
