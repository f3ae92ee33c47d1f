"""The champion being monitored and the reference profiles stored with it (cached locally)."""

from pathlib import Path

from mlops_assets.errors import MonitoringError, RegistryError
from mlops_assets.ml.model_store import ModelVersionInfo
from mlops_assets.ml.registry import Registry
from mlops_assets.monitoring.profile import ReferenceProfile, load_profile
from mlops_assets.resources.mlflow import MlflowResource

REFERENCE_PROFILE = "reference_profile"
PREDICTION_PROFILE = "prediction_profile"
_ARTIFACT_TAG = "mlops.artifact."


def champion(mlflow: MlflowResource, use_case: str, name: str) -> ModelVersionInfo:
    """The current ``@champion`` or a RegistryError saying how to get one."""
    found = Registry(mlflow.settings(use_case), lock_dir=mlflow.locks).alias_version(
        name, "champion"
    )
    if found is None:
        raise RegistryError(
            f"{name} has no @champion to monitor",
            context={"model": name},
            fix="run the training job until a model passes the promotion gates",
        )
    return found


def has_profile(version: ModelVersionInfo, artifact: str) -> bool:
    """Whether ``artifact`` was stored with the model version."""
    return bool(version.tags.get(f"{_ARTIFACT_TAG}{artifact}"))


def stored_profile(
    version: ModelVersionInfo, artifact: str, cache_dir: Path, mlflow: MlflowResource
) -> ReferenceProfile:
    """Download (once, into the lakehouse's cache folder) and load a profile of the version."""
    import mlflow as mlflow_lib

    uri = version.tags.get(f"{_ARTIFACT_TAG}{artifact}")
    if not uri:
        raise MonitoringError(
            f"{version.name} v{version.version} has no {artifact} stored with it",
            context={"model": version.name, "version": version.version},
            fix="retrain the model with this version of mlops_assets (profiles are stored at "
            "training time)",
        )
    target = cache_dir.joinpath(version.name, f"v{version.version}", f"{artifact}.json")
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        mlflow_lib.set_tracking_uri(mlflow.tracking_uri)
        downloaded = mlflow_lib.artifacts.download_artifacts(
            artifact_uri=uri, dst_path=str(target.parent)
        )
        Path(downloaded).replace(target)
    return load_profile(target)


def prediction_profile(
    version: ModelVersionInfo, cache_dir: Path, mlflow: MlflowResource
) -> ReferenceProfile | None:
    """The profile of the version's predictions at training time, when it has one."""
    if not has_profile(version, PREDICTION_PROFILE):
        return None
    return stored_profile(version, PREDICTION_PROFILE, cache_dir, mlflow)
