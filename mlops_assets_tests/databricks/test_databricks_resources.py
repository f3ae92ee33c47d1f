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
from mlops_assets_tests.databricks.conftest import HOST_ENV, TOKEN_ENV
from mlops_assets_tests.databricks.fake_workspace import FakeWorkspace
from mlops_assets_tests.ml.conftest import make_churn_frame, model_config

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


def score_request(
    tmp_path: Path,
    store: MlflowSettings,
    version: ModelVersionInfo,
    partition: str | None,
    batch_size: int = 0,
) -> ScoreRequest:
    return ScoreRequest(
        version=version,
        alias="champion",
        model=model_config(),
        batch_size=batch_size,
        what="test rows",
        table=DeltaPath(path=f"{tmp_path}/features"),
        output=DeltaPath(path=f"{tmp_path}/predictions"),
        partition=partition,
        mlflow=store,
    )


def test_scoring_step_writes_predictions(
    tmp_path: Path, uc_store: MlflowSettings, served_models: list[ModelVersionInfo]
) -> None:
    make_churn_frame(50, seed=9).drop("churn").write_delta(f"{tmp_path}/features")
    version = served_models[0]
    request = score_request(tmp_path, uc_store, version, None, batch_size=20)
    metadata = run_score(request, StepContext(run_id="r", asset_key="a"), logging.getLogger("t"))
    assert metadata["rows"] == 50 and metadata["scoring_batches"] == 3
    assert metadata["model_uri"] == version.model_uri
    assert metadata["model_version"] == int(version.version)
    assert metadata["write"]["rows_written"] == 50 and metadata["write"]["version"] == 0
    predictions = pl.read_delta(request.output.path)  # type: ignore[union-attr]
    assert predictions.height == 50
    assert predictions["model_version"].unique().to_list() == [version.version]
    assert predictions["model_alias"].unique().to_list() == ["champion"]
    assert predictions["probability"].is_between(0, 1).all()
    assert abs(predictions["probability"].mean() - metadata["mean_probability"]) < 1e-12


def test_the_scoring_step_replaces_only_its_partition_with_the_version_it_was_given(
    tmp_path: Path, uc_store: MlflowSettings, served_models: list[ModelVersionInfo]
) -> None:
    from mlops_assets.storage.delta import PARTITION_COLUMN, read_table, write_table

    days = {"2026-01-01": make_churn_frame(20, seed=4), "2026-01-02": make_churn_frame(30, seed=5)}
    for day, frame in days.items():
        write_table(Path(tmp_path, "features"), frame.drop("churn"), partitions=[day])
    first, second = served_models[0], served_models[1]
    log = logging.getLogger("t")
    run_score(
        score_request(tmp_path, uc_store, first, "2026-01-01"),
        StepContext(run_id="r1", asset_key="a"),
        log,
    )
    run_score(
        score_request(tmp_path, uc_store, first, "2026-01-02"),
        StepContext(run_id="r2", asset_key="a"),
        log,
    )
    # the second day again, with another version: only that partition changes
    metadata = run_score(
        score_request(tmp_path, uc_store, second, "2026-01-02"),
        StepContext(run_id="r3", asset_key="a"),
        log,
    )
    assert metadata["rows"] == 30 and metadata["write"]["partitions"] == ["2026-01-02"]
    output = Path(tmp_path, "predictions")
    one, two = read_table(output, ["2026-01-01"]), read_table(output, ["2026-01-02"])
    assert one.height == 20 and one["model_version"].unique().to_list() == [first.version]
    assert two.height == 30 and two["model_version"].unique().to_list() == [second.version]
    assert sorted(two["customer_id"]) == sorted(days["2026-01-02"]["customer_id"])
    assert PARTITION_COLUMN not in one.columns


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
