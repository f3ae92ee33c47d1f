"""MLflow in model-training terms: experiment kind, monitoring experiment, datasets, links."""

import polars as pl

from mlops_assets.ml.tracking import (
    EXPERIMENT_KIND_TAG,
    MODEL_TRAINING_KIND,
    MlflowSettings,
    RunTags,
    artifact_content_url,
    artifact_view_url,
    configure,
    log_dataset,
    model_version_url,
    run_url,
    start_run,
)


def test_experiments_open_in_model_training_mode(settings: MlflowSettings) -> None:
    import mlflow

    client = mlflow.MlflowClient(settings.tracking_uri)
    experiment_id = configure(settings)
    assert client.get_experiment(experiment_id).tags[EXPERIMENT_KIND_TAG] == MODEL_TRAINING_KIND
    client.delete_experiment_tag(experiment_id, EXPERIMENT_KIND_TAG)  # made by an older version
    assert EXPERIMENT_KIND_TAG not in client.get_experiment(experiment_id).tags
    assert configure(settings) == experiment_id
    assert client.get_experiment(experiment_id).tags[EXPERIMENT_KIND_TAG] == MODEL_TRAINING_KIND


def test_monitoring_runs_have_their_own_experiment(settings: MlflowSettings) -> None:
    import mlflow

    monitoring = settings.for_monitoring()
    assert monitoring.experiment_name == f"{settings.experiment_name}-monitoring"
    assert monitoring.for_monitoring() == monitoring
    assert monitoring.tracking_uri == settings.tracking_uri
    tags = RunTags(dagster_run_id="r1", asset_key="churn/monitoring/drift")
    with start_run(settings, "train", tags) as training:
        pass
    with start_run(monitoring, "drift", tags) as drift:
        pass
    client = mlflow.MlflowClient(settings.tracking_uri)
    assert training.info.experiment_id != drift.info.experiment_id
    experiment = client.get_experiment(drift.info.experiment_id)
    assert experiment.name == monitoring.experiment_name
    assert experiment.tags[EXPERIMENT_KIND_TAG] == MODEL_TRAINING_KIND


def test_datasets_are_logged_by_digest_and_source_without_a_copy(
    settings: MlflowSettings,
) -> None:
    import mlflow

    frame = pl.DataFrame({"tenure": [1, 5, 9], "churn": ["No", "Yes", "No"]})
    tags = RunTags(dagster_run_id="r2", asset_key="churn/models/classifier")
    with start_run(settings, "train", tags) as run:
        log_dataset(
            frame, name="training_set", table="churn.features.training_set", context="training"
        )
        log_dataset(frame.head(1), name="training_set", table="churn.features.training_set",
                    context="validation", version=4)  # fmt: skip
    client = mlflow.MlflowClient(settings.tracking_uri)
    logged = client.get_run(run.info.run_id).inputs
    assert logged is not None
    inputs = logged.dataset_inputs
    by_context = {i.tags[0].value: i.dataset for i in inputs}
    assert set(by_context) == {"training", "validation"}
    training = by_context["training"]
    assert training.name == "training_set" and training.source_type == "delta_table"
    assert '"delta_table_name": "churn.features.training_set"' in training.source
    assert '"delta_table_version": 4' in by_context["validation"].source
    assert training.digest != by_context["validation"].digest  # the digest follows the rows
    assert "tenure" in str(training.schema) and "churn" in str(training.schema)
    artifacts = client.list_artifacts(run.info.run_id)
    assert artifacts == []  # the description only: no copy of the rows


def test_artifact_links_open_the_mlflow_ui() -> None:
    ui = MlflowSettings(tracking_uri="sqlite:///x.db", experiment_name="e", ui_url="http://h:5000/")
    assert (
        artifact_view_url(ui, "7", "abc", "evidently/2026-01-03.html")
        == "http://h:5000/#/experiments/7/runs/abc/artifactPath/evidently/2026-01-03.html"
    )
    assert (
        artifact_content_url(ui, "abc", "plots/roc curve.png")
        == "http://h:5000/get-artifact?path=plots%2Froc%20curve.png&run_uuid=abc"
    )
    bare = MlflowSettings(tracking_uri="sqlite:///x.db", experiment_name="e")
    assert artifact_view_url(bare, "7", "abc", "x.html") is None
    assert artifact_content_url(bare, "abc", "x.png") is None


def test_links_on_databricks_follow_the_workspace_routes() -> None:
    """On Databricks the links use the workspace's routes, the same ones MLflow builds there:
    runs under /ml/experiments, Unity Catalog versions in Catalog Explorer (three-part name)."""
    from mlflow.utils.databricks_utils import (
        _construct_databricks_run_url,
        _construct_databricks_uc_registered_model_url,
    )

    host = "https://adb-123.4.azuredatabricks.net"
    uc = MlflowSettings(
        tracking_uri="databricks",
        registry_uri="databricks-uc",
        experiment_name="/Shared/mlops_assets/churn",
        ui_url=host + "/",
        model_namespace="main.churn",
    )
    assert run_url(uc, "7", "abc") == f"{host}/ml/experiments/7/runs/abc"
    assert model_version_url(uc, "churn_classifier", "3") == (
        _construct_databricks_uc_registered_model_url(host, "main.churn.churn_classifier", "3")
    )
    assert artifact_view_url(uc, "7", "abc", "evidently/d.html") == _construct_databricks_run_url(
        host, "7", "abc", artifact_path="evidently/d.html"
    ).replace(host, host + "/", 1)
    # artifacts are served only to a signed-in workspace session: no embedded image URL
    assert artifact_content_url(uc, "abc", "plots/roc.png") is None
    workspace_registry = uc.model_copy(update={"registry_uri": "databricks"})
    assert model_version_url(workspace_registry, "m", "2") == f"{host}/#mlflow/models/m/versions/2"
