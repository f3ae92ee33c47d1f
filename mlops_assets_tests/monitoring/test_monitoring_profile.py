"""Reference profiles: built once from the training frame, saved and loaded as JSON."""

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from mlops_assets.config.monitoring import DriftConfig
from mlops_assets.errors import InsufficientDataError, SchemaMismatchError, StorageError
from mlops_assets.monitoring.profile import (
    build_profile,
    infer_column_types,
    load_profile,
    save_profile,
)
from mlops_assets.monitoring.statistics import compute_drift
from mlops_assets_tests.monitoring.conftest import CATEGORICAL, NUMERIC, make_frame

CONFIG = DriftConfig(reference_sample_size=2_000, report_sample_size=300)


def test_profile_statistics_are_those_of_the_training_frame() -> None:
    df = make_frame(5_000, seed=3)
    profile = build_profile(df, NUMERIC, CATEGORICAL, CONFIG, seed=1)
    normal = df["num_normal"].drop_nans().drop_nulls().to_numpy()
    prof = profile.columns["num_normal"]
    assert prof.kind == "numeric"
    assert prof.n_valid == normal.size and prof.n_missing == 5_000 - normal.size
    assert prof.std == pytest.approx(np.std(normal), rel=1e-12)  # ddof=0, as Evidently
    assert prof.mean == pytest.approx(normal.mean(), rel=1e-12)
    # Bounded, sorted sample of finite values.
    assert prof.sample == sorted(prof.sample)
    assert len(prof.sample) == 2_000 and profile.n_rows == 5_000
    assert set(prof.sample) <= set(normal.tolist())  # real values, not interpolated
    # Exact value counts for low-cardinality numeric columns.
    low = profile.columns["num_lowcard"]
    assert low.kind == "numeric" and low.values == [0.0, 1.0, 2.0, 3.0]
    expected = df["num_lowcard"].value_counts().sort("num_lowcard")["count"].to_list()
    assert low.value_counts == expected
    # Categorical counts are exact over the whole frame, nulls excluded.
    plan = profile.columns["cat_plan"]
    assert plan.kind == "categorical" and sum(plan.counts) == 5_000
    region = profile.columns["cat_region"]
    assert region.kind == "categorical"
    assert sum(region.counts) == df["cat_region"].drop_nulls().len()
    # The report sample is row-aligned and bounded.
    frame = profile.report_frame()
    assert frame.shape == (300, len(NUMERIC) + len(CATEGORICAL))
    assert frame.columns == NUMERIC + CATEGORICAL


def test_json_round_trip_is_lossless(tmp_path: Path) -> None:
    df = make_frame(3_000, seed=4)
    profile = build_profile(df, NUMERIC, CATEGORICAL, CONFIG, seed=2)
    path = save_profile(profile, tmp_path / "model" / "reference_profile.json")
    assert json.loads(path.read_text())["format_version"] == 1
    loaded = load_profile(path)
    assert loaded == profile
    current = make_frame(1_000, seed=5, mean=0.3)
    assert compute_drift(current, loaded, CONFIG) == compute_drift(current, profile, CONFIG)


def test_loading_a_missing_or_corrupt_profile_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="not found") as missing:
        load_profile(tmp_path / "nope.json")
    assert missing.value.fix and "Train" in missing.value.fix
    bad = tmp_path / "bad.json"
    bad.write_text('{"format_version": 1, "n_rows": "many"}')
    with pytest.raises(StorageError, match="not a valid reference profile"):
        load_profile(bad)


def test_profile_rejects_bad_columns() -> None:
    df = make_frame(100, seed=1)
    with pytest.raises(SchemaMismatchError, match="do not match") as info:
        build_profile(df, ["num_normal", "nope"], ["num_normal"], CONFIG)
    assert info.value.context["missing"] == ["nope"]
    assert info.value.context["listed_twice"] == ["num_normal"]
    with pytest.raises(SchemaMismatchError, match="numeric dtype"):
        build_profile(df, ["cat_plan"], [], CONFIG)
    with pytest.raises(InsufficientDataError):
        build_profile(df.head(0), NUMERIC, [], CONFIG)


def test_infer_column_types_follows_evidently_rules() -> None:
    df = pl.DataFrame(
        {
            "price": [1.5, 2.5, 3.5, 4.5] * 5,
            "small_int": [1, 2, 3, 1] * 5,
            "big_int": list(range(20)),
            "flag": [True, False] * 10,
            "city": ["a", "b"] * 10,
            "free_text": [f"comment {i}" for i in range(20)],
        }
    )
    assert infer_column_types(df) == (["price", "big_int"], ["small_int", "flag", "city"])


def test_report_sample_stores_missing_and_infinite_values_as_null() -> None:
    df = pl.DataFrame(
        {"x": [1.0, float("nan"), float("inf"), None, 2.0] * 40, "c": ["a", None] * 100}
    )
    profile = build_profile(df, ["x"], ["c"], CONFIG)
    assert profile.report_numeric["x"][:5] == [1.0, None, None, None, 2.0]
    assert profile.report_categorical["c"][:2] == ["a", None]
    assert profile.columns["x"].n_valid == 80
    frame = profile.report_frame()
    assert frame.schema == pl.Schema({"x": pl.Float64, "c": pl.String})
