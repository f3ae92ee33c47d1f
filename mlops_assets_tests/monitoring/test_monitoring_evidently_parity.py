"""Our drift statistics against Evidently 0.7.23 on the same data, column by column.

The definitions are the same (the same scipy functions on the same numbers), so values agree to
floating-point rounding: the tolerance is 1e-9 relative (observed: < 1e-13).
"""

import math
from typing import Any

import polars as pl
import pytest

from mlops_assets.config.monitoring import ColumnDriftConfig, DriftConfig
from mlops_assets.monitoring.statistics import compute_drift_frames
from mlops_assets_tests.monitoring.conftest import CATEGORICAL, NUMERIC, make_frame

REL_TOL = 1e-9
ABS_TOL = 1e-300  # p-values can be tiny; compare them relatively too
OUR_NAMES = {
    "Wasserstein distance (normed)": "wasserstein",
    "K-S p_value": "ks",
    "Jensen-Shannon distance": "jensenshannon",
    "chi-square p_value": "chisquare",
    "Z-test p_value": "ztest",
    "z": "ztest",
}


def evidently_drift(
    reference: pl.DataFrame, current: pl.DataFrame, **preset: Any
) -> dict[str, tuple[str, float, bool]]:
    """Evidently's (method, score, drifted) per column, read straight from its snapshot."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(numerical_columns=NUMERIC, categorical_columns=CATEGORICAL)
    snapshot = Report([DataDriftPreset(**preset)], include_tests=True).run(
        Dataset.from_pandas(current.to_pandas(), data_definition=definition),
        Dataset.from_pandas(reference.to_pandas(), data_definition=definition),
    )
    data = snapshot.dict()
    failed = {t["metric_config"]["metric_id"] for t in data["tests"] if t["status"] == "FAIL"}
    out = {}
    for m in data["metrics"]:
        if m["config"]["type"].endswith("ValueDrift"):
            method = OUR_NAMES.get(m["config"]["method"], m["config"]["method"])
            out[m["config"]["column"]] = (method, float(m["value"]), m["id"] in failed)
    return out


CASES = {
    # Below 1,000 reference rows Evidently uses p-value tests: KS, chi-square, Z.
    "p_values_small_current": (800, 3_000, DriftConfig(), {}),
    # Current above 10,000 rows: KS switches to scipy's asymptotic p-value.
    "p_values_large_current": (900, 30_000, DriftConfig(), {}),
    # Above 1,000 reference rows: Wasserstein (numeric), Jensen-Shannon (categorical, <=5 values).
    "distances": (6_000, 20_000, DriftConfig(), {}),
    # Forced methods: Jensen-Shannon on numeric (Sturges bins over both samples), KS on a large
    # reference, Wasserstein on a 4-valued column, chi-square and Z on categoricals.
    "forced_methods": (
        3_000,
        12_000,
        DriftConfig(
            default_numeric_method="jensenshannon",
            default_categorical_method="chisquare",
            per_column={
                "num_skewed": ColumnDriftConfig(method="ks"),
                "num_lowcard": ColumnDriftConfig(method="wasserstein", threshold=0.05),
                "cat_flag": ColumnDriftConfig(method="ztest"),
            },
        ),
        {
            "num_method": "jensenshannon",
            "cat_method": "chisquare",
            "per_column_method": {
                "num_skewed": "ks",
                "num_lowcard": "wasserstein",
                "cat_flag": "z",
            },
            "per_column_threshold": {"num_lowcard": 0.05},
        },
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_statistics_match_evidently_column_by_column(case: str) -> None:
    n_ref, n_cur, config, preset = CASES[case]
    reference = make_frame(n_ref, seed=1)
    # A mild shift, so that some columns drift and others do not.
    current = make_frame(n_cur, seed=2, mean=0.08, plan_mix=(0.46, 0.32, 0.22))

    ours = compute_drift_frames(reference, current, NUMERIC, CATEGORICAL, config)
    theirs = evidently_drift(reference, current, **preset)

    assert {c.column for c in ours.columns} == set(theirs)
    for col in ours.columns:
        method, score, drifted = theirs[col.column]
        assert col.method == method, col.column
        assert col.statistic is not None
        assert math.isclose(col.statistic, score, rel_tol=REL_TOL, abs_tol=ABS_TOL), (
            col.column,
            col.statistic,
            score,
        )
        assert col.drifted == drifted, col.column
    if case.startswith("p_values"):
        assert {c.method for c in ours.columns} == {"ks", "chisquare", "ztest"}
    if case == "distances":
        assert {c.method for c in ours.columns} == {"wasserstein", "jensenshannon"}
    # The dataset-level verdict follows from the same per-column verdicts.
    share = sum(d for _, _, d in theirs.values()) / len(theirs)
    assert ours.drift_share == pytest.approx(share)


def test_both_sides_of_the_1000_row_boundary() -> None:
    """Exactly 1,000 valid reference values still use p-values; 1,001 use distances."""
    current = make_frame(2_000, seed=5)
    cols = ["num_skewed", "cat_plan"]
    methods = {}
    for n in (1_000, 1_001):
        reference = make_frame(n, seed=4)
        result = compute_drift_frames(reference, current, cols[:1], cols[1:])
        methods[n] = [c.method for c in result.columns]
        theirs = evidently_drift(reference, current, columns=cols)
        assert methods[n] == [theirs[c][0] for c in cols]
    assert methods == {1_000: ["ks", "chisquare"], 1_001: ["wasserstein", "jensenshannon"]}


def _evidently_one_categorical(
    reference: pl.DataFrame, current: pl.DataFrame, **preset: Any
) -> tuple[str, float]:
    """Evidently's (method, score) for the single categorical column of two frames."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(categorical_columns=reference.columns)
    snapshot = Report([DataDriftPreset(**preset)]).run(
        Dataset.from_pandas(current.to_pandas(), data_definition=definition),
        Dataset.from_pandas(reference.to_pandas(), data_definition=definition),
    )
    [metric] = [m for m in snapshot.dict()["metrics"] if m["config"]["type"].endswith("ValueDrift")]
    return OUR_NAMES.get(metric["config"]["method"], metric["config"]["method"]), float(
        metric["value"]
    )


NUMERIC_CATEGORIES = {
    # a float category column whose current window lacks the fractional value
    "float_codes_one_missing": (
        pl.Series("grade", [1.0, 2.0, 2.5] * 400),
        pl.Series("grade", [1.0, 2.0] * 600),
        {},
    ),
    # profiled as Int64, arriving as Float64 with one fractional value
    "int_profile_float_current": (
        pl.Series("grade", [1, 2, 3] * 500),
        pl.Series("grade", [1.0, 2.0, 3.0] * 100 + [2.5]),
        {},
    ),
    # the Z-test's first key is the smallest value (2), not the first string ("10")
    "ztest_orders_by_value": (
        pl.Series("grade", [2] * 50 + [3] * 50),
        pl.Series("grade", [2] * 30 + [3] * 50 + [10] * 20),
        {"cat_method": "z"},
    ),
}


@pytest.mark.parametrize("case", list(NUMERIC_CATEGORIES))
def test_numeric_categories_are_compared_by_value_as_evidently_does(case: str) -> None:
    """A value's category string depends on the value alone, never on the rest of its frame."""
    ref, cur, preset = NUMERIC_CATEGORIES[case]
    config = DriftConfig(min_rows=10)
    if preset:
        config = DriftConfig(min_rows=10, default_categorical_method="ztest")
    ours = compute_drift_frames(ref.to_frame(), cur.to_frame(), [], ["grade"], config)
    method, score = _evidently_one_categorical(ref.to_frame(), cur.to_frame(), **preset)
    col = ours.column("grade")
    assert col.method == method
    assert col.statistic is not None
    assert math.isclose(col.statistic, score, rel_tol=REL_TOL, abs_tol=ABS_TOL), (
        col.statistic,
        score,
    )


def test_decimal_current_meets_an_integer_profile() -> None:
    """Codes profiled as Int64 and read back as Decimal (as Spark hands them) are the same."""
    from decimal import Decimal

    reference = pl.DataFrame({"tier": [1, 2, 3] * 100})
    current = pl.DataFrame(
        {"tier": pl.Series([Decimal("1.00"), Decimal("2.00"), Decimal("3.00")] * 40)}
    )
    result = compute_drift_frames(reference, current, [], ["tier"], DriftConfig(min_rows=10))
    col = result.column("tier")
    assert col.method == "chisquare" and col.statistic == pytest.approx(1.0) and not col.drifted


def test_a_profile_written_with_float_spellings_still_meets_current_data() -> None:
    """Profiles from before per-value spelling wrote "1.0" for a whole value of a float column
    that also held fractions; today's current data spells it "1"."""
    from mlops_assets.monitoring.profile import CategoricalProfile, build_profile
    from mlops_assets.monitoring.statistics import compute_drift

    config = DriftConfig(min_rows=10)
    profile = build_profile(pl.DataFrame({"grade": ["x"] * 1_500}), [], ["grade"], config)
    old = CategoricalProfile(
        n_valid=1_500, n_missing=0, categories=["1.0", "2.5"], counts=[1_000, 500]
    )
    profile = profile.model_copy(update={"columns": {"grade": old}})
    current = pl.DataFrame({"grade": [1.0, 1.0, 2.5] * 100})
    col = compute_drift(current, profile, config).column("grade")
    assert col.method == "jensenshannon"
    assert col.statistic == pytest.approx(0.0, abs=1e-12) and not col.drifted
