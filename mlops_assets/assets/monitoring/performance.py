"""Model quality once labels arrive: the day's labels joined to the predictions made for them."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import dagster as dg
import polars as pl

from mlops_assets.assets.keys import daily_partitions, group, key, table_key
from mlops_assets.assets.ml.common import model_config, registered_name
from mlops_assets.assets.monitoring.reference import champion
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.engines.frames import LazyFrame, to_polars
from mlops_assets.resources.alerts import AlertsResource
from mlops_assets.resources.mlflow import MlflowResource

PERFORMANCE_CHECK = "model_performance"


def build_performance_asset(uc: UseCaseConfig) -> dg.AssetsDefinition:
    """``[uc, monitoring, performance]``: labels of day d vs predictions of the days they label."""
    config = model_config(uc)
    assert uc.training_set is not None
    ts = uc.training_set
    name = registered_name(uc)
    perf_key = key(uc.name, "monitoring", "performance")
    perf_cfg = uc.monitoring.performance
    lookback = dg.TimeWindowPartitionMapping(start_offset=-perf_cfg.label_lookback_days)

    @dg.asset(
        key=perf_key,
        ins={
            "labels": dg.AssetIn(key=table_key(uc.name, ts.labels)),
            "predictions": dg.AssetIn(
                key=key(uc.name, "inference", "predictions"), partition_mapping=lookback
            ),
        },
        partitions_def=daily_partitions(uc),
        check_specs=[
            dg.AssetCheckSpec(
                PERFORMANCE_CHECK,
                asset=perf_key,
                description="Metrics on newly labelled rows within the allowed degradation.",
            )
        ],
        group_name=group(uc.name, "monitoring"),
        io_manager_key="lakehouse_io",
        kinds={"delta", "polars", "scikit-learn"},
        owners=uc.owners or None,
        description=f"The labels that arrived on a day, joined to the predictions made for those "
        f"observations (up to {perf_cfg.label_lookback_days} days earlier), scored with "
        f"{', '.join(perf_cfg.metrics)} against the champion's held-out metrics.",
    )
    def _performance(
        context: dg.AssetExecutionContext,
        alerts: AlertsResource,
        mlflow: MlflowResource,
        labels: LazyFrame,
        predictions: LazyFrame,
    ) -> Iterator[Any]:
        from mlops_assets.ml.registry import gate_metrics
        from mlops_assets.monitoring.performance import compute_performance

        day = context.partition_key
        version = champion(mlflow, uc.name, name)
        baseline = gate_metrics(version)
        on = [config.entity_key, ts.label_timestamp]
        labels_pl, predictions_pl = to_polars(labels), to_polars(predictions)
        joined = labels_pl.select(*on, ts.label_column).join(
            predictions_pl.select(*on, "prediction", "probability"), on=on, how="inner"
        )
        classification = config.task == "classification"
        result = compute_performance(
            joined,
            ts.label_column,
            # Classifiers: the hard prediction is re-derived from P(positive) >= 0.5 so it is
            # compared in the label's own terms (e.g. "Yes"/"No"), not as a class index.
            None if classification else "prediction",
            "probability" if classification else None,
            config.task,
            baseline,
            perf_cfg,
            positive_label=config.positive_label,
        )
        yield dg.AssetCheckResult(
            check_name=PERFORMANCE_CHECK,
            passed=result.status != "degraded",
            severity=dg.AssetCheckSeverity.ERROR
            if result.status == "degraded"
            else dg.AssetCheckSeverity.WARN,
            metadata={"status": result.status, "n_labelled": result.n_labelled},
        )
        if result.degraded:
            alerts.notify(
                context.log,
                uc.monitoring.alerts,
                event="performance",
                severity="error",
                title=f"{uc.name}: model performance degraded on {day}",
                message=" ".join(result.reasons),
                facts={"use_case": uc.name, "partition": day, "n_labelled": result.n_labelled},
            )
        row = pl.DataFrame(
            {
                "window": [day],
                "status": [result.status],
                "degraded": [result.degraded],
                "n_labelled": [result.n_labelled],
                "labels_received": [labels_pl.height],
                "metrics_json": [json.dumps(result.metrics)],
                "baseline_json": [json.dumps(result.baseline)],
                "reasons": ["; ".join(result.reasons)],
                "model_version": [version.version],
                "computed_at": [datetime.now(UTC)],
            }
        )
        yield dg.Output(
            row,
            metadata={
                "status": result.status,
                "n_labelled": result.n_labelled,
                **{k: float(v) for k, v in result.metrics.items()},
                "metrics": dg.MetadataValue.md(result.to_markdown()),
            },
        )

    return _performance
