"""The Dagster resources built from the environment overlays, and what importing them costs."""

import json
import logging
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from mlops_assets.config.environment import DatabricksEnvironment
from mlops_assets.config.project import load_project
from mlops_assets.databricks.steps import DeltaPath, ScoreRequest, StepContext, run_score
from mlops_assets.ml.model_store import ModelVersionInfo
from mlops_assets.ml.tracking import MlflowSettings
from mlops_assets.resources.databricks import (
    DatabricksPipesResource,
    DatabricksResource,
    DatabricksServingResource,
    databricks_resources,
)
from mlops_assets_tests.conftest import CONFIGS_DIR
from mlops_assets_tests.databricks.conftest import HOST_ENV, MODEL, TOKEN_ENV
from mlops_assets_tests.databricks.fake_workspace import FakeWorkspace
from mlops_assets_tests.ml.conftest import CATEGORICAL, NUMERIC, make_churn_frame

HEAVY = ["databricks.sdk", "dagster_databricks", "mlflow", "sklearn", "pyspark"]


def environment(name: str) -> DatabricksEnvironment:
    env = load_project(CONFIGS_DIR, env=name, environ={"MLOPS_DATA_DIR": "/tmp/unused"}).environment
    assert isinstance(env, DatabricksEnvironment)
    return env


@pytest.mark.parametrize("name", ["databricks-dev", "databricks-staging", "databricks-prod"])
def test_every_overlay_builds_the_three_resources(name: str) -> None:
    env = environment(name)
    resources = databricks_resources(env)
    assert set(resources) == {"databricks", "databricks_pipes", "databricks_serving"}
    pipes = resources["databricks_pipes"]
    assert isinstance(pipes, DatabricksPipesResource)
    assert pipes.volume_path == f"/Volumes/{env.catalog}/{env.schema_name}/pipes"
    assert pipes.settings() == env.pipes
    serving = resources["databricks_serving"]
    assert isinstance(serving, DatabricksServingResource) and serving.settings() == env.serving
    databricks = resources["databricks"]
    assert isinstance(databricks, DatabricksResource) and databricks.auth_type == env.auth_type


def test_the_overlays_differ_where_environments_should() -> None:
    dev, staging, prod = (environment(f"databricks-{n}") for n in ("dev", "staging", "prod"))
    assert [e.catalog for e in (dev, staging, prod)] == ["mlops_dev", "mlops_staging", "mlops_prod"]
    assert dev.pipes is not None and dev.pipes.compute.type == "serverless"
    assert prod.pipes is not None and prod.pipes.compute.type == "new_cluster"
    assert dev.mlflow.promote_from is None
    assert (
        staging.mlflow.promote_from is not None
        and staging.mlflow.promote_from.catalog == "mlops_dev"
    )
    assert (
        prod.mlflow.promote_from is not None and prod.mlflow.promote_from.catalog == "mlops_staging"
    )
    assert prod.serving.traffic_percent < 100 and not prod.serving.scale_to_zero


def test_the_cluster_policy_comes_from_the_environment() -> None:
    environ = {"MLOPS_DATA_DIR": "/tmp/unused", "DATABRICKS_CLUSTER_POLICY_ID": "ABC123"}
    prod = load_project(CONFIGS_DIR, env="databricks-prod", environ=environ).environment
    assert isinstance(prod, DatabricksEnvironment) and prod.pipes is not None
    assert prod.pipes.compute.type == "new_cluster" and prod.pipes.compute.policy_id == "ABC123"
    unset = environment("databricks-prod")
    assert unset.pipes is not None and unset.pipes.compute.type == "new_cluster"
    assert unset.pipes.compute.policy_id is None  # blank means no policy, not ""


def test_the_resource_names_the_principal(fake: FakeWorkspace, dbx_environ: dict[str, str]) -> None:
    resource = DatabricksResource(host_env=HOST_ENV, token_env=TOKEN_ENV)
    assert resource.current_principal() == "fake-user@example.com"
    assert resource.workspace_client() is resource.workspace_client()  # built once


def test_scoring_step_writes_predictions(
    tmp_path: Path, uc_store: MlflowSettings, served_models: list[ModelVersionInfo]
) -> None:
    source, output = f"{tmp_path}/features", f"{tmp_path}/predictions"
    make_churn_frame(50, seed=9).drop("churn").write_delta(source)
    version = served_models[0].version
    request = ScoreRequest(
        table=DeltaPath(path=source),
        output=DeltaPath(path=output),
        mlflow=uc_store,
        model_name=MODEL,
        version=version,
        alias="champion",
        entity_key="customer_id",
        timestamp="observed_at",
        features=[*NUMERIC, *CATEGORICAL],
    )
    metadata = run_score(request, StepContext(run_id="r", asset_key="a"), logging.getLogger("t"))
    assert metadata == {"row_count": 50, "model_uri": f"models:/{MODEL}/{version}"}
    predictions = pl.read_delta(output)
    assert predictions.height == 50 and predictions["model_version"].unique().to_list() == [version]
    assert predictions["probability"].is_between(0, 1).all()


def test_importing_the_databricks_modules_loads_no_heavy_library() -> None:
    code = (
        "import sys, json\n"
        "import mlops_assets.resources.databricks, mlops_assets.databricks.jobs\n"
        "import mlops_assets.databricks.serving, mlops_assets.databricks.registry_uc\n"
        "import mlops_assets.databricks.steps, mlops_assets.databricks.smoke\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_the_scoring_step_qualifies_a_bare_name_with_the_model_namespace(
    tmp_path: Path, uc_store: MlflowSettings, served_models: list[ModelVersionInfo]
) -> None:
    source, output = f"{tmp_path}/features", f"{tmp_path}/predictions"
    make_churn_frame(20, seed=4).drop("churn").write_delta(source)
    namespace, bare = MODEL.rsplit(".", 1)
    version = served_models[0].version
    request = ScoreRequest(
        table=DeltaPath(path=source),
        output=DeltaPath(path=output),
        mlflow=uc_store.model_copy(update={"model_namespace": namespace}),
        model_name=bare,
        version=version,
        entity_key="customer_id",
        timestamp="observed_at",
        features=[*NUMERIC, *CATEGORICAL],
    )
    metadata = run_score(request, StepContext(run_id="r", asset_key="a"), logging.getLogger("t"))
    assert metadata == {"row_count": 20, "model_uri": f"models:/{MODEL}/{version}"}
    assert pl.read_delta(output)["model_name"].unique().to_list() == [MODEL]
