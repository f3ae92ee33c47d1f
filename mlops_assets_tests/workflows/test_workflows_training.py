"""The one training run (asset and Databricks step alike): tracked, overridden, profiled, and
registered with its drift references where the drift asset looks for them."""

from pathlib import Path

import mlflow
import polars as pl
import pytest

from mlops_assets.errors import SchemaMismatchError
from mlops_assets.ml.model_store import artifact_uri
from mlops_assets.ml.tracking import MlflowSettings, RunTags
from mlops_assets.monitoring.profile import load_profile
from mlops_assets.monitoring.reference_profiles import PREDICTION_PROFILE, REFERENCE_PROFILE
from mlops_assets.workflows.training import TrainingSpec, register_training, run_training
from mlops_assets_tests.ml.conftest import model_config

TAGS = RunTags(dagster_run_id="run-1", asset_key="churn/models/classifier")
LOGISTIC = {
    "type": "sklearn",
    "estimator": "sklearn.linear_model.LogisticRegression",
    "params": {"max_iter": 200},
}


def spec(model_name: str, **changes: object) -> TrainingSpec:
    base = TrainingSpec(
        model=model_config(flavor=LOGISTIC),
        registered_name=model_name,
        overrides={"C": 0.25},
        reason="nightly",
        tags={"mlops.run_config.params.C": "0.25"},
        dataset_name="training_set",
        dataset_table="churn.features.training_set",
    )
    return base.model_copy(update=changes)


def test_a_run_is_tracked_with_its_reason_overrides_and_datasets(
    churn: pl.DataFrame, settings: MlflowSettings, model_name: str
) -> None:
    outcome = run_training(churn.lazy(), spec(model_name), settings, TAGS)
    run = mlflow.MlflowClient().get_run(outcome.run_id)
    assert run.data.tags["mlops.reason"] == "nightly"
    assert run.data.tags["mlops.run_config.params.C"] == "0.25"
    assert run.data.tags["dagster.run_id"] == "run-1"
    assert run.data.params["C"] == "0.25" and outcome.result.params["C"] == 0.25
    assert run.data.params["n_train"] == str(outcome.result.n_train)
    assert run.inputs is not None
    contexts = sorted(
        tag.value
        for dataset in run.inputs.dataset_inputs
        for tag in dataset.tags
        if tag.key == "mlflow.data.context"
    )
    assert contexts == ["training", "validation"]
    assert outcome.profiles.inputs.n_rows == outcome.result.n_train
    assert outcome.input_example.height == 5


def test_registering_logs_the_drift_references_with_the_version(
    churn: pl.DataFrame, settings: MlflowSettings, model_name: str, tmp_path: Path
) -> None:
    chosen = spec(model_name)
    outcome = run_training(churn, chosen, settings, TAGS)
    version = register_training(outcome, chosen, settings)
    assert version.run_id == outcome.run_id
    for name, expected in (
        (REFERENCE_PROFILE, outcome.profiles.inputs),
        (PREDICTION_PROFILE, outcome.profiles.predictions),
    ):
        uri = artifact_uri(version, name)
        assert uri is not None and uri.startswith(f"runs:/{outcome.run_id}/")
        local = mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(tmp_path / name))
        assert load_profile(Path(local)) == expected


def test_a_missing_column_fails_before_any_run_starts(
    churn: pl.DataFrame, settings: MlflowSettings, model_name: str
) -> None:
    config = model_config(flavor=LOGISTIC)
    dropped = churn.drop(config.numeric_features[0])
    experiment = mlflow.get_experiment_by_name(settings.experiment_name)
    before = 0 if experiment is None else len(mlflow.search_runs([experiment.experiment_id]).index)
    with pytest.raises(SchemaMismatchError):
        run_training(dropped, spec(model_name), settings, TAGS)
    experiment = mlflow.get_experiment_by_name(settings.experiment_name)
    after = 0 if experiment is None else len(mlflow.search_runs([experiment.experiment_id]).index)
    assert after == before
