"""The typed MLflow resource: where runs are tracked and models registered."""

from pathlib import Path

import dagster as dg
from pydantic import Field

from mlops_assets.ml.tracking import MlflowSettings


class MlflowResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Tracking and registry URIs, artifact root and UI links; one experiment per use case."""

    tracking_uri: str = Field(description="MLflow tracking URI (local: a SQLite store).")
    registry_uri: str | None = Field(default=None, description="Registry URI (default: tracking).")
    artifact_location: str | None = Field(
        default=None, description="Artifact root for new experiments, e.g. file:///.../artifacts."
    )
    ui_url: str | None = Field(default=None, description="MLflow UI base URL for links.")
    lock_dir: str = Field(description="Folder of the inter-process promotion locks.")
    experiment_root: str = Field(
        default="mlops_assets",
        description="Experiments are `<experiment_root>/<use_case>` (a workspace folder such as "
        "`/Shared/mlops_assets` on Databricks).",
    )
    model_namespace: str | None = Field(
        default=None,
        description="`<catalog>.<schema>` of registered models (Unity Catalog): bare names "
        "become `<catalog>.<schema>.<name>`; null (local) keeps them as they are.",
    )

    def settings(self, use_case: str) -> MlflowSettings:
        """Settings for the use case's experiment."""
        return MlflowSettings(
            tracking_uri=self.tracking_uri,
            registry_uri=self.registry_uri,
            experiment_name=f"{self.experiment_root.rstrip('/')}/{use_case}",
            artifact_location=self.artifact_location,
            ui_url=self.ui_url,
            model_namespace=self.model_namespace,
        )

    @property
    def locks(self) -> Path:
        path = Path(self.lock_dir)
        path.mkdir(parents=True, exist_ok=True)
        return path
