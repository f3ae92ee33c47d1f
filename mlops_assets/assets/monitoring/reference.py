"""The reference profiles stored with the monitored model version (cached locally)."""

from pathlib import Path
from typing import TYPE_CHECKING

from mlops_assets.errors import MonitoringError
from mlops_assets.ml.model_store import ModelVersionInfo, artifact_uri
from mlops_assets.resources.mlflow import MlflowResource

if TYPE_CHECKING:  # numpy and polars: imported when a day is monitored, not at load time
    from mlops_assets.monitoring.profile import ReferenceProfile


def has_profile(version: ModelVersionInfo, artifact: str) -> bool:
    """Whether ``artifact`` was stored with the model version."""
    return artifact_uri(version, artifact) is not None


def stored_profile(
    version: ModelVersionInfo, artifact: str, cache_dir: Path, mlflow: MlflowResource
) -> "ReferenceProfile":
    """Download (once, into the lakehouse's cache folder) and load a profile of the version."""
    import mlflow as mlflow_lib

    from mlops_assets.monitoring.profile import load_profile

    uri = artifact_uri(version, artifact)
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
) -> "ReferenceProfile | None":
    """The profile of the version's predictions at training time, when it has one."""
    from mlops_assets.monitoring.reference_profiles import PREDICTION_PROFILE

    if not has_profile(version, PREDICTION_PROFILE):
        return None
    return stored_profile(version, PREDICTION_PROFILE, cache_dir, mlflow)
