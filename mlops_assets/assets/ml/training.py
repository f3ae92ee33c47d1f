"""Training: fit the configured model on the point-in-time training set, tracked in MLflow."""

import json
import tempfile
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
from pydantic import Field

from mlops_assets.assets.keys import group, key
from mlops_assets.assets.ml.common import model_config, registered_name, run_tags
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.engines.frames import LazyFrame, to_polars
from mlops_assets.ml.training import TrainingResult
from mlops_assets.resources.io_managers.mlflow_model import REGISTERED_NAME, USE_CASE, TrainedModel
from mlops_assets.resources.metadata import markdown_table
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
    assert uc.training_set is not None
    name = registered_name(uc)

    @dg.asset(
        key=key(uc.name, "models", model_cfg.name),
        ins={"training_set": dg.AssetIn(key=key(uc.name, "features", uc.training_set.name))},
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

        from mlops_assets.ml.split import split_frame
        from mlops_assets.ml.tracking import run_url, start_run
        from mlops_assets.ml.training import train_model

        settings = mlflow.settings(uc.name)
        splits = split_frame(to_polars(training_set), model_cfg.entity_key, model_cfg.split)
        with start_run(settings, f"train {name}", run_tags(context)) as run:
            if config.reason:
                mlflow_lib.set_tag("mlops.reason", config.reason)
            mlflow_lib.log_params(
                {"n_train": splits["train"].height, "n_validation": splits["validation"].height}
            )
            result = train_model(splits["train"], splits["validation"], model_cfg, config.params)
            artifacts = _reference_profiles(uc, splits["train"], splits["validation"], result)
            experiment_id = run.info.experiment_id
            run_id = run.info.run_id
        url = run_url(settings, experiment_id, run_id)
        metadata: dict[str, Any] = {
            "validation_metrics": markdown_table(
                ["metric", "value"], sorted(result.validation_metrics.items())
            ),
            **{f"validation_{k}": float(v) for k, v in result.validation_metrics.items()},
            "params": json.dumps(result.params, sort_keys=True, default=str),
            "n_train": result.n_train,
            "n_validation": result.n_validation,
            "search_trials": len(result.trials),
            "mlflow_run_id": run_id,
        }
        if url:
            metadata["mlflow_run"] = dg.MetadataValue.url(url)
        context.add_output_metadata(metadata)
        return TrainedModel(
            result=result,
            config=model_cfg,
            registered_name=name,
            input_example=splits["train"].head(5),
            artifacts=artifacts,
        )

    return _train


def _reference_profiles(
    uc: UseCaseConfig, train: pl.DataFrame, validation: pl.DataFrame, result: TrainingResult
) -> dict[str, Path]:
    """Drift references computed once at training time and stored with the model version.

    ``reference_profile``: the model inputs of the training rows; ``prediction_profile``: the
    model's outputs on the validation rows (the prediction distribution to expect in production).
    """
    from mlops_assets.ml.frames import feature_frame
    from mlops_assets.monitoring.profile import build_profile, save_profile

    config = model_config(uc)
    drift = uc.monitoring.drift
    folder = Path(tempfile.mkdtemp(prefix="mlops-profile-"))
    inputs = build_profile(
        train,
        numeric=list(config.numeric_features),
        categorical=list(config.categorical_features),
        config=drift,
        seed=config.split.seed,
    )
    pipeline = result.pipeline
    features = feature_frame(validation, config)
    if config.task == "classification":
        outputs = pipeline.predict_proba(features)[:, 1]
    else:
        outputs = pipeline.predict(features)
    column = "probability" if config.task == "classification" else "prediction"
    predictions = pl.DataFrame({column: pl.Series(column, outputs, dtype=pl.Float64)})
    prediction_profile = build_profile(
        predictions, numeric=[column], categorical=[], config=drift, seed=config.split.seed
    )
    return {
        "reference_profile": save_profile(inputs, folder / "reference_profile.json"),
        "prediction_profile": save_profile(prediction_profile, folder / "prediction_profile.json"),
    }
