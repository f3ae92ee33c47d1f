"""Batch inference: a daily predictions table scored by the champion at run time."""

import dagster as dg
import narwhals as nw

from mlops_assets.assets.keys import asset_key, daily_partitions, group, tables
from mlops_assets.assets.ml.common import model_config, registered_name, use_mlflow
from mlops_assets.assets.ml.metadata import version_links
from mlops_assets.assets.ml.serving_run_config import InferenceRunConfig
from mlops_assets.assets.run_config import run_config_metadata
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.engines.frames import DataFrame, LazyFrame
from mlops_assets.resources.metadata import rounded
from mlops_assets.resources.mlflow import MlflowResource


def build_inference_asset(uc: UseCaseConfig) -> dg.AssetsDefinition:
    """``[uc, inference, predictions]``: one partition per day of the feature table."""
    model_cfg = model_config(uc)
    refs = tables(uc)
    name = registered_name(uc)

    @dg.asset(
        key=asset_key(refs.predictions),
        ins={"features": dg.AssetIn(key=asset_key(refs.feature_table))},
        deps=[asset_key(refs.champion)],
        partitions_def=daily_partitions(uc),
        group_name=group(uc.name, "inference"),
        io_manager_key="lakehouse_io",
        kinds={"delta", "mlflow", "polars"},
        owners=uc.owners or None,
        description=f"Scores each day's feature rows with `{name}@champion` (resolved at run "
        "time; the input schema is enforced against the model signature). Columns: entity key, "
        "timestamp, prediction, probability, model name/version/alias, scored_at.",
    )
    def _predictions(
        context: dg.AssetExecutionContext,
        config: InferenceRunConfig,
        mlflow: MlflowResource,
        features: LazyFrame,
    ) -> DataFrame:
        from mlops_assets.ml.approval import approval_metadata
        from mlops_assets.ml.batch import score_batch
        from mlops_assets.ml.registry import Registry

        settings = use_mlflow(mlflow, uc.name)
        registry = Registry(settings, lock_dir=mlflow.locks)
        scorer, alias = config.scorer(registry, name)
        what = f"feature partition {context.partition_key}"
        scored = score_batch(
            features, scorer, model_cfg, alias=alias, what=what, batch_size=config.batch_size
        )
        predictions = nw.from_native(scored)
        means = predictions.select(
            nw.col("probability").mean(), nw.col("prediction").cast(nw.Float64).mean()
        ).row(0)
        context.add_output_metadata(
            {
                "model_version": int(scorer.version),
                "mean_probability": rounded(float(means[0] or 0.0)),
                "positive_rate": rounded(float(means[1] or 0.0)),
                "scoring_batches": len(config.batches(scored.height)),  # a row per input row
                **approval_metadata(registry, scorer),
                **version_links(settings, name, {"scoring": scorer.version}),
                **run_config_metadata(config),
            }
        )
        return predictions

    return _predictions
