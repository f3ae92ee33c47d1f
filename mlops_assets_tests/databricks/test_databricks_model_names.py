"""Unity Catalog model names in the graph: the assets' bare ``<use_case>_<model>`` becomes
``<catalog>.<schema>.<use_case>_<model>`` in the ``databricks`` environment, without any asset
knowing it.

The environment's MLflow resource carries ``<catalog>.<schema>``; the MLflow model IO manager,
the registry and the Model Serving resource qualify names with it. Checked here in what really
leaves the process: the names a real local SQLite registry holds (it accepts three-part names)
and the served entity the fake workspace received from the endpoint asset.
"""

from dataclasses import replace
from pathlib import Path

import dagster as dg
import pytest
from mlflow import MlflowClient

from mlops_assets.assets.ml.common import registered_name
from mlops_assets.assets.ml.deployment import build_deployment_asset
from mlops_assets.config.databricks import ServingSettings
from mlops_assets.config.environment import DatabricksEnvironment, LocalEnvironment
from mlops_assets.config.project import load_project
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.ml.decisions import ChampionState
from mlops_assets.ml.gates import decide
from mlops_assets.ml.model_store import ModelVersionInfo
from mlops_assets.ml.registry import Registry
from mlops_assets.ml.split import split_frame
from mlops_assets.ml.tracking import MlflowSettings, RunTags, start_run
from mlops_assets.ml.training import train_model
from mlops_assets.resources.databricks import DatabricksResource, DatabricksServingResource
from mlops_assets.resources.factory import databricks_environment_resources, local_resources
from mlops_assets.resources.io_managers.json_state import PydanticJsonIOManager
from mlops_assets.resources.io_managers.mlflow_model import (
    REGISTERED_NAME,
    USE_CASE,
    MlflowModelIOManager,
    TrainedModel,
)
from mlops_assets.resources.lakehouse import LakehouseResource
from mlops_assets.resources.mlflow import MlflowResource
from mlops_assets.storage.tables import UseCaseTables
from mlops_assets_tests.conftest import CONFIGS_DIR
from mlops_assets_tests.databricks.conftest import HOST_ENV, TOKEN_ENV
from mlops_assets_tests.databricks.fake_workspace import FakeWorkspace
from mlops_assets_tests.ml.conftest import make_churn_frame, model_config

NAMESPACE = "names_dev.churn"
METRICS = {"roc_auc": 0.9, "accuracy": 0.8}
ENVIRON = {"MLOPS_DATA_DIR": "/nonexistent", "MLOPS_CATALOG": "names_dev"}


@pytest.fixture(scope="module")
def churn() -> UseCaseConfig:
    return load_project(CONFIGS_DIR, env="local", environ=ENVIRON).use_case("churn")


def _mlflow(store: MlflowSettings, data_dir: Path) -> MlflowResource:
    """The shared SQLite store, with the namespace the databricks environment gives."""
    return MlflowResource(
        tracking_uri=store.tracking_uri,
        artifact_location=store.artifact_location,
        experiment_root="/Shared/mlops_assets/names",
        model_namespace=NAMESPACE,
        lock_dir=str(data_dir / "locks"),
    )


def test_the_databricks_environment_qualifies_names_and_the_local_one_does_not(
    tmp_path: Path, churn: UseCaseConfig
) -> None:
    project = load_project(CONFIGS_DIR, env="databricks-dev", environ=ENVIRON)
    env = project.environment
    assert isinstance(env, DatabricksEnvironment)
    env = env.model_copy(update={"data_dir": tmp_path / "dbx"})
    mlflow = databricks_environment_resources(env)["mlflow"]
    assert isinstance(mlflow, MlflowResource)
    assert mlflow.model_namespace == f"{env.catalog}.{env.schema_name}" == NAMESPACE
    settings = mlflow.settings("churn")
    bare = registered_name(churn)
    assert settings.model_name(bare) == f"{NAMESPACE}.{bare}"

    local_env = load_project(CONFIGS_DIR, env="local", environ=ENVIRON).environment
    assert isinstance(local_env, LocalEnvironment)
    local_env = local_env.model_copy(update={"data_dir": tmp_path / "local"})
    local = local_resources(local_env)["mlflow"]
    assert local.model_namespace is None
    assert local.settings("churn").model_name(bare) == bare


def test_the_model_io_manager_registers_and_reads_three_part_names(
    uc_store: MlflowSettings, churn: UseCaseConfig, tmp_path: Path
) -> None:
    """A training-like asset returns the bare name; the version lands under the three-part one
    and the downstream asset receives it."""
    config = model_config()
    splits = split_frame(make_churn_frame(300, seed=5), config.entity_key, config.split)
    fitted = train_model(splits["train"], splits["validation"], config)
    bare = registered_name(churn)
    mlflow = _mlflow(uc_store, tmp_path)

    @dg.asset(
        key=["churn", "models", "churn_model"],
        io_manager_key="mlflow_model_io",
        metadata={REGISTERED_NAME: bare, USE_CASE: churn.name},
    )
    def model(mlflow: MlflowResource) -> TrainedModel:
        tags = RunTags(dagster_run_id="names", asset_key="churn/models/churn_model")
        with start_run(mlflow.settings(churn.name), "train", tags) as run:
            result = replace(fitted, run_id=run.info.run_id)
        return TrainedModel(result, config, bare, splits["train"].head(5))

    @dg.asset(ins={"model": dg.AssetIn(key=["churn", "models", "churn_model"])})
    def reader(model: ModelVersionInfo) -> str:
        return model.name

    with dg.DagsterInstance.ephemeral() as instance:
        done = dg.materialize(
            [model, reader],
            resources={"mlflow": mlflow, "mlflow_model_io": MlflowModelIOManager(mlflow=mlflow)},
            instance=instance,
        )
    full = f"{NAMESPACE}.{bare}"
    assert done.output_for_node("reader") == full
    meta = done.get_asset_materialization_events()[0].materialization.metadata
    assert meta["registered_model"].value == full
    client = MlflowClient(tracking_uri=uc_store.tracking_uri)
    held = {m.name for m in client.search_registered_models(f"name LIKE '%{bare}'")}
    assert full in held
    # nothing of this run under the bare name (the session store is shared: other tests, e.g.
    # the deployment asset's, register the bare name on purpose)
    bare_runs = {v.run_id for v in client.search_model_versions(f"name='{bare}'")}
    assert meta["mlflow_run_id"].value not in bare_runs


def _register(store: MlflowSettings, bare: str) -> ModelVersionInfo:
    """A version registered the way the graph does (bare name, namespaced settings), with a
    passing gate decision recorded (only approved versions are served)."""
    from mlops_assets.ml.model_store import log_and_register

    config = model_config(
        flavor={
            "type": "sklearn",
            "estimator": "sklearn.linear_model.LogisticRegression",
            "params": {"max_iter": 200},
        }
    )
    splits = split_frame(make_churn_frame(300, seed=7), config.entity_key, config.split)
    tags = RunTags(dagster_run_id="names", asset_key="churn/models/churn_model")
    with start_run(store, "train", tags):
        result = train_model(splits["train"], splits["validation"], config)
        info = log_and_register(
            result, config, store, splits["train"].head(5), registered_name=bare
        )
    Registry(store).record_decision(
        bare, info.version, decide(METRICS, None, config.gates), METRICS
    )
    return info


def test_the_endpoint_asset_serves_the_three_part_name(
    fake: FakeWorkspace,
    dbx_environ: dict[str, str],
    uc_store: MlflowSettings,
    churn: UseCaseConfig,
    tmp_path: Path,
) -> None:
    from mlops_assets.databricks.endpoint_config import endpoint_name

    mlflow = _mlflow(uc_store, tmp_path)
    bare = registered_name(churn)
    version = _register(mlflow.settings(churn.name), bare)
    full = f"{NAMESPACE}.{bare}"
    assert version.name == full
    fake.serving.registry_uri = uc_store.tracking_uri  # the fake answers with the real model

    house = LakehouseResource(data_dir=str(tmp_path)).get()
    path = house.state_path(UseCaseTables(churn).champion)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = ChampionState(  # what the champion asset writes: the bare name the assets use
        model_name=bare,
        champion_version=version.version,
        champion_uri=f"models:/{bare}@champion",
        promoted=True,
        previous_champion=None,
        reason="test",
    )
    path.write_text(state.model_dump_json(), encoding="utf-8")
    serving = ServingSettings.model_validate(
        {
            "endpoint_prefix": "names",
            "ready_timeout_s": 20,
            "poll_interval_s": 0.05,
            "smoke_rows": 2,
        }
    )
    databricks = DatabricksResource(host_env=HOST_ENV, token_env=TOKEN_ENV, retry_timeout_s=20)
    resources = {
        "serving": DatabricksServingResource(
            databricks=databricks, settings_json=serving.model_dump_json(by_alias=True)
        ),
        "mlflow": mlflow,
        "state_io": PydanticJsonIOManager(lakehouse=LakehouseResource(data_dir=str(tmp_path))),
    }
    with dg.DagsterInstance.ephemeral() as instance:
        done = dg.materialize(
            [
                build_deployment_asset(churn),
                dg.SourceAsset(UseCaseTables(churn).champion.parts, io_manager_key="state_io"),
            ],
            resources=resources,
            instance=instance,
        )
    endpoint = endpoint_name("names", churn.name, bare)
    config = fake.serving.endpoints[endpoint].config
    assert config is not None
    sent = [(e["entity_name"], e["entity_version"]) for e in config["served_entities"]]
    assert sent == [(full, version.version)]  # the request body the fake validated
    assert fake.serving.invocations[-1] == (endpoint, f"{bare}-{version.version}", version.version)
    served = done.asset_value(UseCaseTables(churn).endpoint.parts)
    assert (served.model_name, served.model_uri) == (full, f"models:/{full}/{version.version}")
