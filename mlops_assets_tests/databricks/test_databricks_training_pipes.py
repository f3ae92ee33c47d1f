"""`compute: pipes` in the graph: the training asset of the real project runs as a Databricks job.

The churn training job runs (training + evaluation) on a copy of the shared trained base with the
Pipes-backed ``training_compute``: the fake workspace runs ``pipes_entry.py`` as a real
subprocess, which trains with the same core as the local asset and registers the version in the
real MLflow store of the copy; the IO manager only records it and the evaluation reads it.
"""

import json
from pathlib import Path

import dagster as dg
import mlflow
import pytest

from mlops_assets.build import build_use_case_definitions
from mlops_assets.monitoring.profile import load_profile
from mlops_assets.resources.factory import BuildOptions, build_resources
from mlops_assets.resources.pipes_compute import PipesTrainingCompute
from mlops_assets.resources.training_compute import LocalTrainingCompute
from mlops_assets_tests.assets.ml.lifecycle_helpers import (
    EVALUATION_KEY,
    MODEL,
    MODEL_KEY,
    MODEL_OP,
    USE_CASE,
    TrainedBase,
    copy_base,
    metadata,
    project_for,
    run_job,
    step_error,
    trained_base,
)
from mlops_assets_tests.assets.ml.registry_helpers import client, model_config, tracking_uri
from mlops_assets_tests.databricks.fake_workspace import FakeWorkspace
from mlops_assets_tests.databricks.test_databricks_pipes import pipes_resource, run_logs

__all__ = ["trained_base"]

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::dagster.PreviewWarning")]
OVERRIDES = {"max_iter": 40, "learning_rate": 0.1}
"""Estimator parameters the run config changes (the YAML says 150 and 0.05)."""
REASON = "retrained remotely"


def pipes_definitions(data_dir: Path) -> dg.Definitions:
    """The churn use case with the environment's resources, training bound to Pipes."""
    project = project_for(data_dir)
    resources = build_resources(project, BuildOptions(keep_serving=False))
    assert isinstance(resources["training_compute"], LocalTrainingCompute)  # local default
    resources["training_compute"] = PipesTrainingCompute(
        databricks_pipes=pipes_resource("serverless"), lakehouse=resources["lakehouse"]
    )
    return dg.Definitions.merge(
        build_use_case_definitions(project.use_case(USE_CASE)), dg.Definitions(resources=resources)
    )


def download(data_dir: Path, uri: str, target: Path) -> Path:
    return Path(
        mlflow.artifacts.download_artifacts(
            artifact_uri=uri, dst_path=str(target), tracking_uri=tracking_uri(data_dir)
        )
    )


def test_the_graph_trains_through_pipes_and_evaluates_the_remote_version(
    trained_base: TrainedBase,
    fake: FakeWorkspace,
    dbx_environ: dict[str, str],
    tmp_path: Path,
) -> None:
    data_dir = copy_base(trained_base, tmp_path)
    registry = client(data_dir)
    before = {v.version for v in registry.search_model_versions(f"name='{MODEL}'")}
    run_config = {"ops": {MODEL_OP: {"config": {"params": OVERRIDES, "reason": REASON}}}}
    with dg.instance_for_test() as instance:
        result = run_job(
            pipes_definitions(data_dir),
            "churn_training",
            instance,
            run_config=run_config,
            asset_selection=[MODEL_KEY, EVALUATION_KEY],
        )
        logs = run_logs(instance, result.run_id)
    assert result.success, step_error(result)

    # registered once, by the job: exactly one new version, the one the asset recorded
    after = {v.version for v in registry.search_model_versions(f"name='{MODEL}'")}
    assert len(after - before) == 1, (before, after)
    version = (after - before).pop()
    trained = metadata(result, MODEL_KEY)
    assert trained["model_version"] == int(version)
    assert trained["registered_model"] == MODEL
    assert trained["model_uri"] == f"models:/{MODEL}/{version}"
    mv = registry.get_model_version(MODEL, version)
    assert mv.run_id is not None and trained["mlflow_run_id"] == mv.run_id

    # the Pipes logs and metadata came back into the asset's materialization
    assert "Databricks Job Run ID" in trained
    assert trained["n_train"] > 0 and 0.5 < trained["validation_roc_auc"] <= 1.0
    assert any(f"registered {MODEL} version {version}" in line for line in logs), logs
    assert any("step train finished" in line for line in logs), logs
    assert trained["run_config"]  # the run config is shown as for a local training

    # the run: provenance, reason, overrides applied, datasets logged
    run = registry.get_run(mv.run_id)
    assert run.inputs is not None
    assert run.data.tags["mlops.compute"] == "databricks-pipes"
    assert run.data.tags["mlops.reason"] == REASON
    assert run.data.tags["dagster.run_id"] == result.run_id
    for name, value in OVERRIDES.items():
        assert run.data.params[name] == str(value)
    assert {k: json.loads(trained["params"])[k] for k in OVERRIDES} == OVERRIDES
    contexts = sorted(
        tag.value
        for dataset in run.inputs.dataset_inputs
        for tag in dataset.tags
        if tag.key == "mlflow.data.context"
    )
    assert contexts == ["training", "validation"]

    # the drift references sit where the drift asset looks: the version's artifact tags; the
    # input profile equals the local training's (same rows, same seed, same history handling)
    remote = load_profile(
        download(data_dir, mv.tags["mlops.artifact.reference_profile"], tmp_path / "remote")
    )
    first = registry.get_model_version(MODEL, "1")
    local = load_profile(
        download(data_dir, first.tags["mlops.artifact.reference_profile"], tmp_path / "local")
    )
    assert remote.numeric == list(model_config().numeric_features)
    assert remote.n_rows == trained["n_train"]
    stamp = {"created_at"}  # only when it was built differs
    assert remote.model_dump(exclude=stamp) == local.model_dump(exclude=stamp)
    assert "mlops.artifact.prediction_profile" in mv.tags

    # evaluation read exactly that version
    assert metadata(result, EVALUATION_KEY)["challenger_version"] == int(version)
