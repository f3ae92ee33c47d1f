"""Training: fit the configured model on the point-in-time training set, tracked in MLflow."""

from typing import Any

import dagster as dg
from pydantic import Field

from mlops_assets.assets.keys import asset_key, group, tables
from mlops_assets.assets.ml.common import model_config, registered_name, run_tags
from mlops_assets.assets.ml.metadata import training_metadata
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.engines.frames import LazyFrame
from mlops_assets.resources.io_managers.mlflow_model import REGISTERED_NAME, USE_CASE, TrainedModel
from mlops_assets.resources.mlflow import MlflowResource


class TrainingRunConfig(dg.Config):
    """Launchpad knobs of one training run (YAML stays the default)."""

    params: dict[str, Any] = Field(
        default_factory=dict,
        description="Estimator parameters overriding the YAML for this run, e.g. "
        '{"max_iter": 300, "learning_rate": 0.05}.',
    )
    reason: str = Field(default="", description="Why this run was started (recorded in MLflow).")


def build_training_asset(uc: UseCaseConfig) -> dg.AssetsDefinition:
    """``[uc, models, <model>]``: a new registered model version per materialization."""
    model_cfg = model_config(uc)
    refs = tables(uc)
    name = registered_name(uc)

    @dg.asset(
        key=asset_key(refs.model),
        ins={"training_set": dg.AssetIn(key=asset_key(refs.training_set))},
        group_name=group(uc.name, "training"),
        io_manager_key="mlflow_model_io",
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
        config: TrainingRunConfig,
        mlflow: MlflowResource,
        training_set: LazyFrame,
    ) -> TrainedModel:
        import mlflow as mlflow_lib

        from mlops_assets.ml.columns import collect_columns, training_columns
        from mlops_assets.ml.split import split_frame
        from mlops_assets.ml.tracking import run_url, start_run
        from mlops_assets.ml.training import train_model
        from mlops_assets.monitoring.reference_profiles import build_reference_profiles

        settings = mlflow.settings(uc.name)
        rows = collect_columns(training_set, training_columns(model_cfg))
        splits = split_frame(rows, model_cfg.entity_key, model_cfg.split)
        train, validation = splits["train"], splits["validation"]
        with start_run(settings, f"train {name}", run_tags(context)) as run:
            if config.reason:
                mlflow_lib.set_tag("mlops.reason", config.reason)
            mlflow_lib.log_params({"n_train": train.height, "n_validation": validation.height})
            result = train_model(train, validation, model_cfg, config.params)
            profiles = build_reference_profiles(
                result.pipeline, train, validation, model_cfg, uc.monitoring.drift
            )
            url = run_url(settings, run.info.experiment_id, run.info.run_id)
            context.add_output_metadata(training_metadata(result, run.info.run_id, url))
        return TrainedModel(
            result=result,
            config=model_cfg,
            registered_name=name,
            input_example=train.head(5),
            profiles=profiles,
        )

    return _train
