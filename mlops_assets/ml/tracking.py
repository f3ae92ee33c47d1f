"""MLflow tracking: where runs go, how they are tagged, and links a user can click."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from pydantic import Field

from mlops_assets.config.base import StrictModel
from mlops_assets.errors import RegistryError

if TYPE_CHECKING:
    from mlflow.entities import Run


class MlflowSettings(StrictModel):
    """Where MLflow tracks runs and registers models."""

    tracking_uri: str = Field(description="Tracking store, e.g. `sqlite:///data/mlflow.db`.")
    registry_uri: str | None = Field(
        default=None, description="Model registry; null uses the tracking store."
    )
    experiment_name: str = Field(min_length=1, description="Experiment that receives the runs.")
    artifact_location: str | None = Field(
        default=None,
        description="Artifact root used when the experiment is created (e.g. `file:///...`); "
        "null lets the server decide.",
    )
    ui_url: str | None = Field(
        default=None, description="Base URL of an MLflow UI, for links in metadata."
    )

    @property
    def effective_registry_uri(self) -> str:
        """The registry URI actually used."""
        return self.registry_uri or self.tracking_uri


class RunTags(StrictModel):
    """Provenance written on every MLflow run so it can be traced back to its Dagster run."""

    dagster_run_id: str = Field(description="Dagster run id.")
    asset_key: str = Field(description="Asset key, `/`-joined.")
    partition_key: str | None = Field(default=None, description="Partition key, if any.")
    git_commit: str | None = Field(default=None, description="Commit of the code that ran.")

    def as_mlflow_tags(self) -> dict[str, str]:
        """The tags as MLflow spells them (`dagster.run_id`, `dagster.asset_key`, ...)."""
        tags = {"dagster.run_id": self.dagster_run_id, "dagster.asset_key": self.asset_key}
        if self.partition_key is not None:
            tags["dagster.partition"] = self.partition_key
        if self.git_commit is not None:
            tags["git.commit"] = self.git_commit
        return tags


def configure(settings: MlflowSettings) -> str:
    """Point MLflow at the settings' stores and select (or create) the experiment.

    Returns:
        The experiment id.

    Raises:
        RegistryError: the tracking store cannot be reached or the experiment was deleted.
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    mlflow.set_tracking_uri(settings.tracking_uri)
    mlflow.set_registry_uri(settings.effective_registry_uri)
    client = mlflow.MlflowClient()
    name = settings.experiment_name
    try:
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            try:
                experiment_id = client.create_experiment(
                    name, artifact_location=settings.artifact_location
                )
            except MlflowException as exc:  # created concurrently by another process
                if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                    raise
                experiment = client.get_experiment_by_name(name)
                if experiment is None:
                    raise
                experiment_id = experiment.experiment_id
        elif experiment.lifecycle_stage == "deleted":
            raise RegistryError(
                f"MLflow experiment {name!r} is deleted",
                context={"tracking_uri": settings.tracking_uri},
                fix="restore it in the MLflow UI or choose another experiment_name",
            )
        else:
            experiment_id = experiment.experiment_id
        mlflow.set_experiment(experiment_id=experiment_id)
    except MlflowException as exc:
        raise RegistryError(
            f"could not select MLflow experiment {name!r}: {exc.message}",
            context={"tracking_uri": settings.tracking_uri},
            fix="check that the tracking store is reachable and the URI is right",
        ) from exc
    return str(experiment_id)


@contextmanager
def start_run(
    settings: MlflowSettings, run_name: str, tags: RunTags, *, nested: bool = False
) -> Iterator[Run]:
    """Start an MLflow run tagged with its Dagster provenance; it ends (FAILED on error) on exit.

    A top-level run first points MLflow at ``settings`` (see :func:`configure`); a nested run
    joins the active run's experiment.

    Yields:
        The active :class:`mlflow.entities.Run`.
    """
    import mlflow

    if not nested:
        configure(settings)
    with mlflow.start_run(run_name=run_name, nested=nested, tags=tags.as_mlflow_tags()) as run:
        yield run


def git_commit(path: Path | None = None) -> str | None:
    """The HEAD commit of the checkout containing ``path`` (default: cwd); None if there is none."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=path,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and len(commit) >= 7 else None


def run_url(settings: MlflowSettings, experiment_id: str, run_id: str) -> str | None:
    """Link to a run in the MLflow UI, or None when no UI URL is configured."""
    if settings.ui_url is None:
        return None
    return f"{settings.ui_url.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"


def model_version_url(settings: MlflowSettings, name: str, version: str) -> str | None:
    """Link to a registered model version in the MLflow UI, or None without a UI URL."""
    if settings.ui_url is None:
        return None
    return f"{settings.ui_url.rstrip('/')}/#/models/{quote(name, safe='')}/versions/{version}"
