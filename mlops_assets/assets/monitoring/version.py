"""The model version a monitoring run judges against: ``@champion`` or the one its run asks for."""

from mlops_assets.assets.monitoring.reference import champion
from mlops_assets.ml.model_store import ModelVersionInfo
from mlops_assets.ml.registry import Registry
from mlops_assets.resources.mlflow import MlflowResource


def judged_version(
    mlflow: MlflowResource, use_case: str, name: str, version: str
) -> ModelVersionInfo:
    """The registered ``version`` (RegistryError if it does not exist), else the champion."""
    if not version:
        return champion(mlflow, use_case, name)
    return Registry(mlflow.settings(use_case), lock_dir=mlflow.locks).get_version(name, version)
