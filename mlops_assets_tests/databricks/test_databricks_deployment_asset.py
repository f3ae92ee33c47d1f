"""The endpoint asset on Databricks: the same asset as locally, served through Model Serving.

The asset is materialized with the ``serving`` resource the ``databricks`` environment binds
(:class:`DatabricksServingResource`) against the fake workspace, whose invocations are answered
by the REAL registered models of a local SQLite registry. A failed smoke test of the next
champion rolls the endpoint back to the version it served before and fails the asset.
"""

from pathlib import Path

import dagster as dg
import pytest

from mlops_assets.assets.ml.common import registered_name
from mlops_assets.assets.ml.deployment import build_deployment_asset
from mlops_assets.config.databricks import ServingSettings
from mlops_assets.config.project import load_project
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.ml.decisions import ChampionState
from mlops_assets.ml.model_store import ModelVersionInfo
from mlops_assets.ml.tracking import MlflowSettings
from mlops_assets.resources.databricks import DatabricksResource, DatabricksServingResource
from mlops_assets.resources.io_managers.json_state import PydanticJsonIOManager
from mlops_assets.resources.lakehouse import LakehouseResource
from mlops_assets.resources.mlflow import MlflowResource
from mlops_assets.resources.serving import EndpointState
from mlops_assets.storage.tables import UseCaseTables
from mlops_assets_tests.conftest import CONFIGS_DIR
from mlops_assets_tests.databricks.conftest import HOST_ENV, TOKEN_ENV
from mlops_assets_tests.databricks.fake_workspace import FakeWorkspace

ENDPOINT_PREFIX = "mlops-test"


@pytest.fixture(scope="module")
def churn() -> UseCaseConfig:
    return load_project(
        CONFIGS_DIR, env="local", environ={"MLOPS_DATA_DIR": "/nonexistent"}
    ).use_case("churn")


@pytest.fixture(scope="module")
def churn_versions(uc_store: MlflowSettings, churn: UseCaseConfig) -> list[ModelVersionInfo]:
    """Two real versions registered under the name the churn assets use, each with a passing
    gate decision recorded (only approved versions are served)."""
    from mlops_assets.ml.gates import decide
    from mlops_assets.ml.model_store import log_and_register
    from mlops_assets.ml.registry import Registry
    from mlops_assets.ml.split import split_frame
    from mlops_assets.ml.tracking import RunTags, start_run
    from mlops_assets.ml.training import train_model
    from mlops_assets_tests.ml.conftest import make_churn_frame, model_config

    splits = split_frame(make_churn_frame(400), "customer_id", model_config().split)
    versions = []
    for c in (1.0, 0.1):
        flavor = {
            "type": "sklearn",
            "estimator": "sklearn.linear_model.LogisticRegression",
            "params": {"max_iter": 200, "C": c},
        }
        config = model_config(flavor=flavor)
        tags = RunTags(dagster_run_id="test", asset_key="churn/models/model")
        with start_run(uc_store, "train", tags):
            result = train_model(splits["train"], splits["validation"], config)
            versions.append(
                log_and_register(
                    result,
                    config,
                    uc_store,
                    splits["train"].head(5),
                    registered_name=registered_name(churn),
                )
            )
    metrics = {"roc_auc": 0.9, "accuracy": 0.8}
    for version in versions:
        Registry(uc_store).record_decision(
            version.name, version.version, decide(metrics, None, model_config().gates), metrics
        )
    return versions


def _resources(data_dir: Path, store: MlflowSettings) -> dict[str, object]:
    settings = ServingSettings.model_validate(
        {
            "endpoint_prefix": ENDPOINT_PREFIX,
            "ready_timeout_s": 20,
            "poll_interval_s": 0.05,
            "smoke_rows": 3,
        }
    )
    databricks = DatabricksResource(host_env=HOST_ENV, token_env=TOKEN_ENV, retry_timeout_s=20)
    lakehouse = LakehouseResource(data_dir=str(data_dir))
    state = PydanticJsonIOManager(lakehouse=lakehouse)
    return {
        "serving": DatabricksServingResource(
            databricks=databricks, settings_json=settings.model_dump_json(by_alias=True)
        ),
        "mlflow": MlflowResource(
            tracking_uri=store.tracking_uri,
            experiment_root="/Shared/mlops_assets/tests",
            lock_dir=str(data_dir / "locks"),
        ),
        "state_io": state,
    }


def _crown(data_dir: Path, uc: UseCaseConfig, version: str, previous: str | None) -> None:
    """Record the champion state the champion asset would have written."""
    house = LakehouseResource(data_dir=str(data_dir)).get()
    path = house.state_path(UseCaseTables(uc).champion)
    path.parent.mkdir(parents=True, exist_ok=True)
    name = registered_name(uc)
    state = ChampionState(
        model_name=name,
        champion_version=version,
        champion_uri=f"models:/{name}@champion",
        promoted=True,
        previous_champion=previous,
        reason="test",
    )
    path.write_text(state.model_dump_json(), encoding="utf-8")


def _deploy(uc: UseCaseConfig, data_dir: Path, store: MlflowSettings) -> dg.ExecuteInProcessResult:
    with dg.DagsterInstance.ephemeral() as instance:
        return dg.materialize(
            [
                build_deployment_asset(uc),
                # the champion asset's state, read as the deployment reads it (not re-run here)
                dg.SourceAsset(UseCaseTables(uc).champion.parts, io_manager_key="state_io"),
            ],
            resources=_resources(data_dir, store),
            instance=instance,
            raise_on_error=False,
        )


def _served(fake: FakeWorkspace, endpoint: str) -> list[tuple[str, int]]:
    config = fake.serving.endpoints[endpoint].config
    assert config is not None
    return sorted(
        (e["entity_version"], int(r["traffic_percentage"]))
        for e in config["served_entities"]
        for r in config["traffic_config"]["routes"]
        if r["served_model_name"] == e["name"]
    )


def test_the_endpoint_asset_deploys_to_model_serving_and_rolls_back_a_failed_smoke_test(
    fake: FakeWorkspace,
    dbx_environ: dict[str, str],
    uc_store: MlflowSettings,
    churn: UseCaseConfig,
    churn_versions: list[ModelVersionInfo],
    tmp_path: Path,
) -> None:
    from mlops_assets.databricks.endpoint_config import endpoint_name

    fake.serving.registry_uri = uc_store.tracking_uri
    v1, v2 = churn_versions
    name = registered_name(churn)
    endpoint = endpoint_name(ENDPOINT_PREFIX, churn.name, name)
    key = dg.AssetKey(UseCaseTables(churn).endpoint.parts)

    # 1. the first champion: the endpoint is created, smoke-tested through the asset
    _crown(tmp_path, churn, v1.version, None)
    first = _deploy(churn, tmp_path, store=uc_store)
    assert first.success
    state = first.asset_value(key)
    assert isinstance(state, EndpointState)
    assert (state.endpoint, state.model_version, state.running) == (endpoint, v1.version, True)
    assert state.url == f"{dbx_environ[HOST_ENV]}/serving-endpoints/{endpoint}"
    assert len(state.smoke_test_predictions) == 3
    assert all(0.0 <= p <= 1.0 for p in state.smoke_test_predictions)
    meta = first.get_asset_materialization_events()[0].materialization.metadata
    assert meta["endpoint"].value == f"{state.url}/invocations"
    assert meta["model_version"].value == int(v1.version)
    assert _served(fake, endpoint) == [(v1.version, 100)]
    assert fake.serving.invocations[-1] == (endpoint, f"{name}-{v1.version}", v1.version)

    # 2. the next champion answers garbage: rolled back to v1, the asset fails and says so
    fake.serving.answers[(name, v2.version)] = "wrong_shape"
    _crown(tmp_path, churn, v2.version, v1.version)
    second = _deploy(churn, tmp_path, store=uc_store)
    assert not second.success
    failure = next(e for e in second.all_events if e.is_step_failure)
    error = failure.step_failure_data.error
    assert error is not None
    text = error.to_string()
    assert "ServingError" in text and "rolled back to its previous config" in text, text[-2000:]
    assert _served(fake, endpoint) == [(v1.version, 100)]
    history = [
        c["served_entities"][0]["entity_version"] for c in fake.serving.endpoints[endpoint].history
    ]
    assert history == [v1.version, v2.version, v1.version]
    assert second.get_asset_materialization_events() == []
