"""The training job end to end (shared base): registered version, MLflow run, profiles, metadata."""

import json
from pathlib import Path

import mlflow
import pytest

from mlops_assets.ml.split import split_frame
from mlops_assets.monitoring.profile import load_profile
from mlops_assets_tests.assets.ml.lifecycle_helpers import (
    MODEL,
    TRAINING_SET_KEY,
    TrainedBase,
    read_lake,
)
from mlops_assets_tests.assets.ml.registry_helpers import (
    alias_version,
    client,
    held_out,
    model_config,
    roc_auc,
    tracking_uri,
)


def test_training_registers_a_version_with_params_metrics_and_provenance(
    trained_base: TrainedBase,
) -> None:
    config = model_config()
    version = client(trained_base.data_dir).get_model_version(MODEL, "1")
    assert version.run_id is not None
    run = client(trained_base.data_dir).get_run(version.run_id)

    # the estimator parameters of the YAML, as the fitted estimator reports them
    for name, value in config.flavor.params.items():
        assert run.data.params[name] == str(value)
    assert json.loads(trained_base.training["params"]) == config.flavor.params
    # validation metrics: logged on the run and shown as numbers in the asset metadata
    for metric in ("roc_auc", "f1", "accuracy", "log_loss"):
        shown = trained_base.training[f"validation_{metric}"]
        assert isinstance(shown, float)
        assert run.data.metrics[f"val_{metric}"] == pytest.approx(shown, rel=1e-3)  # 4 digits
    # the run says which Dagster run and asset produced it
    assert run.data.tags["dagster.run_id"] == trained_base.training_run_id
    assert run.data.tags["dagster.asset_key"] == "churn/models/classifier"
    # the asset metadata points at the version and the run
    assert trained_base.training["model_version"] == 1
    assert trained_base.training["registered_model"] == MODEL
    assert trained_base.training["mlflow_run_id"] == version.run_id
    assert trained_base.training["model_uri"] == f"models:/{MODEL}/1"


def test_split_sizes_in_metadata_match_the_stored_training_set(trained_base: TrainedBase) -> None:
    config = model_config()
    splits = split_frame(
        read_lake(trained_base.data_dir, TRAINING_SET_KEY), config.entity_key, config.split
    )
    assert trained_base.training["n_train"] == splits["train"].height
    assert trained_base.training["n_validation"] == splits["validation"].height
    assert trained_base.evaluation["n_test"] == splits["test"].height


def test_reference_and_prediction_profiles_are_stored_with_the_version(
    trained_base: TrainedBase, tmp_path: Path
) -> None:
    config = model_config()
    version = client(trained_base.data_dir).get_model_version(MODEL, "1")
    profiles = {}
    for name in ("reference_profile", "prediction_profile"):
        uri = version.tags[f"mlops.artifact.{name}"]
        assert uri.startswith(f"runs:/{version.run_id}/")
        local = mlflow.artifacts.download_artifacts(
            artifact_uri=uri,
            dst_path=str(tmp_path / name),
            tracking_uri=tracking_uri(trained_base.data_dir),
        )
        profiles[name] = load_profile(Path(local))
    reference = profiles["reference_profile"]
    assert reference.numeric == list(config.numeric_features)
    assert reference.categorical == list(config.categorical_features)
    assert reference.n_rows == trained_base.training["n_train"]
    prediction = profiles["prediction_profile"]
    assert prediction.numeric == ["probability"]
    assert prediction.n_rows == trained_base.training["n_validation"]


def test_first_model_is_promoted_because_it_passes_the_thresholds(
    trained_base: TrainedBase,
) -> None:
    config = model_config()
    evaluation = trained_base.evaluation
    assert evaluation["champion_version"] == "none"
    assert evaluation["gate_mode"] == "enabled"
    assert evaluation["decision"] == "promote"
    (threshold,) = config.gates.thresholds
    assert threshold.min is not None
    assert evaluation[f"test_{threshold.metric}"] >= threshold.min
    assert trained_base.gate_check.passed
    assert trained_base.champion["promoted"] is True
    assert trained_base.champion["champion_version"] == "1"
    assert alias_version(trained_base.data_dir) == "1"
    tags = client(trained_base.data_dir).get_model_version(MODEL, "1").tags
    assert tags["gate.action"] == "promote"
    assert tags["gate.first_model"] == "true"
    assert "meets the minimum" in tags["gate.reasons"]


def test_gate_metrics_are_the_held_out_metrics_recomputed_here(trained_base: TrainedBase) -> None:
    test = held_out(trained_base.data_dir)
    assert trained_base.evaluation["n_test"] == test.height
    expected = roc_auc(trained_base.data_dir, "1", test)
    assert trained_base.evaluation["test_roc_auc"] == pytest.approx(expected, rel=1e-3)  # shown
