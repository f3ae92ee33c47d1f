"""Where the graph runs: the embedded local default or Databricks.

This module is the one place that decides the environment; everything else (storage roots, table
names, MLflow URIs, compute) derives from the validated :data:`EnvironmentConfig`.
"""

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from mlops_assets.config.base import StrictModel


class LocalEnvironment(StrictModel):
    """Polars + delta-rs + a local MLflow store; no JVM, no server, no cloud."""

    type: Literal["local"] = Field(description="The embedded local environment.")
    data_dir: Path = Field(
        description="Root of landing files, Delta tables, MLflow store and reports "
        "(relative paths are resolved against the project root)."
    )
    mlflow_tracking_uri: str | None = Field(
        default=None,
        description="MLflow tracking URI; default a SQLite store under data_dir.",
    )
    mlflow_ui_url: str | None = Field(
        default=None, description="Base URL of an MLflow UI for links in asset metadata."
    )
    executor: Literal["in_process", "multiprocess"] = Field(
        default="in_process",
        description="Dagster executor: in-process avoids re-importing the code location per step.",
    )

    @property
    def tracking_uri(self) -> str:
        return self.mlflow_tracking_uri or f"sqlite:///{self.data_dir / 'mlflow' / 'mlflow.db'}"

    @property
    def artifact_root(self) -> Path:
        return self.data_dir / "mlflow" / "artifacts"

    @property
    def lakehouse_dir(self) -> Path:
        return self.data_dir / "lakehouse"

    @property
    def landing_dir(self) -> Path:
        return self.data_dir / "landing"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"


class DatabricksEnvironment(StrictModel):
    """Spark (Databricks Connect or Pipes jobs), Unity Catalog, Databricks MLflow and Serving."""

    type: Literal["databricks"] = Field(description="Databricks workspace environment.")
    host_env: str = Field(
        default="DATABRICKS_HOST", description="Name of the env var holding the workspace URL."
    )
    token_env: str = Field(
        default="DATABRICKS_TOKEN", description="Name of the env var holding the access token."
    )
    catalog: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Unity Catalog catalog.")
    schema_name: str = Field(
        alias="schema", pattern=r"^[a-z][a-z0-9_]*$", description="Unity Catalog schema."
    )
    compute: Literal["connect", "pipes"] = Field(
        default="connect", description="Databricks Connect session or Pipes jobs on clusters."
    )
    cluster_id: str | None = Field(default=None, description="Cluster for Connect/Pipes runs.")
    data_dir: Path = Field(
        default=Path(".mlops_data"),
        description="Local scratch folder (reports, locks) on the machine running Dagster.",
    )
    executor: Literal["in_process", "multiprocess"] = Field(
        default="in_process", description="Dagster executor."
    )


EnvironmentConfig = Annotated[LocalEnvironment | DatabricksEnvironment, Field(discriminator="type")]
