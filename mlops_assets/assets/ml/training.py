"""Training: fit the configured model on the point-in-time training set, tracked in MLflow."""

from typing import cast

import dagster as dg

from mlops_assets.assets.keys import asset_key, group, tables
from mlops_assets.assets.ml.common import model_config, registered_name, run_tags
from mlops_assets.assets.ml.metadata import training_metadata
from mlops_assets.assets.ml.run_config import TrainingRunConfigBase, training_run_config
from mlops_assets.assets.run_config import run_config_metadata, run_config_tags
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.engines.frames import LazyFrame
from mlops_assets.resources.io_managers.mlflow_model import REGISTERED_NAME, USE_CASE, TrainedModel
from mlops_assets.resources.mlflow import MlflowResource


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
        training_set: LazyFrame,
    ) -> TrainedModel:
        import mlflow as mlflow_lib

        from mlops_assets.ml.columns import collect_columns, training_columns
        from mlops_assets.ml.frames import check_columns
        from mlops_assets.ml.split import split_frame
        from mlops_assets.ml.tracking import log_dataset, run_url, start_run
        from mlops_assets.ml.training import train_model
        from mlops_assets.monitoring.reference_profiles import (
            build_reference_profiles,
            complete_history_rows,
            history_windows,
        )

        run_config = cast(TrainingRunConfigBase, config)
        settings = mlflow.settings(uc.name)
        run_model = run_config.model()
        rows = collect_columns(training_set, training_columns(run_model))
        check_columns(rows, run_model, need_label=True, what="training")  # typed, before any run
        splits = split_frame(rows, run_model.entity_key, run_model.split)
        train, validation = splits["train"], splits["validation"]
        with start_run(settings, f"train {name}", run_tags(context)) as run:
            if run_config.reason:
                mlflow_lib.set_tag("mlops.reason", run_config.reason)
            mlflow_lib.set_tags(run_config_tags(run_config))
            mlflow_lib.log_params({"n_train": train.height, "n_validation": validation.height})
            for split, rows_of_split in (("training", train), ("validation", validation)):
                log_dataset(
                    rows_of_split,
                    name=refs.training_set.name,
                    table=".".join(refs.training_set.parts),
                    context=split,
                    targets=run_model.label,
                )
            result = train_model(train, validation, run_model, run_config.overrides())
            profiles = build_reference_profiles(
                result.pipeline,
                train,
                validation,
                run_model,
                uc.monitoring.drift,
                complete_history_rows(training_set, history_windows(uc)),  # window features
            )
            url = run_url(settings, run.info.experiment_id, run.info.run_id)
            context.add_output_metadata(training_metadata(result, run.info.run_id, url))
            context.add_output_metadata(run_config_metadata(run_config))
        return TrainedModel(
            result=result,
            config=run_model,
            registered_name=name,
            input_example=train.head(5),
            profiles=profiles,
        )

    return _train
