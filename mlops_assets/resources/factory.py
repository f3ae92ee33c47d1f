"""The one place that turns the active environment into resources."""

import os
from typing import Any

from pydantic import BaseModel, Field

from mlops_assets.config.environment import DatabricksEnvironment, LocalEnvironment
from mlops_assets.config.project import ProjectConfig
from mlops_assets.resources.alerts import AlertsResource
from mlops_assets.resources.feature_compute import (
    FeatureComputeResource,
    LocalFeatureCompute,
)
from mlops_assets.resources.io_managers.delta import LakehouseIOManager
from mlops_assets.resources.io_managers.json_state import PydanticJsonIOManager
from mlops_assets.resources.io_managers.mlflow_model import MlflowModelIOManager
from mlops_assets.resources.lakehouse import LakehouseResource, UnityCatalogLakehouseResource
from mlops_assets.resources.mlflow import MlflowResource
from mlops_assets.resources.scoring_compute import (
    LocalScoringCompute,
    ScoringComputeResource,
)
from mlops_assets.resources.serving import LocalServingResource
from mlops_assets.resources.training_compute import (
    LocalTrainingCompute,
    TrainingComputeResource,
)
from mlops_assets.storage.lakehouse import Lakehouse, LocalLakehouse


class BuildOptions(BaseModel):
    """Knobs of a Definitions build that are not configuration (e.g. for headless demos)."""

    keep_serving: bool = Field(
        default=True, description="Leave deployed endpoints running after the deployment run."
    )


def build_resources(project: ProjectConfig, options: BuildOptions | None = None) -> dict[str, Any]:
    """Resources by key for the active environment."""
    options = options or BuildOptions()
    env = project.environment
    if isinstance(env, LocalEnvironment):
        return local_resources(env, options)
    return databricks_environment_resources(env, options)


def databricks_environment_resources(
    env: DatabricksEnvironment, options: BuildOptions | None = None
) -> dict[str, Any]:
    """Unity Catalog tables through Spark Connect, Databricks MLflow with the Unity Catalog
    registry, and the Databricks clients (workspace, Pipes, Model Serving)."""
    from mlops_assets.resources.databricks import databricks_resources

    options = options or BuildOptions()
    scratch = LocalLakehouse(env.data_dir)
    lakehouse = UnityCatalogLakehouseResource(
        data_dir=str(env.data_dir),
        catalog=env.catalog,
        schema_name=env.schema_name,
        volume_root=str(env.volume_root),
    )
    mlflow = MlflowResource(
        tracking_uri="databricks",
        registry_uri="databricks-uc",
        experiment_root=env.mlflow.experiment_dir,
        model_namespace=f"{env.catalog}.{env.schema_name}",
        # links in metadata open the workspace (its URL is not a secret; the token is)
        ui_url=os.environ.get(env.host_env) or None,
        lock_dir=str(scratch.cache_dir("locks")),
    )
    clients = databricks_resources(env)
    training: TrainingComputeResource = LocalTrainingCompute()
    scoring: ScoringComputeResource = LocalScoringCompute()
    features: FeatureComputeResource = LocalFeatureCompute()
    if env.compute == "pipes":  # heavy steps as Databricks jobs (validated: `pipes:` is set)
        from mlops_assets.resources.pipes_compute import (
            PipesFeatureCompute,
            PipesScoringCompute,
            PipesTrainingCompute,
        )

        pipes = clients["databricks_pipes"]
        training = PipesTrainingCompute(databricks_pipes=pipes, lakehouse=lakehouse)
        scoring = PipesScoringCompute(databricks_pipes=pipes, lakehouse=lakehouse)
        features = PipesFeatureCompute(databricks_pipes=pipes, lakehouse=lakehouse)
    return {
        **_shared(lakehouse, mlflow, scratch, options),
        **clients,
        "serving": clients["databricks_serving"],  # the endpoint asset's one serving interface
        "training_compute": training,
        "scoring_compute": scoring,
        "feature_compute": features,
    }


def local_resources(env: LocalEnvironment, options: BuildOptions | None = None) -> dict[str, Any]:
    """Polars + delta-rs + a local MLflow store + local serving, all under ``env.data_dir``."""
    options = options or BuildOptions()
    env.artifact_root.mkdir(parents=True, exist_ok=True)
    lakehouse = LakehouseResource(data_dir=str(env.data_dir))
    house = lakehouse.get()
    mlflow = MlflowResource(
        tracking_uri=env.tracking_uri,
        artifact_location=env.artifact_root.as_uri(),
        ui_url=env.mlflow_ui_url,
        lock_dir=str(house.cache_dir("locks")),
    )
    return _shared(lakehouse, mlflow, house, options)


def _shared(
    lakehouse: LakehouseResource,
    mlflow: MlflowResource,
    scratch: Lakehouse,
    options: BuildOptions,
) -> dict[str, Any]:
    """The resources every environment binds, around its lakehouse and MLflow."""
    return {
        "lakehouse": lakehouse,
        "lakehouse_io": LakehouseIOManager(lakehouse=lakehouse),
        "state_io": PydanticJsonIOManager(lakehouse=lakehouse),
        "mlflow": mlflow,
        "mlflow_model_io": MlflowModelIOManager(mlflow=mlflow),
        "serving": LocalServingResource(
            state_dir=str(scratch.cache_dir("serving")), keep_running=options.keep_serving
        ),
        "alerts": AlertsResource(),
        "training_compute": LocalTrainingCompute(),
        "scoring_compute": LocalScoringCompute(),
        "feature_compute": LocalFeatureCompute(),
    }
