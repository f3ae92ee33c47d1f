"""Model performance on delayed labels: insufficient before they arrive, metrics, degradation."""

import json
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from sklearn.metrics import roc_auc_score

from mlops_assets.storage.delta import write_table
from mlops_assets_tests.assets.ml.lifecycle_helpers import (
    PERFORMANCE_KEY,
    PREDICTIONS_KEY,
    TrainedBase,
    check_results,
    copy_base,
    defs_for,
    metadata,
    project_for,
    read_lake,
    run_job,
    step_error,
)
from mlops_assets_tests.assets.monitoring.conftest import Monitored

LABELS_KEY = dg.AssetKey(["churn", "silver", "labels"])
BEFORE_LABELS, WITH_LABELS, FLIPPED = 1, 5, 6


def _labelled(data_dir: Path, day: str) -> pl.DataFrame:
    """The day's labels joined to the predictions made for those observations, built here."""
    labels = read_lake(data_dir, LABELS_KEY, day)
    predictions = read_lake(data_dir, PREDICTIONS_KEY)
    return labels.join(predictions, on=["customer_id", "event_ts"], how="inner")


def test_no_labels_yet_is_insufficient_data(monitored: Monitored) -> None:
    day = monitored.days[BEFORE_LABELS]
    assert read_lake(monitored.data_dir, LABELS_KEY, day).height == 0
    result = monitored.results[day]
    meta = metadata(result, PERFORMANCE_KEY)
    assert meta["status"] == "insufficient_data"
    assert meta["n_labelled"] == 0
    assert "roc_auc" not in meta
    check = check_results(result, PERFORMANCE_KEY)["model_performance"]
    assert check.passed
    assert check.severity == dg.AssetCheckSeverity.WARN
    assert (check.description or "").startswith(f"No verdict: no labels arrived on {day} yet")
    assert check.metadata["verdict"].value == "no verdict (too few labels)"


def test_labelled_day_gives_metrics_computed_on_the_joined_rows(monitored: Monitored) -> None:
    data_dir = monitored.data_dir
    day = monitored.days[WITH_LABELS]
    minimum = project_for(data_dir).use_case("churn").monitoring.performance.min_labelled_rows
    joined = _labelled(data_dir, day)
    assert joined.height >= minimum
    meta = metadata(monitored.results[day], PERFORMANCE_KEY)
    assert meta["status"] == "ok"
    assert meta["n_labelled"] == joined.height
    expected = roc_auc_score(joined["churn"] == "Yes", joined["probability"])
    assert meta["roc_auc"] == pytest.approx(expected, rel=1e-3)  # 4 significant digits
    assert next(iter(meta)) == "roc_auc"  # headline metrics first: the UI plots them in order
    assert "dagster/row_count" not in meta  # one row per day: a count of 1 plots nothing
    assert "| roc_auc | higher |" in meta["metrics"]
    assert meta["mlflow_run"].startswith("http://127.0.0.1:5000/#/experiments/")
    assert meta["mlflow_model_version"].endswith("/versions/1")
    row = read_lake(data_dir, PERFORMANCE_KEY, day).row(0, named=True)
    assert row["degraded"] is False
    assert json.loads(row["metrics_json"])["roc_auc"] == pytest.approx(expected, abs=1e-9)
    assert row["model_version"] == "1"
    assert check_results(monitored.results[day], PERFORMANCE_KEY)["model_performance"].passed


def test_flipped_labels_are_degraded(trained_base: TrainedBase, tmp_path: Path) -> None:
    data_dir = copy_base(trained_base, tmp_path)
    day = trained_base.days[FLIPPED]
    labels = read_lake(data_dir, LABELS_KEY, day)
    flipped = labels.with_columns(
        pl.when(pl.col("churn") == "Yes").then(pl.lit("No")).otherwise(pl.lit("Yes")).alias("churn")
    )
    write_table(data_dir.joinpath("lakehouse", *LABELS_KEY.path), flipped, partitions=[day])
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_job(
            defs_for(data_dir),
            "churn_monitoring",
            instance,
            partition=day,
            asset_selection=[PERFORMANCE_KEY],
        )
    assert result.success, step_error(result)
    meta = metadata(result, PERFORMANCE_KEY)
    assert meta["status"] == "degraded"
    joined = _labelled(data_dir, day)
    flipped_auc = roc_auc_score(joined["churn"] == "Yes", joined["probability"])
    assert flipped_auc < 0.5
    assert meta["roc_auc"] == pytest.approx(flipped_auc, rel=1e-3)
    check = check_results(result, PERFORMANCE_KEY)["model_performance"]
    assert not check.passed
    assert (check.description or "").startswith("Degraded: roc_auc fell from")
    assert float(str(check.metadata["worsening_roc_auc"].value)) > 0
    assert check.severity == dg.AssetCheckSeverity.ERROR
    row = read_lake(data_dir, PERFORMANCE_KEY, day).row(0, named=True)
    assert row["degraded"] is True
    assert "roc_auc" in row["reasons"]


def test_check_description_names_the_allowed_degradation(tmp_path: Path) -> None:
    performance = project_for(tmp_path).use_case("churn").monitoring.performance
    (spec,) = defs_for(tmp_path).resolve_assets_def(PERFORMANCE_KEY).check_specs
    assert spec.name == "model_performance"
    text = spec.description or ""
    assert text.startswith("Fails (ERROR) when a metric on the day's newly labelled rows worsens")
    for metric, allowed in performance.max_degradation.items():
        assert f"{metric} by more than {allowed:g}" in text
    assert f"fewer than {performance.min_labelled_rows} labelled rows" in text
    assert "no @champion to judge against" in text
