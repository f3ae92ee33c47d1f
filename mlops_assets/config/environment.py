"""Where the graph runs: the embedded local default or Databricks.

This module is the one place that decides the environment; everything else (storage roots, table
names, MLflow URIs, compute) derives from the validated :data:`EnvironmentConfig`.
"""

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from mlops_assets.config.base import EnvVarName, StrictModel
from mlops_assets.config.databricks import MlflowSettingsDatabricks, PipesSettings, ServingSettings


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


class DatabricksEnvironment(StrictModel):
    """Spark (Databricks Connect or Pipes jobs), Unity Catalog, Databricks MLflow and Serving."""

    type: Literal["databricks"] = Field(description="Databricks workspace environment.")
    host_env: EnvVarName = Field(
        default="DATABRICKS_HOST", description="Name of the env var holding the workspace URL."
    )
    token_env: EnvVarName = Field(
        default="DATABRICKS_TOKEN", description="Name of the env var holding the access token."
    )
    auth_type: Literal["pat", "oauth-m2m"] = Field(
        default="pat",
        description="`pat`: host + personal access token; `oauth-m2m`: a service principal's "
        "OAuth client id + secret (recommended for production).",
    )
    client_id_env: EnvVarName = Field(
        default="DATABRICKS_CLIENT_ID",
        description="Name of the env var holding the service principal's client id (oauth-m2m).",
    )
    client_secret_env: EnvVarName = Field(
        default="DATABRICKS_CLIENT_SECRET",
        description="Name of the env var holding the service principal's secret (oauth-m2m).",
    )
    retry_timeout_s: float = Field(
        default=300.0,
        gt=0,
        description="SDK retry budget: 429/503 answers are retried (honouring Retry-After) "
        "until it runs out.",
    )
    http_timeout_s: float = Field(default=60.0, gt=0, description="Timeout of one HTTP request.")
    catalog: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Unity Catalog catalog.")
    schema_name: str = Field(
        alias="schema", pattern=r"^[a-z][a-z0-9_]*$", description="Unity Catalog schema."
    )
    compute: Literal["connect", "pipes"] = Field(
        default="connect", description="Databricks Connect session or Pipes jobs on clusters."
    )
    cluster_id: str | None = Field(default=None, description="Cluster for Connect/Pipes runs.")
    pipes: PipesSettings | None = Field(
        default=None, description="Pipes jobs (required when compute is `pipes`)."
    )
    serving: ServingSettings = Field(
        default_factory=ServingSettings, description="Model Serving endpoints."
    )
    mlflow: MlflowSettingsDatabricks = Field(
        default_factory=MlflowSettingsDatabricks,
        description="Databricks MLflow and the Unity Catalog model registry.",
    )
    data_dir: Path = Field(
        default=Path(".mlops_data"),
        description="Local scratch folder (reports, locks) on the machine running Dagster.",
    )
    volume_root: Path = Field(
        default=Path("/Volumes"),
        description="Where Unity Catalog Volumes are mounted for the Dagster process (landing "
        "files, reports, JSON state): `/Volumes` on Databricks compute; elsewhere a mounted or "
        "synchronised copy.",
    )
    executor: Literal["in_process", "multiprocess"] = Field(
        default="in_process", description="Dagster executor."
    )

    @model_validator(mode="after")
    def _pipes_settings_when_pipes(self) -> "DatabricksEnvironment":
        if self.compute == "pipes" and self.pipes is None:
            raise ValueError("compute `pipes` needs a `pipes:` section (compute, volume)")
        return self


EnvironmentConfig = Annotated[LocalEnvironment | DatabricksEnvironment, Field(discriminator="type")]
