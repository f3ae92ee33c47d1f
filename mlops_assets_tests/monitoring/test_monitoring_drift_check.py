"""One day of drift as the drift asset runs it: lazy frames from a real Delta table, the verdict
of record on every row, the Evidently report from a bounded sample."""

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from mlops_assets.config.monitoring import DriftConfig
from mlops_assets.engines.frames import lazy
from mlops_assets.errors import SchemaMismatchError
from mlops_assets.monitoring.drift_check import (
    bounded_sample,
    check_drift,
    profiled,
    report_location,
)
from mlops_assets.monitoring.profile import ReferenceProfile, build_profile
from mlops_assets.monitoring.statistics import compute_drift
from mlops_assets.storage.lakehouse import LocalLakehouse, TableRef
from mlops_assets_tests.monitoring.conftest import CATEGORICAL, NUMERIC, make_frame

CONFIG = DriftConfig(report_sample_size=800)
DAY = "2026-03-05"
FEATURES = TableRef(use_case="uc", layer="features", name="customer_features")


def _probabilities(n: int, seed: int, shift: float = 0.0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame({"probability": 1 / (1 + np.exp(-rng.normal(shift, 1.0, n)))})


@pytest.fixture(scope="module")
def profiles() -> tuple[ReferenceProfile, ReferenceProfile]:
    """Input and prediction profiles, as training stores them."""
    inputs = build_profile(make_frame(3_000, seed=1), NUMERIC, CATEGORICAL, CONFIG, seed=0)
    outputs = build_profile(_probabilities(3_000, seed=2), ["probability"], [], CONFIG, seed=0)
    return inputs, outputs


def _stored(tmp_path: Path, frame: pl.DataFrame, name: str = FEATURES.name) -> object:
    """``frame`` written as a day of a Delta table and read back lazily, as assets get inputs."""
    house = LocalLakehouse(tmp_path)
    ref = FEATURES.model_copy(update={"name": name})
    house.write(house.table_location(ref), lazy(frame), partitions=[DAY])
    return house.read_table(ref, [DAY])


def test_a_drifted_day_gives_the_full_frame_verdict_and_a_report(
    tmp_path: Path, profiles: tuple[ReferenceProfile, ReferenceProfile]
) -> None:
    reference, prediction_profile = profiles
    current = make_frame(2_000, seed=3, mean=0.5, plan_mix=(0.2, 0.3, 0.5)).with_columns(
        pl.lit("unused").alias("customer_id")
    )
    outcome = check_drift(
        _stored(tmp_path, current),
        _stored(tmp_path, _probabilities(2_000, seed=4, shift=1.5), "predictions"),
        reference=reference,
        prediction_profile=prediction_profile,
        config=CONFIG,
        window=DAY,
        model_version="7",
        reports_dir=tmp_path / "reports",
    )
    expected = compute_drift(current, reference, CONFIG)
    assert outcome.inputs.columns == expected.columns
    assert outcome.inputs.status == expected.status == "drift"
    row = outcome.window
    assert (row.window, row.model_version, row.n_current) == (DAY, "7", 2_000)
    assert (row.drift_share, row.drifted_columns) == (
        expected.drift_share,
        expected.drifted_columns,
    )
    assert outcome.predictions is not None and outcome.predictions.dataset_drift
    assert row.prediction_drift is True
    assert row.prediction_statistic == outcome.predictions.columns[0].statistic
    report = report_location(tmp_path / "reports", DAY)
    assert outcome.report == report and row.report_path == str(report)
    html = report.read_text(encoding="utf-8")
    assert html.rstrip().endswith("</html>")
    assert all(column in html for column in NUMERIC + CATEGORICAL)
    assert "customer_id" not in html  # only the model's inputs are reported


def test_a_day_with_too_few_rows_has_no_verdict_and_no_stale_report(
    tmp_path: Path, profiles: tuple[ReferenceProfile, ReferenceProfile]
) -> None:
    reference, _ = profiles
    stale = report_location(tmp_path / "reports", DAY)
    stale.parent.mkdir(parents=True)
    stale.write_text("<html>an earlier run of this day</html>")
    few = make_frame(CONFIG.min_rows - 1, seed=5)
    outcome = check_drift(
        _stored(tmp_path, few),
        few,
        reference=reference,
        prediction_profile=None,
        config=CONFIG,
        window=DAY,
        model_version="7",
        reports_dir=tmp_path / "reports",
    )
    assert outcome.window.status == "insufficient_data"
    assert outcome.window.n_current == CONFIG.min_rows - 1
    assert outcome.report is None and outcome.window.report_path is None
    assert outcome.predictions is None and outcome.window.prediction_statistic is None
    assert not stale.exists()


def test_only_the_profiled_columns_are_read_and_a_missing_one_is_named(
    tmp_path: Path, profiles: tuple[ReferenceProfile, ReferenceProfile]
) -> None:
    reference, _ = profiles
    frame = make_frame(500, seed=6).with_columns(pl.lit(1).alias("extra"))
    restricted = profiled(_stored(tmp_path, frame), reference)
    assert isinstance(restricted, pl.LazyFrame)  # still lazy: read column batch by column batch
    assert restricted.collect_schema().names() == list(reference.columns)
    with pytest.raises(SchemaMismatchError) as info:
        check_drift(
            frame.drop("cat_region"),
            frame,
            reference=reference,
            prediction_profile=None,
            config=CONFIG,
            window=DAY,
            model_version="7",
            reports_dir=tmp_path / "reports",
        )
    assert info.value.context["missing_in_current"] == ["cat_region"]


def test_the_report_sample_is_bounded_and_reproducible(tmp_path: Path) -> None:
    frame = _stored(tmp_path, make_frame(6_000, seed=7))
    sample = bounded_sample(frame, ["num_normal", "cat_plan"], 500, seed=3)
    assert sample.shape == (500, 2)
    assert sample.equals(bounded_sample(frame, ["num_normal", "cat_plan"], 500, seed=3))
    assert bounded_sample(frame, ["num_normal"], 10_000, seed=3).height == 6_000
