"""Names and provenance shared by the model lifecycle assets."""

import dagster as dg

from mlops_assets.config.ml import ModelConfig
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.ml.tracking import MlflowSettings, RunTags, git_commit
from mlops_assets.resources.mlflow import MlflowResource


def model_config(uc: UseCaseConfig) -> ModelConfig:
    assert uc.model is not None, "model assets are only built for use cases with a model"
    return uc.model


def registered_name(uc: UseCaseConfig) -> str:
    """``<use_case>_<model>`` locally (``<catalog>.<schema>.<...>`` in Unity Catalog)."""
    return f"{uc.name}_{model_config(uc).name}"


def run_tags(context: dg.AssetExecutionContext) -> RunTags:
    """MLflow tags tying a run to its Dagster run, asset, partition and commit."""
    return RunTags(
        dagster_run_id=context.run_id,
        asset_key=context.asset_key.to_user_string(),
        partition_key=context.partition_key if context.has_partition_key else None,
        git_commit=git_commit(),
    )


def use_mlflow(mlflow: MlflowResource, use_case: str) -> MlflowSettings:
    """Point this process's MLflow client at the resource's stores and return the settings.

    ``models:/`` URIs (loading a model, reading its signature or input example) resolve against
    the process-global registry URI: a step that runs in a fresh process (the daemon, the
    multiprocess executor) would otherwise look in MLflow's default store.
    """
    import mlflow as mlflow_lib

    settings = mlflow.settings(use_case)
    mlflow_lib.set_tracking_uri(settings.tracking_uri)
    mlflow_lib.set_registry_uri(settings.effective_registry_uri)
    return settings
