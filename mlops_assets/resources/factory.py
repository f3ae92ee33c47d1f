"""The one place that turns the active environment into resources."""

from typing import Any

from mlops_assets.config.environment import LocalEnvironment
from mlops_assets.config.project import ProjectConfig
from mlops_assets.errors import ConfigError
from mlops_assets.resources.io_managers.delta import LocalDeltaIOManager
from mlops_assets.resources.lakehouse import LakehouseResource


def build_resources(project: ProjectConfig) -> dict[str, Any]:
    """Resources by key for the active environment."""
    env = project.environment
    if isinstance(env, LocalEnvironment):
        data_dir = str(env.data_dir)
        return {
            "lakehouse": LakehouseResource(data_dir=data_dir),
            "lakehouse_io": LocalDeltaIOManager(data_dir=data_dir),
        }
    raise ConfigError(
        f"the {env.type!r} environment is not wired up yet in this version",
        context={"MLOPS_ENV": project.env_name},
        fix="unset MLOPS_ENV (local default) until the Databricks environment lands",
    )
