"""Training: fit the configured model on the point-in-time training set, tracked in MLflow.

Where the fit runs is the environment's ``training_compute`` resource (in process, or a Databricks
job through Pipes); the run itself is :func:`mlops_assets.workflows.training.run_training` either
way.
"""

from typing import cast

import dagster as dg

from mlops_assets.assets.keys import asset_key, group, tables
from mlops_assets.assets.ml.common import model_config, registered_name, run_tags
from mlops_assets.assets.ml.run_config import TrainingRunConfigBase, training_run_config
from mlops_assets.assets.run_config import run_config_metadata, run_config_tags
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.engines.frames import LazyFrame
from mlops_assets.resources.io_managers.mlflow_model import (
    REGISTERED_NAME,
    USE_CASE,
    RegisteredModelVersion,
    TrainedModel,
)
from mlops_assets.resources.mlflow import MlflowResource
from mlops_assets.resources.training_compute import TrainingComputeResource


def build_training_asset(uc: UseCaseConfig) -> dg.AssetsDefinition:
    """``[uc, models, <model>]``: a new registered model version per materialization."""
    model_cfg = model_config(uc)
    refs = tables(uc)
    name = registered_name(uc)
    run_config_cls = training_run_config(uc)

    @dg.asset(
        key=asset_key(refs.model),
        ins={"training_set": dg.AssetIn(key=asset_key(refs.training_set))},
        group_name=group(uc.name, "training"),
        io_manager_key="mlflow_model_io",
        dagster_type=dg.Any,  # TrainedModel | RegisteredModelVersion (the IO manager checks)
        kinds={"mlflow", "scikit-learn"},
        owners=uc.owners or None,
        description=f"{model_cfg.description}\n\nTrains `{model_cfg.flavor.type}` on the training "
        f"split (entities hashed with seed {model_cfg.split.seed}), logs params, validation "
        f"metrics, signature and the drift reference profile to MLflow, and registers "
        f"`{name}` as a new version.",
        metadata={REGISTERED_NAME: name, USE_CASE: uc.name},
    )
    def _train(
        context: dg.AssetExecutionContext,
        config: run_config_cls,  # type: ignore[valid-type]  # built per use case
        mlflow: MlflowResource,
        training_compute: TrainingComputeResource,
        training_set: LazyFrame,
    ) -> dg.Output[TrainedModel | RegisteredModelVersion]:
        from mlops_assets.monitoring.reference_profiles import history_windows
        from mlops_assets.workflows.training import TrainingSpec

        run_config = cast(TrainingRunConfigBase, config)
        spec = TrainingSpec(
            model=run_config.model(),
            registered_name=name,
            overrides=run_config.overrides(),
            reason=run_config.reason,
            tags=run_config_tags(run_config),
            dataset_name=refs.training_set.name,
            dataset_table=".".join(refs.training_set.parts),
            drift=uc.monitoring.drift,
            history=history_windows(uc),  # window features: profiled on complete history
        )
        settings = mlflow.settings(uc.name)
        trained = training_compute.train(
            context, spec, settings, run_tags(context), refs.training_set, training_set
        )
        # an Output, not the bare value: after a Pipes session Dagster wants typed events
        return dg.Output(
            trained.model, metadata={**trained.metadata, **run_config_metadata(run_config)}
        )

    return _train
