"""The model version a monitoring run judges against: ``@champion`` or the one its run asks for."""

from mlops_assets.ml.model_store import ModelVersionInfo
from mlops_assets.resources.mlflow import MlflowResource


def judged_version(
    mlflow: MlflowResource, use_case: str, name: str, version: str
) -> ModelVersionInfo | None:
    """The registered ``version`` (RegistryError if it does not exist), else the approved
    champion; None when no version was asked for and there is no ``@champion`` yet (the
    monitoring assets then record a day without a verdict instead of failing)."""
    from mlops_assets.ml.registry import CHAMPION, Registry

    registry = Registry(mlflow.settings(use_case), lock_dir=mlflow.locks)
    if version:
        return registry.get_version(name, version)
    if registry.alias_version(name, CHAMPION) is None:
        return None
    return registry.require_champion(name, "monitor")
