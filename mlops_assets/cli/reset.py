"""A fresh start for ONE use case: its lakehouse locations and its own MLflow entries, nothing else.

Another use case's tables, landing files, reports and state, and the shared MLflow store as a
whole, are never touched: the lakehouse says which locations a use case owns, and MLflow loses
only the use case's registered model and experiment.
"""

import shutil
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field

from mlops_assets.config.project import ProjectConfig, local_environment
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.storage.lakehouse import LocalLakehouse


class ResetReport(BaseModel):
    """What a fresh start removed."""

    locations: list[str] = Field(description="Lakehouse locations deleted (those that existed).")
    registered_models: list[str] = Field(description="MLflow registered models deleted.")
    experiments: list[str] = Field(description="MLflow experiments retired (renamed, deleted).")


def reset_use_case(project: ProjectConfig, uc: UseCaseConfig) -> ResetReport:
    """Delete everything ``uc`` owns locally, so a demo starts from nothing."""
    env = local_environment(project)
    lakehouse = LocalLakehouse(env.data_dir)
    removed: list[str] = []
    for location in lakehouse.use_case_locations(uc.name):
        path = Path(location)
        if path.exists():
            shutil.rmtree(path)
            removed.append(location)
    models, experiments = reset_mlflow(project, uc)
    return ResetReport(locations=removed, registered_models=models, experiments=experiments)


def reset_mlflow(project: ProjectConfig, uc: UseCaseConfig) -> tuple[list[str], list[str]]:
    """Delete the use case's registered model and retire its experiments, training and
    monitoring (other entries stay).

    MLflow only soft-deletes an experiment and keeps its name reserved, so the experiment is
    renamed first; its runs stay recoverable in the store until ``mlflow gc``.
    """
    if uc.model is None:
        return [], []
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from mlops_assets.assets.ml.common import registered_name
    from mlops_assets.resources.factory import build_resources
    from mlops_assets.resources.mlflow import MlflowResource

    resource = build_resources(project)["mlflow"]
    assert isinstance(resource, MlflowResource)
    settings = resource.settings(uc.name)
    client = MlflowClient(
        tracking_uri=settings.tracking_uri, registry_uri=settings.effective_registry_uri
    )
    models: list[str] = []
    name = registered_name(uc)
    try:
        client.delete_registered_model(name)
        models.append(name)
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
    experiments: list[str] = []
    for name in (settings.experiment_name, settings.for_monitoring().experiment_name):
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            continue
        if experiment.lifecycle_stage == "deleted":
            client.restore_experiment(experiment.experiment_id)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        client.rename_experiment(experiment.experiment_id, f"{name} (reset {stamp})")
        client.delete_experiment(experiment.experiment_id)
        experiments.append(name)
    return models, experiments
