"""Pipes steps as Databricks jobs, end to end: a Dagster asset submits the job to the fake
workspace, the entry script runs as a real process reading its context from the (mapped) Volume,
and its logs and metadata come back to Dagster through Volume message chunks."""

from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
import pytest

from mlops_assets.config.databricks import PipesSettings
from mlops_assets.databricks.jobs import entry_script_path, submit_spec
from mlops_assets.databricks.steps import (
    DeltaPath,
    ProfileRequest,
    StepContext,
    TrainRequest,
    run_profile,
)
from mlops_assets.ml.tracking import MlflowSettings
from mlops_assets.resources.databricks import DatabricksPipesResource, DatabricksResource
from mlops_assets_tests.databricks.conftest import HOST_ENV, TOKEN_ENV
from mlops_assets_tests.databricks.fake_validation import validate_body
from mlops_assets_tests.databricks.fake_workspace import FakeWorkspace

# dagster-databricks calls Dagster's preview Pipes APIs itself: not our warnings to fix.
pytestmark = pytest.mark.filterwarnings("ignore::dagster.PreviewWarning")
VOLUME = "/Volumes/main/mlops/pipes"
COMPUTES: dict[str, dict[str, Any]] = {
    "serverless": {
        "type": "serverless",
        "dependencies": ["/Volumes/main/mlops/pipes/wheels/x.whl"],
    },
    "new_cluster": {
        "type": "new_cluster",
        "spark_version": "16.4.x-scala2.12",
        "node_type_id": "Standard_D4ds_v5",
        "policy_id": "policy-123",
        "libraries": ["/Volumes/main/mlops/pipes/wheels/x.whl", "lightgbm==4.5.0"],
    },
    "existing_cluster": {"type": "existing_cluster", "cluster_id": "0101-abc"},
}


def pipes_settings(compute: str) -> PipesSettings:
    return PipesSettings.model_validate(
        {"compute": COMPUTES[compute], "poll_interval_s": 0.2, "message_interval_s": 0.2}
    )


def pipes_resource(compute: str) -> DatabricksPipesResource:
    return DatabricksPipesResource(
        databricks=DatabricksResource(host_env=HOST_ENV, token_env=TOKEN_ENV, retry_timeout_s=30),
        volume_path=VOLUME,
        settings_json=pipes_settings(compute).model_dump_json(),
    )


@pytest.fixture
def table(tmp_path: Path) -> Path:
    path = tmp_path / "table"
    pl.DataFrame(
        {"id": [1, 2, 3, 4], "x": [1.0, None, 3.0, None], "y": ["a", "b", None, "d"]}
    ).write_delta(path)
    return path


def profile_asset(table: Path) -> dg.AssetsDefinition:
    @dg.asset(key=["churn", "features", "profiled"])
    def profiled(
        context: dg.AssetExecutionContext, databricks_pipes: DatabricksPipesResource
    ) -> dg.MaterializeResult:  # type: ignore[type-arg]
        request = ProfileRequest(table=DeltaPath(path=str(table)))
        invocation = databricks_pipes.run(context, "profile", request)
        result: dg.MaterializeResult[Any] = invocation.get_materialize_result()
        return result

    return profiled


def run_logs(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    return [entry.user_message for entry in instance.all_logs(run_id)]


@pytest.mark.parametrize("compute", sorted(COMPUTES))
def test_submitted_specs_are_valid_requests(compute: str) -> None:
    task, submit_args = submit_spec(pipes_settings(compute), f"{VOLUME}/code/e.py", "run")
    from databricks.sdk.service.jobs import JobsAPI

    body = {
        "tasks": [task.as_dict()],
        **{
            k: [e.as_dict() for e in v] if isinstance(v, list) else v
            for k, v in submit_args.items()
        },
    }
    validate_body(JobsAPI.submit, body)  # what the fake checks every submit against
    spec = task.as_dict()
    if compute == "new_cluster":
        assert spec["new_cluster"]["policy_id"] == "policy-123"
        assert spec["libraries"] == [
            {"whl": "/Volumes/main/mlops/pipes/wheels/x.whl"},
            {"pypi": {"package": "lightgbm==4.5.0"}},
        ]
    if compute == "serverless":
        assert body["environments"][0]["spec"]["dependencies"] == [
            "/Volumes/main/mlops/pipes/wheels/x.whl"
        ]


@pytest.mark.parametrize("compute", sorted(COMPUTES))
def test_a_pipes_step_materializes_with_logs_and_metadata(
    fake: FakeWorkspace, dbx_environ: dict[str, str], table: Path, compute: str
) -> None:
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [profile_asset(table)],
            resources={"databricks_pipes": pipes_resource(compute)},
            instance=instance,
            raise_on_error=False,
        )
        logs = run_logs(instance, result.run_id)
        assert result.success, "\n".join(logs)
    metadata = result.asset_materializations_for_node("churn__features__profiled")[0].metadata
    assert metadata["row_count"].value == 4 and metadata["column_count"].value == 3
    assert metadata["null_counts"].value == {"id": 0, "x": 2, "y": 1}
    assert "Databricks Job Run ID" in metadata  # added by the Pipes client
    assert any("profiled 4 rows x 3 columns" in line for line in logs), logs
    assert any("step profile finished" in line for line in logs), logs
    source = (Path(__file__).parents[2] / "mlops_assets/databricks/pipes_entry.py").read_bytes()
    assert fake.volumes.local(entry_script_path(VOLUME, source)).read_bytes() == source
    leftovers = list(fake.volumes.local(f"{VOLUME}/tmp").iterdir())
    assert leftovers == [], "the Pipes context and message folders must be removed"


def test_a_failing_step_fails_the_asset_with_the_remote_error(
    fake: FakeWorkspace, dbx_environ: dict[str, str], tmp_path: Path
) -> None:
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [profile_asset(tmp_path / "missing")],
            resources={"databricks_pipes": pipes_resource("serverless")},
            instance=instance,
            raise_on_error=False,
        )
        logs = "\n".join(run_logs(instance, result.run_id))
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error
    assert failure is not None
    text = f"{failure.to_string()}\n{logs}"
    assert "StorageError" in text and "could not read" in text


def test_the_steps_run_without_pipes_too(table: Path) -> None:
    import logging

    ctx = StepContext(run_id="r", asset_key="a")
    metadata = run_profile(
        ProfileRequest(table=DeltaPath(path=str(table))), ctx, logging.getLogger("t")
    )
    assert metadata == {"row_count": 4, "column_count": 3, "null_counts": {"id": 0, "x": 2, "y": 1}}


@pytest.mark.slow
def test_training_runs_remotely_and_registers_a_three_level_model(
    fake: FakeWorkspace, dbx_environ: dict[str, str], uc_store: MlflowSettings, tmp_path: Path
) -> None:
    from mlops_assets.ml.registry import Registry
    from mlops_assets_tests.ml.conftest import make_churn_frame, model_config

    training_set = tmp_path / "training_set"
    make_churn_frame(400, seed=3).write_delta(training_set)
    config = model_config(
        flavor={
            "type": "sklearn",
            "estimator": "sklearn.linear_model.LogisticRegression",
            "params": {"max_iter": 200},
        }
    )
    request = TrainRequest(
        table=DeltaPath(path=str(training_set)),
        model=config,
        mlflow=uc_store.model_copy(update={"experiment_name": "/Shared/mlops_assets/pipes"}),
        registered_name="dev.churn.pipes_model",
        reason="remote training test",
    )

    @dg.asset(key=["churn", "models", "pipes_model"])
    def trained(
        context: dg.AssetExecutionContext, databricks_pipes: DatabricksPipesResource
    ) -> dg.MaterializeResult:  # type: ignore[type-arg]
        invocation = databricks_pipes.run(context, "train", request)
        done: dg.MaterializeResult[Any] = invocation.get_materialize_result()
        return done

    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [trained],
            resources={"databricks_pipes": pipes_resource("serverless")},
            instance=instance,
            raise_on_error=False,
        )
        logs = run_logs(instance, result.run_id)
        assert result.success, "\n".join(logs)
    metadata = result.asset_materializations_for_node("churn__models__pipes_model")[0].metadata
    version = str(metadata["model_version"].value)
    info = Registry(uc_store).get_version("dev.churn.pipes_model", version)
    assert info.run_id == metadata["mlflow_run_id"].value
    assert 0.5 < float(metadata["validation_roc_auc"].value) <= 1.0  # type: ignore[arg-type]
    assert any("registered dev.churn.pipes_model version" in line for line in logs), logs
