"""A fresh demo start resets exactly one use case: its locations and its own MLflow entries."""

from pathlib import Path

import narwhals as nw
import polars as pl
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from mlops_assets.assets.ml.common import registered_name
from mlops_assets.cli.reset import reset_use_case
from mlops_assets.config.project import ProjectConfig, local_environment
from mlops_assets.ml.tracking import configure
from mlops_assets.resources.factory import build_resources
from mlops_assets.resources.mlflow import MlflowResource
from mlops_assets.storage.lakehouse import LocalLakehouse, TableRef


def _fill(lakehouse: LocalLakehouse, use_case: str) -> list[Path]:
    """One table, landing file, report and state file of ``use_case``; their paths."""
    ref = TableRef(use_case=use_case, layer="silver", name="customers")
    frame = nw.from_native(pl.DataFrame({"customer_id": ["a", "b"]}))
    lakehouse.write(lakehouse.table_location(ref), frame)
    landing = lakehouse.landing_dir(use_case, "customers") / "2026-01-01" / "part.csv"
    report = lakehouse.reports_dir(use_case) / "drift" / "2026-01-01.html"
    state = lakehouse.state_path(TableRef(use_case=use_case, layer="models", name="champion"))
    for path, text in ((landing, "customer_id\na\n"), (report, "<html/>"), (state, "{}")):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return [Path(lakehouse.table_location(ref)), landing, report, state]


def _mlflow(project: ProjectConfig) -> tuple[MlflowResource, MlflowClient]:
    resource = build_resources(project)["mlflow"]
    assert isinstance(resource, MlflowResource)
    settings = resource.settings("churn")
    return resource, MlflowClient(settings.tracking_uri, settings.effective_registry_uri)


def _register(client: MlflowClient, resource: MlflowResource, use_case: str, model: str) -> str:
    """An experiment with one run, and a registered model, for ``use_case``."""
    experiment_id = configure(resource.settings(use_case))
    client.create_run(experiment_id)
    client.create_registered_model(model)
    return experiment_id


def test_reset_removes_one_use_case_and_keeps_the_others(
    project: ProjectConfig, data_dir: Path
) -> None:
    uc = project.use_case("churn")
    lakehouse = LocalLakehouse(local_environment(project).data_dir)
    churn_paths, other_paths = _fill(lakehouse, "churn"), _fill(lakehouse, "other")
    resource, client = _mlflow(project)
    churn_model = registered_name(uc)
    churn_experiment = _register(client, resource, "churn", churn_model)
    other_experiment = _register(client, resource, "other", "other_model")
    store = sorted(p.name for p in (data_dir / "mlflow").iterdir())

    report = reset_use_case(project, uc)

    assert all(not p.exists() for p in churn_paths)
    assert all(p.exists() for p in other_paths)
    other_table = TableRef(use_case="other", layer="silver", name="customers")
    assert lakehouse.read_table(other_table).collect().shape == (2, 1)
    assert set(report.locations) <= set(lakehouse.use_case_locations("churn"))
    assert str(data_dir / "lakehouse" / "churn") in report.locations
    assert report.registered_models == [churn_model]
    assert report.experiments == [resource.settings("churn").experiment_name]

    with pytest.raises(MlflowException) as missing:
        client.get_registered_model(churn_model)
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert client.get_registered_model("other_model").name == "other_model"
    retired = client.get_experiment(churn_experiment)
    assert retired.lifecycle_stage == "deleted" and "(reset " in retired.name
    kept = client.get_experiment(other_experiment)
    assert kept.lifecycle_stage == "active"
    assert len(client.search_runs([other_experiment])) == 1
    assert sorted(p.name for p in (data_dir / "mlflow").iterdir()) == store  # store kept

    # the name is free again: the next training gets a fresh, empty experiment
    fresh = configure(resource.settings("churn"))
    assert fresh != churn_experiment and client.search_runs([fresh]) == []
    again = reset_use_case(project, uc)  # idempotent; the empty fresh experiment is retired
    assert again.locations == [] and again.registered_models == []
