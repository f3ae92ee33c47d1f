"""MLflow model IO manager: a trained model output is logged and registered as a new version.

Downstream assets receive a :class:`ModelVersionInfo` (the latest registered version, or the one an
alias points at when the input asks for ``alias`` in its metadata) and load it by URI.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from mlops_assets.config.ml import ModelConfig
from mlops_assets.errors import RegistryError
from mlops_assets.ml.model_store import ModelVersionInfo
from mlops_assets.ml.training import TrainingResult
from mlops_assets.resources.mlflow import MlflowResource

REGISTERED_NAME = "mlops/registered_model"
USE_CASE = "mlops/use_case"


@dataclass(frozen=True)
class TrainedModel:
    """What a training asset returns: the fit, its config and what to log beside it."""

    result: TrainingResult
    config: ModelConfig
    registered_name: str
    input_example: pl.DataFrame
    artifacts: dict[str, Path] = field(default_factory=dict)


class MlflowModelIOManager(dg.ConfigurableIOManager):
    """Logs a :class:`TrainedModel` (signature, example, pinned requirements) and registers it."""

    mlflow: MlflowResource

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        from mlops_assets.ml.model_store import log_and_register
        from mlops_assets.ml.tracking import model_version_url

        if not isinstance(obj, TrainedModel):
            raise RegistryError(
                f"the MLflow model IO manager stores TrainedModel, not {type(obj).__name__}",
                fix="return mlops_assets.resources.io_managers.mlflow_model.TrainedModel",
            )
        use_case = str((context.definition_metadata or {}).get(USE_CASE, "default"))
        settings = self.mlflow.settings(use_case)
        info = log_and_register(
            obj.result,
            obj.config,
            settings,
            obj.input_example,
            obj.artifacts,
            registered_name=obj.registered_name,
        )
        metadata: dict[str, Any] = {
            "registered_model": info.name,
            "model_version": int(info.version),
            "model_uri": info.model_uri,
            "mlflow_run_id": info.run_id or "",
        }
        url = model_version_url(settings, info.name, info.version)
        if url:
            metadata["model_version_link"] = dg.MetadataValue.url(url)
        context.add_output_metadata(metadata)

    def load_input(self, context: dg.InputContext) -> ModelVersionInfo:
        from mlops_assets.ml.model_store import version_info
        from mlops_assets.ml.registry import Registry

        upstream = context.upstream_output
        meta = (upstream.definition_metadata if upstream else None) or {}
        name = str(meta.get(REGISTERED_NAME, ""))
        use_case = str(meta.get(USE_CASE, "default"))
        registry = Registry(self.mlflow.settings(use_case), lock_dir=self.mlflow.locks)
        alias = (context.definition_metadata or {}).get("alias")
        if alias:
            found = registry.alias_version(name, str(alias))
            if found is None:
                raise RegistryError(
                    f"model {name!r} has no @{alias} version",
                    fix="train and promote a model first (the training job)",
                )
            return found
        versions = registry.client.search_model_versions(f"name = '{name}'")
        if not versions:
            raise RegistryError(
                f"model {name!r} has no registered version",
                context={"model": name},
                fix="materialize the training asset first",
            )
        latest = max(versions, key=lambda mv: int(mv.version))
        return version_info(latest)
