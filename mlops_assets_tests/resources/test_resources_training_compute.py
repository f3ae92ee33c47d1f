"""Where training runs: the environment binds ``training_compute``; a version registered by a job
is recorded by the MLflow model IO manager without a second registration; the training set's
source comes from the lakehouse."""

import os
from pathlib import Path

import dagster as dg
import pytest

from mlops_assets.config.project import load_project
from mlops_assets.databricks.steps import DeltaPath, UnityCatalogTable, table_source
from mlops_assets.errors import RegistryError
from mlops_assets.ml.model_store import ModelVersionInfo, log_and_register
from mlops_assets.ml.registry import Registry
from mlops_assets.ml.split import split_frame
from mlops_assets.ml.tracking import RunTags, start_run
from mlops_assets.ml.training import train_model
from mlops_assets.resources.factory import build_resources
from mlops_assets.resources.io_managers.mlflow_model import (
    REGISTERED_NAME,
    USE_CASE,
    MlflowModelIOManager,
    RegisteredModelVersion,
)
from mlops_assets.resources.mlflow import MlflowResource
from mlops_assets.resources.pipes_compute import PipesTrainingCompute
from mlops_assets.resources.training_compute import (
    LocalTrainingCompute,
    registered_version,
)
from mlops_assets.storage.lakehouse import LocalLakehouse, TableRef
from mlops_assets_tests.conftest import CONFIGS_DIR
from mlops_assets_tests.ml.conftest import dummy_flavor, make_churn_frame, model_config
from mlops_assets_tests.resources.test_resources_factory import FAKE

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
NAME = "remote_model"
KEY = dg.AssetKey(["io", "models", "remote"])
TRAINING_SET = TableRef(use_case="churn", layer="features", name="training_set")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ("local", LocalTrainingCompute),
        ("databricks", LocalTrainingCompute),  # compute: connect
        ("databricks-dev", PipesTrainingCompute),  # compute: pipes
    ],
)
def test_each_environment_binds_its_training_compute(
    data_dir: Path, env: str, expected: type
) -> None:
    environ = {**FAKE, "MLOPS_DATA_DIR": str(data_dir)}
    resources = build_resources(load_project(CONFIGS_DIR, env=env, environ=environ))
    compute = resources["training_compute"]
    assert type(compute) is expected
    if isinstance(compute, PipesTrainingCompute):
        assert compute.databricks_pipes is resources["databricks_pipes"]
        assert compute.lakehouse is resources["lakehouse"]


def test_the_training_set_source_comes_from_the_lakehouse(data_dir: Path) -> None:
    local = LocalLakehouse(data_dir)
    assert table_source(local, TRAINING_SET) == DeltaPath(path=local.table_location(TRAINING_SET))
    environ = {**FAKE, "MLOPS_DATA_DIR": str(data_dir)}
    project = load_project(CONFIGS_DIR, env="databricks-dev", environ=environ)
    house = build_resources(project)["lakehouse"].get()  # names need no Spark session
    source = table_source(house, TRAINING_SET)
    assert source == UnityCatalogTable(name=house.table_location(TRAINING_SET))
    assert source.name.endswith(".features_training_set") and source.name.count(".") == 2


def _registered_elsewhere(mlflow: MlflowResource) -> ModelVersionInfo:
    """What a Databricks job does: train, log and register a version in the shared registry."""
    config = model_config(flavor=dummy_flavor())
    splits = split_frame(make_churn_frame(300, seed=5), config.entity_key, config.split)
    settings = mlflow.settings("io")
    with start_run(settings, "remote", RunTags(dagster_run_id="job", asset_key="io/models/remote")):
        result = train_model(splits["train"], splits["validation"], config)
        return log_and_register(
            result, config, settings, splits["train"].head(5), registered_name=NAME
        )


def _run(
    root: Path, output: RegisteredModelVersion, instance: dg.DagsterInstance
) -> dg.ExecuteInProcessResult:
    @dg.asset(key=KEY, io_manager_key="mlflow_model_io", dagster_type=dg.Any,
              metadata={REGISTERED_NAME: NAME, USE_CASE: "io"})  # fmt: skip
    def remote() -> RegisteredModelVersion:
        return output

    @dg.asset(ins={"challenger": dg.AssetIn(key=KEY)})
    def evaluated(challenger: ModelVersionInfo) -> str:
        return challenger.version

    mlflow = MlflowResource(
        tracking_uri=f"sqlite:///{root / 'mlflow.db'}",
        artifact_location=(root / "artifacts").as_uri(),
        lock_dir=str(root / "locks"),
    )
    return dg.materialize(
        [remote, evaluated],
        resources={"mlflow": mlflow, "mlflow_model_io": MlflowModelIOManager(mlflow=mlflow)},
        instance=instance,
        raise_on_error=False,
    )


def test_a_version_registered_by_a_job_is_recorded_not_registered_again(tmp_path: Path) -> None:
    mlflow = MlflowResource(
        tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
        artifact_location=(tmp_path / "artifacts").as_uri(),
        lock_dir=str(tmp_path / "locks"),
    )
    first = _registered_elsewhere(mlflow)
    second = _registered_elsewhere(mlflow)  # the newest version is NOT the one recorded below
    assert first.run_id is not None
    output = RegisteredModelVersion(NAME, first.version, first.run_id, first.model_uri)
    with dg.instance_for_test() as instance:
        result = _run(tmp_path, output, instance)
    assert result.success
    recorded = result.asset_materializations_for_node("io__models__remote")[0].metadata
    assert recorded["model_version"].value == int(first.version)
    assert recorded["mlflow_run_id"].value == first.run_id
    assert recorded["model_uri"].value == f"models:/{NAME}/{first.version}"
    assert result.output_for_node("evaluated") == first.version  # that exact version
    registry = Registry(mlflow.settings("io"))
    latest = registry.latest_version(NAME)
    assert latest is not None and latest.version == second.version  # nothing new registered


def test_a_reported_version_from_another_run_is_refused(tmp_path: Path) -> None:
    mlflow = MlflowResource(
        tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
        artifact_location=(tmp_path / "artifacts").as_uri(),
        lock_dir=str(tmp_path / "locks"),
    )
    found = _registered_elsewhere(mlflow)
    output = RegisteredModelVersion(NAME, found.version, "not-that-run", found.model_uri)
    with dg.instance_for_test() as instance:
        result = _run(tmp_path, output, instance)
    assert not result.success
    error = result.get_step_failure_events()[0].step_failure_data.error
    assert error is not None and "same MLflow registry" in error.to_string()


def test_a_job_report_without_its_version_fails_clearly() -> None:
    reported: dict[str, object] = {
        "registered_model": dg.MetadataValue.text(NAME),
        "model_uri": dg.MetadataValue.text(f"models:/{NAME}/3"),
    }
    with pytest.raises(RegistryError) as info:
        registered_version(reported)
    assert "mlflow_run_id, model_version" in str(info.value) and info.value.fix
    reported |= {"model_version": dg.MetadataValue.int(3), "mlflow_run_id": "r1"}
    assert registered_version(reported) == RegisteredModelVersion(
        NAME, "3", "r1", f"models:/{NAME}/3"
    )
