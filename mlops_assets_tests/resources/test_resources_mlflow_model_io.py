"""The MLflow model IO manager: each downstream asset gets the version its upstream registered.

Real Dagster runs (``dg.materialize``) against a real SQLite MLflow store in ``tmp_path``. A
"concurrent training" registers another version of the same model between the training step
and its reader, exactly what a second training run finishing first would do.
"""

import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from mlops_assets.config.ml import ModelConfig
from mlops_assets.config.monitoring import DriftConfig
from mlops_assets.ml.model_store import ModelVersionInfo, artifact_uri, log_and_register
from mlops_assets.ml.registry import Registry
from mlops_assets.ml.split import split_frame
from mlops_assets.ml.tracking import RunTags, start_run
from mlops_assets.ml.training import TrainingResult, train_model
from mlops_assets.monitoring.reference_profiles import (
    PREDICTION_PROFILE,
    REFERENCE_PROFILE,
    ReferenceProfiles,
    build_reference_profiles,
)
from mlops_assets.resources.io_managers.mlflow_model import (
    REGISTERED_NAME,
    USE_CASE,
    MlflowModelIOManager,
    TrainedModel,
)
from mlops_assets.resources.mlflow import MlflowResource
from mlops_assets_tests.ml.conftest import dummy_flavor, make_churn_frame, model_config

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
NAME = "io_model"
MODEL_KEY = dg.AssetKey(["io", "models", "model"])
TAGS = RunTags(dagster_run_id="concurrent-training", asset_key="io/models/model")


@dataclass(frozen=True)
class Fitted:
    """A small fitted model with what the IO manager logs beside it."""

    result: TrainingResult
    config: ModelConfig
    example: pl.DataFrame
    profiles: ReferenceProfiles


@pytest.fixture(scope="module")
def fitted() -> Fitted:
    config = model_config(flavor=dummy_flavor(), gates={"primary_metric": "roc_auc"})
    splits = split_frame(make_churn_frame(400, seed=11), config.entity_key, config.split)
    result = train_model(splits["train"], splits["validation"], config)
    drift = DriftConfig(reference_sample_size=2_000, report_sample_size=100)
    profiles = build_reference_profiles(
        result.pipeline, splits["train"], splits["validation"], config, drift
    )
    return Fitted(result, config, splits["train"].head(5), profiles)


def _assets(fitted: Fitted) -> list[dg.AssetsDefinition]:
    @dg.asset(
        key=MODEL_KEY,
        io_manager_key="mlflow_model_io",
        metadata={REGISTERED_NAME: NAME, USE_CASE: "io"},
    )
    def model(mlflow: MlflowResource) -> TrainedModel:
        """Like the training asset: the fit is logged to a run the IO manager logs the model to."""
        with start_run(mlflow.settings("io"), "train", TAGS) as run:
            result = replace(fitted.result, run_id=run.info.run_id)
        return TrainedModel(
            result=result,
            config=fitted.config,
            registered_name=NAME,
            input_example=fitted.example,
            profiles=fitted.profiles,
        )

    @dg.asset(deps=[MODEL_KEY])
    def concurrent_training(mlflow: MlflowResource) -> None:
        """Another training of the same model registers its version meanwhile."""
        settings = mlflow.settings("io")
        with start_run(settings, "concurrent", TAGS):
            log_and_register(
                fitted.result, fitted.config, settings, fitted.example, registered_name=NAME
            )

    @dg.asset(ins={"challenger": dg.AssetIn(key=MODEL_KEY)}, deps=[concurrent_training])
    def evaluated(challenger: ModelVersionInfo) -> str:
        return challenger.version

    return [model, concurrent_training, evaluated]


def _resources(root: Path) -> dict[str, object]:
    mlflow = MlflowResource(
        tracking_uri=f"sqlite:///{root / 'mlflow.db'}",
        artifact_location=(root / "artifacts").as_uri(),
        lock_dir=str(root / "locks"),
    )
    return {"mlflow": mlflow, "mlflow_model_io": MlflowModelIOManager(mlflow=mlflow)}


def _evaluated(
    fitted: Fitted,
    root: Path,
    instance: dg.DagsterInstance,
    selection: list[str] | None = None,
) -> tuple[str, dg.ExecuteInProcessResult]:
    assets = _assets(fitted)
    result = dg.materialize(
        assets,
        resources=_resources(root),
        instance=instance,
        selection=selection,
        raise_on_error=True,
    )
    version = result.output_for_node("evaluated")
    assert isinstance(version, str)
    return version, result


def test_each_reader_gets_the_version_its_upstream_materialization_registered(
    fitted: Fitted, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where the profiles are written
    settings = _resources(tmp_path)["mlflow"]
    assert isinstance(settings, MlflowResource)
    registry = Registry(settings.settings("io"), lock_dir=tmp_path / "locks")
    with dg.DagsterInstance.ephemeral() as instance:
        # the run trained v1; a concurrent training registered v2 before the reader ran
        version, result = _evaluated(fitted, tmp_path, instance)
        newest = registry.latest_version(NAME)
        assert newest is not None and newest.version == "2"
        assert version == "1"
        (event,) = [
            e for e in result.get_asset_materialization_events() if e.asset_key == MODEL_KEY
        ]
        assert event.materialization.metadata["model_version"].value == 1
        # a later run reading the model without training it: the latest materialization (v1)
        version, _ = _evaluated(fitted, tmp_path, instance, selection=["evaluated"])
        assert version == "1"
    # the drift profiles were logged with v1 and their temporary folder is gone
    trained = registry.get_version(NAME, "1")
    for artifact in (REFERENCE_PROFILE, PREDICTION_PROFILE):
        uri = artifact_uri(trained, artifact)
        assert uri is not None and uri.startswith(f"runs:/{trained.run_id}/")
    assert artifact_uri(registry.get_version(NAME, "2"), REFERENCE_PROFILE) is None
    assert not [p.name for p in scratch.iterdir() if p.name.startswith("mlops-profile-")]


def test_without_a_recorded_materialization_the_newest_version_is_used_and_said(
    fitted: Fitted, tmp_path: Path
) -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        _evaluated(fitted, tmp_path, instance)  # registers v1 (trained) and v2 (concurrent)
    with dg.DagsterInstance.ephemeral() as fresh:  # e.g. a wiped instance
        version, result = _evaluated(fitted, tmp_path, fresh, selection=["evaluated"])
        messages = [e.user_message for e in fresh.all_logs(result.run_id)]
    assert version == "2"
    assert any(
        "no materialization of io/models/model is recorded" in m and "(v2)" in m for m in messages
    ), messages
