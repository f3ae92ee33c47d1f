"""Batch inference: a daily predictions table scored by the champion at run time.

Where the rows are scored is the environment's ``scoring_compute`` resource (in process, or a
Databricks job through Pipes that writes the partition itself); the scoring is
:func:`mlops_assets.ml.batch.score_features` either way.
"""

from typing import TYPE_CHECKING, Any

import dagster as dg

from mlops_assets.assets.keys import asset_key, daily_partitions, group, tables
from mlops_assets.assets.ml.common import model_config, registered_name, use_mlflow
from mlops_assets.assets.ml.metadata import version_links
from mlops_assets.assets.ml.serving_run_config import InferenceRunConfig
from mlops_assets.assets.run_config import run_config_metadata
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.engines.frames import LazyFrame
from mlops_assets.resources.metadata import rounded
from mlops_assets.resources.mlflow import MlflowResource
from mlops_assets.resources.scoring_compute import ScoringComputeResource

if TYPE_CHECKING:
    from mlops_assets.ml.batch import ScoringSummary


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
        io_manager_key="lakehouse_io",  # writes nothing when the job wrote the partition
        dagster_type=dg.Any,  # a narwhals frame, or None (see ScoringOutput)
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
        scoring_compute: ScoringComputeResource,
        features: LazyFrame,
    ) -> dg.Output[Any]:  # the predictions, or None when a job wrote them (nothing to write)
        from mlops_assets.ml.approval import approval_metadata
        from mlops_assets.ml.batch import ScoringSpec
        from mlops_assets.ml.registry import Registry

        settings = use_mlflow(mlflow, uc.name)
        registry = Registry(settings, lock_dir=mlflow.locks)
        scorer, alias = config.scorer(registry, name)
        spec = ScoringSpec(
            version=scorer,
            alias=alias,
            model=model_cfg,
            batch_size=config.batch_size,
            what=f"feature partition {context.partition_key}",
        )
        scored = scoring_compute.score(
            context, spec, settings, features, refs.feature_table, refs.predictions
        )
        summary = scored.summary
        # an Output, not the bare value: after a Pipes session Dagster wants typed events
        return dg.Output(
            scored.predictions,
            metadata={
                **scored.metadata,
                "model_version": summary.model_version,
                "scoring_batches": summary.scoring_batches,  # a row per input row
                **prediction_metadata(summary),
                **approval_metadata(registry, scorer),
                **version_links(settings, name, {"scoring": scorer.version}),
                **run_config_metadata(config),
            },
        )

    return _predictions


def prediction_metadata(summary: "ScoringSummary") -> dict[str, Any]:
    """The figures that describe the predictions, those of the model's task only: binary
    ``positive_rate`` and ``mean_probability``; multiclass ``class_shares`` (a Markdown table,
    a row per class) and ``mean_probability``; regression ``mean_prediction``."""
    out: dict[str, Any] = {}
    for name in ("mean_probability", "positive_rate", "mean_prediction"):
        value = getattr(summary, name)
        if value is not None:
            out[name] = rounded(value)
    if summary.class_shares is not None:
        rows = [f"| {label} | {share:.2%} |" for label, share in summary.class_shares.items()]
        table = "\n".join(["| predicted class | share of rows |", "| --- | --- |", *rows])
        out["class_shares"] = dg.MetadataValue.md(table)
    return out
