"""MLflow tracking: where runs go, how they are tagged, and links a user can click."""

from __future__ import annotations

import re
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
    import polars as pl
    from mlflow.entities import Run


EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
"""The experiment tag MLflow 3's UI reads to choose its layout (GenAI or model training)."""
MODEL_TRAINING_KIND = "custom_model_development"
"""The tag value that opens an experiment in model-training mode (runs, metrics, models)."""
_UC_PART = re.compile(r"^[a-z_][a-z0-9_]*$")
_REGISTERED_URI = re.compile(r"^models:/(?P<name>(?!m-)[^/@]+)(?P<rest>/\d+|@[^/@]+)$")
MODEL_NAMESPACE_PATTERN = r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$"
"""``<catalog>.<schema>``: where Unity Catalog keeps a use case's registered models."""
MONITORING_SUFFIX = "-monitoring"
"""Monitoring runs go to ``<experiment>-monitoring``, beside the training experiment (a sibling,
not a child: on Databricks an experiment path cannot also be a folder)."""


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
    model_namespace: str | None = Field(
        default=None,
        pattern=MODEL_NAMESPACE_PATTERN,
        description="`<catalog>.<schema>` prefixed to bare registered model names (Unity "
        "Catalog, `databricks-uc`); null keeps names as given (local registry).",
    )

    @property
    def effective_registry_uri(self) -> str:
        """The registry URI actually used."""
        return self.registry_uri or self.tracking_uri

    def model_name(self, name: str) -> str:
        """The registered name as this registry knows it (see :func:`qualified_model_name`)."""
        return qualified_model_name(name, self.model_namespace)

    def model_uri(self, uri: str) -> str:
        """A ``models:/`` URI naming the model as this registry knows it."""
        return qualified_model_uri(uri, self.model_namespace)

    def for_monitoring(self) -> MlflowSettings:
        """The same stores, with the use case's monitoring experiment (drift, performance)."""
        if self.experiment_name.endswith(MONITORING_SUFFIX):
            return self
        return self.model_copy(update={"experiment_name": self.experiment_name + MONITORING_SUFFIX})


def qualified_model_name(name: str, namespace: str | None) -> str:
    """``<namespace>.<name>`` for a bare name; a three-part name (``catalog.schema.model``) or no
    namespace leaves ``name`` unchanged.

    Raises:
        RegistryError: ``name`` has two parts, or a bare name is not a Unity Catalog identifier.
    """
    if namespace is None:
        return name
    parts = name.split(".")
    if len(parts) == 3:
        return name
    if len(parts) != 1 or not _UC_PART.match(name):
        raise RegistryError(
            f"cannot put model name {name!r} in Unity Catalog schema {namespace!r}",
            context={"model": name, "model_namespace": namespace},
            fix="give a bare name of lower-case letters, digits and underscores, or a "
            "three-part `catalog.schema.model`",
        )
    return f"{namespace}.{name}"


def qualified_model_uri(uri: str, namespace: str | None) -> str:
    """``models:/<name>/<version>`` or ``models:/<name>@<alias>`` with the name qualified by
    :func:`qualified_model_name`; other URIs (``runs:/``, ``models:/m-<id>`` logged models, file
    paths) are returned unchanged."""
    if namespace is None:
        return uri
    found = _REGISTERED_URI.match(uri)
    if found is None:
        return uri
    name, rest = found.group("name"), found.group("rest")
    return f"models:/{qualified_model_name(name, namespace)}{rest}"


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

    The experiment is tagged ``mlflow.experimentKind = custom_model_development`` so MLflow 3's
    UI opens it in model-training mode (runs, metrics, models), not in GenAI mode (traces).

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
            client.set_experiment_tag(experiment_id, EXPERIMENT_KIND_TAG, MODEL_TRAINING_KIND)
        elif experiment.lifecycle_stage == "deleted":
            raise RegistryError(
                f"MLflow experiment {name!r} is deleted",
                context={"tracking_uri": settings.tracking_uri},
                fix="restore it in the MLflow UI or choose another experiment_name",
            )
        else:
            experiment_id = experiment.experiment_id
            if EXPERIMENT_KIND_TAG not in experiment.tags:  # created before the tag existed
                client.set_experiment_tag(experiment_id, EXPERIMENT_KIND_TAG, MODEL_TRAINING_KIND)
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


def _on_databricks(settings: MlflowSettings) -> bool:
    """Links follow the Databricks workspace's routes (tracking ``databricks``)."""
    return settings.tracking_uri.startswith("databricks")


def run_url(settings: MlflowSettings, experiment_id: str, run_id: str) -> str | None:
    """Link to a run in the MLflow UI, or None when no UI URL is configured.

    Open-source MLflow routes ``#/experiments/<id>/runs/<run>``; a Databricks workspace
    ``/ml/experiments/<id>/runs/<run>`` (the link MLflow itself prints there).
    """
    if settings.ui_url is None:
        return None
    base = settings.ui_url.rstrip("/")
    if _on_databricks(settings):
        return f"{base}/ml/experiments/{experiment_id}/runs/{run_id}"
    return f"{base}/#/experiments/{experiment_id}/runs/{run_id}"


def model_version_url(settings: MlflowSettings, name: str, version: str) -> str | None:
    """Link to a registered model version in the MLflow UI, or None without a UI URL.

    A Unity Catalog model (``databricks-uc``) opens in Catalog Explorer at
    ``/explore/data/models/<catalog>/<schema>/<model>/version/<v>``.
    """
    if settings.ui_url is None:
        return None
    base = settings.ui_url.rstrip("/")
    if _on_databricks(settings) and settings.effective_registry_uri.startswith("databricks-uc"):
        path = "/".join(quote(part, safe="") for part in settings.model_name(name).split("."))
        return f"{base}/explore/data/models/{path}/version/{version}"
    if _on_databricks(settings):
        return f"{base}/#mlflow/models/{quote(name, safe='')}/versions/{version}"
    return f"{base}/#/models/{quote(name, safe='')}/versions/{version}"


def artifact_view_url(
    settings: MlflowSettings, experiment_id: str, run_id: str, path: str
) -> str | None:
    """Link to one artifact of a run in the MLflow UI's artifact view (HTML is shown in place)."""
    if settings.ui_url is None:
        return None
    base = settings.ui_url.rstrip("/")
    if _on_databricks(settings):
        return (
            f"{base}/#mlflow/experiments/{experiment_id}/runs/{run_id}/artifactPath/{quote(path)}"
        )
    return f"{base}/#/experiments/{experiment_id}/runs/{run_id}/artifactPath/{quote(path)}"


def artifact_content_url(settings: MlflowSettings, run_id: str, path: str) -> str | None:
    """The raw content of a run's artifact, served by the MLflow UI (for Markdown images).

    None without a UI URL, and on Databricks: the workspace serves artifacts only to a signed-in
    browser session through its own API, so plots are reached through the run's artifact view.
    """
    if settings.ui_url is None or _on_databricks(settings):
        return None
    query = f"path={quote(path, safe='')}&run_uuid={quote(run_id, safe='')}"
    return f"{settings.ui_url.rstrip('/')}/get-artifact?{query}"


def log_dataset(
    frame: pl.DataFrame,
    *,
    name: str,
    table: str,
    context: str,
    targets: str | None = None,
    version: int | None = None,
) -> None:
    """Record on the active run the dataset it used: name, digest, schema and source table.

    Only the description travels (MLflow's dataset input), never a copy of the rows; ``table``
    is the Delta table's name (``<use_case>.<layer>.<name>``, or its three-part Unity Catalog
    name) and ``context`` the role the data played (``training``, ``validation``, ``test``).
    """
    import mlflow
    from mlflow.data.delta_dataset_source import DeltaDatasetSource
    from mlflow.data.polars_dataset import from_polars

    # A name that is not a Unity Catalog table would make MLflow ask Databricks for its id, with
    # whatever DATABRICKS_HOST/TOKEN the environment holds: locally the id is the name itself.
    local = not mlflow.get_tracking_uri().startswith("databricks")
    source = DeltaDatasetSource(
        delta_table_name=table, delta_table_version=version, delta_table_id=table if local else None
    )
    dataset = from_polars(frame, source=source, name=name, targets=targets)
    mlflow.log_input(dataset, context=context)
