"""Batch inference: a daily predictions table scored by the champion at run time."""

import dagster as dg
import narwhals as nw
import polars as pl

from mlops_assets.assets.keys import daily_partitions, group, key
from mlops_assets.assets.ml.common import model_config, registered_name, use_mlflow
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.engines.frames import DataFrame, LazyFrame, to_polars
from mlops_assets.errors import RegistryError
from mlops_assets.resources.mlflow import MlflowResource


def build_inference_asset(uc: UseCaseConfig) -> dg.AssetsDefinition:
    """``[uc, inference, predictions]``: one partition per day of the feature table."""
    config = model_config(uc)
    assert uc.training_set is not None
    name = registered_name(uc)
    features_key = key(uc.name, "features", uc.training_set.feature_table)

    @dg.asset(
        key=key(uc.name, "inference", "predictions"),
        ins={"features": dg.AssetIn(key=features_key)},
        deps=[key(uc.name, "models", "champion")],
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
        context: dg.AssetExecutionContext, mlflow: MlflowResource, features: LazyFrame
    ) -> DataFrame:
        frame = to_polars(features)
        from mlops_assets.ml.frames import check_missing_values
        from mlops_assets.ml.inference import score
        from mlops_assets.ml.registry import Registry

        registry = Registry(use_mlflow(mlflow, uc.name), lock_dir=mlflow.locks)
        champion = registry.alias_version(name, "champion")
        if champion is None:
            raise RegistryError(
                f"{name} has no @champion: nothing to score with",
                context={"model": name, "partition": context.partition_key},
                fix="run the training job until a model passes the promotion gates",
            )
        predictions = score(
            frame,
            champion.model_uri,
            name,
            champion.version,
            "champion",
            config.entity_key,
            config.timestamp,
        )
        # The training contract holds here too (`imputation: error` refuses nulls/NaN). A column
        # the upstream stopped sending comes back all null from its Delta partition and would
        # otherwise be scored silently. (Missing columns were refused by the signature above.)
        if set(config.features) <= set(frame.columns):
            check_missing_values(frame, config, what=f"feature partition {context.partition_key}")
        context.add_output_metadata(
            {
                "model_version": int(champion.version),
                "mean_probability": float(
                    predictions.select(pl.col("probability").mean()).item() or 0.0
                ),
                "positive_rate": float(
                    predictions.select(pl.col("prediction").cast(pl.Float64).mean()).item() or 0.0
                ),
            }
        )
        return nw.from_native(predictions)

    return _predictions
