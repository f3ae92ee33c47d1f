"""MLflow model IO manager: a trained model output is logged and registered as a new version.

A :class:`RegisteredModelVersion` output (a version a Databricks job already registered) is only
recorded: its name, version, run and URI go into the materialization, nothing is registered again.

Downstream assets receive a :class:`ModelVersionInfo`: the version the upstream materialization
registered (its ``model_version`` metadata), so two trainings running at once each evaluate their
own model; or the version an alias points at when the input asks for ``alias`` in its metadata.
"""

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg

from mlops_assets.config.ml import ModelConfig
from mlops_assets.errors import RegistryError
from mlops_assets.ml.model_store import ModelVersionInfo
from mlops_assets.resources.mlflow import MlflowResource

if TYPE_CHECKING:  # polars, numpy and scikit-learn types: not imported at code-location load
    import polars as pl

    from mlops_assets.ml.tracking import MlflowSettings
    from mlops_assets.ml.training import TrainingResult
    from mlops_assets.monitoring.reference_profiles import ReferenceProfiles

REGISTERED_NAME = "mlops/registered_model"
USE_CASE = "mlops/use_case"
MODEL_VERSION = "model_version"
"""Output metadata key holding the registered version (an integer)."""
_PAGE = 50


@dataclass(frozen=True)
class TrainedModel:
    """What a training asset returns: the fit, its config and what to log beside it."""

    result: "TrainingResult"
    config: ModelConfig
    registered_name: str
    input_example: "pl.DataFrame"
    profiles: "ReferenceProfiles | None" = None
    artifacts: dict[str, Path] = field(default_factory=dict)


@dataclass(frozen=True)
class RegisteredModelVersion:
    """What a training asset returns when the version was registered elsewhere (a Pipes job)."""

    registered_name: str
    """The full registry name (``catalog.schema.model`` on Unity Catalog)."""
    version: str
    run_id: str
    model_uri: str
    """``models:/<registered_name>/<version>``."""


class MlflowModelIOManager(dg.ConfigurableIOManager):
    """Logs a :class:`TrainedModel` (signature, example, pinned requirements) and registers it;
    records a :class:`RegisteredModelVersion` as it is."""

    mlflow: MlflowResource

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        from mlops_assets.ml.model_store import log_and_register
        from mlops_assets.monitoring.reference_profiles import saved_profiles

        use_case = str((context.definition_metadata or {}).get(USE_CASE, "default"))
        settings = self.mlflow.settings(use_case)
        if isinstance(obj, RegisteredModelVersion):
            info = self._registered(obj, settings)
            context.add_output_metadata(version_metadata(info, settings))
            return
        if not isinstance(obj, TrainedModel):
            raise RegistryError(
                "the MLflow model IO manager stores TrainedModel or RegisteredModelVersion, "
                f"not {type(obj).__name__}",
                fix="return mlops_assets.resources.io_managers.mlflow_model.TrainedModel",
            )
        files: AbstractContextManager[dict[str, Path]] = (
            saved_profiles(obj.profiles) if obj.profiles is not None else nullcontext({})
        )
        with files as profile_files:
            info = log_and_register(
                obj.result,
                obj.config,
                settings,
                obj.input_example,
                {**obj.artifacts, **profile_files},
                registered_name=obj.registered_name,
            )
        context.add_output_metadata(version_metadata(info, settings))

    def _registered(
        self, obj: RegisteredModelVersion, settings: "MlflowSettings"
    ) -> ModelVersionInfo:
        """The version as this process's registry sees it (it must exist and match)."""
        from mlops_assets.ml.registry import Registry

        info = Registry(settings, lock_dir=self.mlflow.locks).get_version(
            obj.registered_name, obj.version
        )
        if info.run_id != obj.run_id:
            raise RegistryError(
                f"{obj.registered_name} v{obj.version} was registered from run {info.run_id}, "
                f"not {obj.run_id}",
                context={"model": obj.registered_name, "version": obj.version},
                fix="point the job and the Dagster process at the same MLflow registry",
            )
        return info

    def load_input(self, context: dg.InputContext) -> ModelVersionInfo:
        from mlops_assets.ml.registry import CHAMPION, Registry

        upstream = context.upstream_output
        meta = (upstream.definition_metadata if upstream else None) or {}
        settings = self.mlflow.settings(str(meta.get(USE_CASE, "default")))
        name = settings.model_name(str(meta.get(REGISTERED_NAME, "")))  # catalog.schema. on UC
        registry = Registry(settings, lock_dir=self.mlflow.locks)
        alias = (context.definition_metadata or {}).get("alias")
        if alias == CHAMPION:
            return registry.require_champion(name, purpose=f"feed {context.asset_key.path[-1]}")
        if alias:
            found = registry.alias_version(name, str(alias))
            if found is None:
                raise RegistryError(
                    f"model {name!r} has no @{alias} version",
                    fix="train and promote a model first (the training job)",
                )
            return found
        version = materialized_version(context)
        if version is not None:
            return registry.get_version(name, version)
        latest = registry.latest_version(name)
        if latest is None:
            raise RegistryError(
                f"model {name!r} has no registered version",
                context={"model": name},
                fix="materialize the training asset first",
            )
        context.log.warning(
            f"no materialization of {context.asset_key.to_user_string()} is recorded on this "
            f"Dagster instance: using the newest registered version of {name} "
            f"(v{latest.version})"
        )
        return latest


def version_metadata(info: ModelVersionInfo, settings: "MlflowSettings") -> dict[str, Any]:
    """The registered version as output metadata (``model_version`` is what readers look up)."""
    from mlops_assets.ml.tracking import model_version_url

    metadata: dict[str, Any] = {
        "registered_model": info.name,
        MODEL_VERSION: int(info.version),
        "model_uri": info.model_uri,
        "mlflow_run_id": info.run_id or "",
    }
    url = model_version_url(settings, info.name, info.version)
    if url:
        metadata["model_version_link"] = dg.MetadataValue.url(url)
    return metadata


def materialized_version(context: dg.InputContext) -> str | None:
    """The model version registered by the upstream materialization this input reads.

    The upstream run's own materialization when the model was trained in this run (or the run
    it re-executes), else the asset's latest materialization; None when the instance has none.
    """
    run_id: str | None = None
    if context.upstream_output is not None:
        try:
            run_id = context.upstream_output.run_id
        except dg.DagsterInvariantViolationError:  # not produced in this run
            run_id = None
    key = context.asset_key
    found = _find_version(context.instance, key, run_id) if run_id else None
    return found or _find_version(context.instance, key, None)


def _find_version(instance: dg.DagsterInstance, key: dg.AssetKey, run_id: str | None) -> str | None:
    """The ``model_version`` of the newest materialization of ``key`` (by ``run_id`` if given)."""
    cursor: str | None = None
    while True:
        page = instance.fetch_materializations(key, limit=_PAGE, cursor=cursor)
        for record in page.records:
            if run_id is not None and record.run_id != run_id:
                continue
            event = record.asset_materialization
            value = event.metadata.get(MODEL_VERSION) if event is not None else None
            return None if value is None else str(value.value)
        if not page.has_more:
            return None
        cursor = page.cursor
