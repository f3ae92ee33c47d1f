"""Databricks settings of the ``databricks`` environment: Pipes compute, Model Serving, promotion.

Secrets never appear here: authentication is configured by the NAMES of environment variables
(see :class:`mlops_assets.config.environment.DatabricksEnvironment`).
"""

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from mlops_assets.config.base import StrictModel

_IDENTIFIER = r"^[a-z][a-z0-9_]*$"


class ServerlessCompute(StrictModel):
    """Serverless jobs compute: no cluster to manage; dependencies come from an environment spec."""

    type: Literal["serverless"] = Field(description="Databricks serverless jobs compute.")
    environment_version: str = Field(
        default="2", description="Serverless environment version (`client` of the spec)."
    )
    dependencies: list[str] = Field(
        default_factory=list,
        description="pip requirements of the job, e.g. the project wheel in a Volume "
        "(`/Volumes/<catalog>/<schema>/<volume>/wheels/mlops_assets-0.1.0-py3-none-any.whl`).",
    )


class NewClusterCompute(StrictModel):
    """A job cluster created for the run (and terminated after it), optionally under a policy."""

    type: Literal["new_cluster"] = Field(description="A new job cluster per run.")
    spark_version: str = Field(min_length=1, description="Runtime, e.g. `16.4.x-scala2.12`.")
    node_type_id: str = Field(min_length=1, description="Worker and driver node type.")
    num_workers: int = Field(default=1, ge=0, description="Workers (0: single node).")
    policy_id: str | None = Field(
        default=None, description="Cluster policy the cluster must satisfy (id, not name)."
    )
    libraries: list[str] = Field(
        default_factory=list, description="Wheels (Volume paths) or PyPI requirements to install."
    )

    @field_validator("policy_id", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


class ExistingClusterCompute(StrictModel):
    """An all-purpose cluster that already runs (bootstrap parameters travel as CLI arguments)."""

    type: Literal["existing_cluster"] = Field(description="An existing all-purpose cluster.")
    cluster_id: str = Field(min_length=1, description="Cluster id.")
    libraries: list[str] = Field(
        default_factory=list, description="Wheels (Volume paths) or PyPI requirements to install."
    )


PipesCompute = Annotated[
    ServerlessCompute | NewClusterCompute | ExistingClusterCompute, Field(discriminator="type")
]


class PipesSettings(StrictModel):
    """How heavy steps run as Databricks jobs through Dagster Pipes."""

    compute: PipesCompute = Field(description="Serverless, a new job cluster or an existing one.")
    volume: str = Field(
        default="pipes",
        pattern=_IDENTIFIER,
        description="Unity Catalog volume (in the environment's catalog and schema) holding the "
        "Pipes context, messages and the uploaded entry script.",
    )
    poll_interval_s: float = Field(
        default=5.0, gt=0, description="How often the run's state is polled."
    )
    message_interval_s: float = Field(
        default=10.0, gt=0, description="How often Pipes message chunks are written and read."
    )
    timeout_s: int = Field(
        default=3600, ge=60, description="Run timeout given to Databricks (`timeout_seconds`)."
    )


class ServingSettings(StrictModel):
    """Model Serving endpoint of the champion (Unity Catalog model, serverless)."""

    endpoint_prefix: str = Field(
        default="mlops",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$",
        description="Endpoint names are `<prefix>-<use case>-<model>`.",
    )
    workload_size: Literal["Small", "Medium", "Large"] = Field(
        default="Small", description="Concurrency of the served entity."
    )
    workload_type: Literal["CPU", "GPU_SMALL", "GPU_MEDIUM", "GPU_LARGE"] = Field(
        default="CPU", description="Compute type of the served entity."
    )
    scale_to_zero: bool = Field(default=True, description="Scale to zero when idle.")
    traffic_percent: int = Field(
        default=100,
        ge=1,
        le=100,
        description="Share of traffic for the new version; the rest stays on the version served "
        "before (a canary). 100 replaces it.",
    )
    ready_timeout_s: float = Field(
        default=1800.0, gt=0, description="How long a config update may take to become ready."
    )
    poll_interval_s: float = Field(
        default=10.0, gt=0, description="How often the endpoint state is polled."
    )
    smoke_rows: int = Field(default=5, ge=1, description="Rows sent by the smoke test.")


class RegistryLocation(StrictModel):
    """A Unity Catalog catalog and schema holding registered models."""

    catalog: str = Field(pattern=_IDENTIFIER, description="Catalog.")
    schema_name: str = Field(alias="schema", pattern=_IDENTIFIER, description="Schema.")


class MlflowSettingsDatabricks(StrictModel):
    """Databricks MLflow: tracking `databricks`, Unity Catalog registry (`databricks-uc`)."""

    experiment_dir: str = Field(
        default="/Shared/mlops_assets",
        pattern=r"^/",
        description="Workspace folder of the experiments (one per use case).",
    )
    promote_from: RegistryLocation | None = Field(
        default=None,
        description="Where champions are promoted from (staging: the dev catalog; prod: staging). "
        "Null: this environment trains its own models.",
    )

    @model_validator(mode="after")
    def _experiment_dir_is_a_folder(self) -> "MlflowSettingsDatabricks":
        if self.experiment_dir.rstrip("/") == "":
            raise ValueError("experiment_dir must name a folder, not the workspace root")
        return self
