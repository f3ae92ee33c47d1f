"""Run configuration on real lifecycle runs: a non-default value changes the run and is recorded."""

from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from mlops_assets.ml.batch import MODEL_LOADS
from mlops_assets_tests.assets.ml.conftest import Retrained
from mlops_assets_tests.assets.ml.lifecycle_helpers import (
    DRIFT_KEY,
    EVALUATION_KEY,
    PERFORMANCE_KEY,
    PREDICTIONS_KEY,
    TRAINING_SET_KEY,
    copy_data_dir,
    defs_for,
    metadata,
    read_lake,
    run_job,
    step_error,
)

INFERENCE_OP = "churn__inference__predictions"
DRIFT_OP = "churn__monitoring__drift"
EVALUATION_OP = "churn__models__evaluation"
TRAINING_SET_OP = "churn__features__training_set"
PERFORMANCE_OP = "churn__monitoring__performance"


@pytest.fixture(scope="module")
def two_versions(promoted_copy: Retrained, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy where v2 is the champion and v1 still exists."""
    assert promoted_copy.champion["champion_version"] == "2"
    return copy_data_dir(promoted_copy.data_dir, tmp_path_factory.mktemp("run_config"))


def test_inference_scores_with_the_version_the_run_asks_for(two_versions: Path) -> None:
    defs = defs_for(two_versions)
    day = sorted(p.name for p in (two_versions / "landing").rglob("20*") if p.is_dir())[-1]
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_job(
            defs,
            "churn_batch_inference",
            instance,
            partition=day,
            run_config={"ops": {INFERENCE_OP: {"config": {"version": "1"}}}},
        )
    assert result.success, step_error(result)
    scored = read_lake(two_versions, PREDICTIONS_KEY, day)
    assert set(scored["model_version"].cast(str)) == {"1"}  # not the champion, v2
    meta = metadata(result, PREDICTIONS_KEY)
    assert meta["model_version"] == 1
    assert meta["run_config/version"] == "1"


def test_drift_judges_against_the_requested_version_and_share(two_versions: Path) -> None:
    defs = defs_for(two_versions)
    day = sorted(p.name for p in (two_versions / "landing").rglob("20*") if p.is_dir())[-1]
    config = {"model_version": "1", "drift_share": 0.99}
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_job(
            defs,
            "churn_monitoring",
            instance,
            partition=day,
            run_config={"ops": {DRIFT_OP: {"config": config}}},
            asset_selection=[DRIFT_KEY],
        )
    assert result.success, step_error(result)
    meta = metadata(result, DRIFT_KEY)
    assert meta["model_version"] == 1
    assert meta["run_config/drift_share"] == "0.99"
    assert meta["run_config/model_version"] == "1"
    row = read_lake(two_versions, DRIFT_KEY, day).row(0, named=True)
    assert row["dataset_drift"] == (row["drift_share"] >= 0.99)


def _tracking(data_dir: Path) -> Any:
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=f"sqlite:///{data_dir / 'mlflow' / 'mlflow.db'}")


def test_evaluation_judges_the_requested_challenger_and_records_why_gates_are_off(
    promoted_copy: Retrained, tmp_path: Path
) -> None:
    data_dir = copy_data_dir(promoted_copy.data_dir, tmp_path)
    reason = "shadow comparison of v1, promoted by hand if at all"
    config = {"challenger_version": "1", "gate": {"disabled": {"reason": reason}}}
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_job(
            defs_for(data_dir),
            "churn_training",
            instance,
            run_config={"ops": {EVALUATION_OP: {"config": config}}},
            asset_selection=[EVALUATION_KEY],
        )
    assert result.success, step_error(result)
    meta = metadata(result, EVALUATION_KEY)
    assert meta["challenger_version"] == 1  # not v2, the version the model asset holds
    assert meta["gate_mode"] == "disabled"
    assert meta["run_config/challenger_version"] == "1"
    assert meta["run_config/gate.reason"] == reason
    client = _tracking(data_dir)
    experiment = client.get_experiment_by_name("mlops_assets/churn")
    assert experiment is not None
    runs = client.search_runs(
        [experiment.experiment_id],
        filter_string="tags.`mlops.run_config.gate.reason` = '" + reason + "'",
    )
    assert len(runs) == 1 and runs[0].data.tags["mlops.run_config.gate.mode"] == "disabled"


def test_inference_in_batches_scores_exactly_as_one_call(two_versions: Path) -> None:
    defs = defs_for(two_versions)
    day = sorted(p.name for p in (two_versions / "landing").rglob("20*") if p.is_dir())[-1]
    key = ["customer_id", "event_ts"]
    with dg.DagsterInstance.ephemeral() as instance:
        whole = run_job(defs, "churn_batch_inference", instance, partition=day)
        assert whole.success, step_error(whole)
        once = read_lake(two_versions, PREDICTIONS_KEY, day).sort(key)
        config = {"ops": {INFERENCE_OP: {"config": {"batch_size": 64}}}}
        loads_before = sum(MODEL_LOADS.values())
        batched = run_job(defs, "churn_batch_inference", instance, partition=day, run_config=config)
        loads = sum(MODEL_LOADS.values()) - loads_before
    assert batched.success, step_error(batched)
    in_batches = read_lake(two_versions, PREDICTIONS_KEY, day).sort(key)
    assert metadata(whole, PREDICTIONS_KEY)["scoring_batches"] == 1
    meta = metadata(batched, PREDICTIONS_KEY)
    assert meta["scoring_batches"] == -(-once.height // 64) > 1
    assert loads == 1, f"{meta['scoring_batches']} batches loaded the model {loads} times"
    assert in_batches["scored_at"].n_unique() == 1, "one scoring instant for the whole run"
    assert meta["run_config/batch_size"] == "64"
    columns = [*key, "prediction", "probability", "model_version"]
    assert in_batches.select(columns).equals(once.select(columns))


def test_drift_without_the_evidently_report(two_versions: Path) -> None:
    from mlops_assets.monitoring.drift_check import report_location
    from mlops_assets.storage.lakehouse import LocalLakehouse

    defs = defs_for(two_versions)
    day = sorted(p.name for p in (two_versions / "landing").rglob("20*") if p.is_dir())[-1]
    report = report_location(LocalLakehouse(two_versions).reports_dir("churn"), day)
    with dg.DagsterInstance.ephemeral() as instance:
        rendered = run_job(
            defs, "churn_monitoring", instance, partition=day, asset_selection=[DRIFT_KEY]
        )
        assert rendered.success, step_error(rendered)
        assert report.is_file(), "the default run renders the report"
        verdict = read_lake(two_versions, DRIFT_KEY, day).row(0, named=True)
        skipped = run_job(
            defs,
            "churn_monitoring",
            instance,
            partition=day,
            run_config={"ops": {DRIFT_OP: {"config": {"render_report": False}}}},
            asset_selection=[DRIFT_KEY],
        )
    assert skipped.success, step_error(skipped)
    assert not report.exists(), "a skipped render leaves no stale report of the day"
    row = read_lake(two_versions, DRIFT_KEY, day).row(0, named=True)
    assert row["dataset_drift"] == verdict["dataset_drift"]  # the verdict does not depend on it
    meta = metadata(skipped, DRIFT_KEY)
    assert meta["run_config/render_report"] == "False"
    assert "evidently_report_file" not in meta
    client = _tracking(two_versions)
    experiments = [e.experiment_id for e in client.search_experiments()]
    tagged = client.search_runs(
        experiments, filter_string="tags.`mlops.run_config.render_report` = 'False'"
    )
    assert len(tagged) == 1, "the monitoring run records the knob as an MLflow tag"


def test_training_set_as_of_leaves_later_labels_out(
    promoted_copy: Retrained, tmp_path: Path
) -> None:
    data_dir = copy_data_dir(promoted_copy.data_dir, tmp_path)
    defs = defs_for(data_dir)
    with dg.DagsterInstance.ephemeral() as instance:
        full = run_job(defs, "churn_training", instance, asset_selection=[TRAINING_SET_KEY])
        assert full.success, step_error(full)
        everything = metadata(full, TRAINING_SET_KEY)
        first = datetime.fromisoformat(str(everything["first_label_ts"]))
        last = datetime.fromisoformat(str(everything["last_label_ts"]))
        cut = first + (last - first) / 2
        config = {"ops": {TRAINING_SET_OP: {"config": {"as_of": cut.isoformat()}}}}
        result = run_job(
            defs,
            "churn_training",
            instance,
            run_config=config,
            asset_selection=[TRAINING_SET_KEY],
        )
    assert result.success, step_error(result)
    meta = metadata(result, TRAINING_SET_KEY)
    assert 0 < meta["labels"] < everything["labels"]
    assert datetime.fromisoformat(str(meta["last_label_ts"])) <= cut
    assert meta["run_config/as_of"] == cut.isoformat()
    stored = read_lake(data_dir, TRAINING_SET_KEY)
    assert stored.height == meta["labels"] - meta["labels_without_features"]


def test_performance_judges_the_requested_version(two_versions: Path) -> None:
    defs = defs_for(two_versions)
    day = sorted(p.name for p in (two_versions / "landing").rglob("20*") if p.is_dir())[-1]
    with dg.DagsterInstance.ephemeral() as instance:
        default = run_job(
            defs, "churn_monitoring", instance, partition=day, asset_selection=[PERFORMANCE_KEY]
        )
        assert default.success, step_error(default)
        champion = read_lake(two_versions, PERFORMANCE_KEY, day).row(0, named=True)
        config = {"ops": {PERFORMANCE_OP: {"config": {"model_version": "1"}}}}
        result = run_job(
            defs,
            "churn_monitoring",
            instance,
            partition=day,
            run_config=config,
            asset_selection=[PERFORMANCE_KEY],
        )
    assert result.success, step_error(result)
    assert str(champion["model_version"]) == "2"
    row = read_lake(two_versions, PERFORMANCE_KEY, day).row(0, named=True)
    assert str(row["model_version"]) == "1", "judged against v1's recorded baseline"
    assert metadata(result, PERFORMANCE_KEY)["run_config/model_version"] == "1"
    assert "run_config" not in metadata(default, PERFORMANCE_KEY)
