"""Model quality once labels arrive: the day's labels joined to the predictions made for them."""

from collections.abc import Iterator
from typing import Any

import dagster as dg

from mlops_assets.assets.keys import asset_key, daily_partitions, group, tables
from mlops_assets.assets.ml.common import model_config, registered_name
from mlops_assets.assets.monitoring import performance_reporting as reporting
from mlops_assets.assets.monitoring.no_champion import performance_without_champion
from mlops_assets.assets.monitoring.run_config import PerformanceRunConfig, tag_monitoring_run
from mlops_assets.assets.monitoring.version import judged_version
from mlops_assets.assets.run_config import run_config_metadata
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.engines.frames import LazyFrame, row_count
from mlops_assets.resources.alerts import AlertsResource
from mlops_assets.resources.io_managers.delta import ONE_ROW_PER_PARTITION_TAG
from mlops_assets.resources.mlflow import MlflowResource


def build_performance_asset(uc: UseCaseConfig) -> dg.AssetsDefinition:
    """``[uc, monitoring, performance]``: labels of day d vs predictions of the days they label."""
    model_cfg = model_config(uc)
    names = tables(uc)
    ts = names.training_config
    name = registered_name(uc)
    perf_key = asset_key(names.performance)
    perf_cfg = uc.monitoring.performance
    lookback = dg.TimeWindowPartitionMapping(start_offset=-perf_cfg.label_lookback_days)

    @dg.asset(
        key=perf_key,
        ins={
            "labels": dg.AssetIn(key=asset_key(names.labels)),
            "predictions": dg.AssetIn(key=asset_key(names.predictions), partition_mapping=lookback),
        },
        partitions_def=daily_partitions(uc),
        check_specs=[reporting.performance_check_spec(perf_key, perf_cfg)],
        group_name=group(uc.name, "monitoring"),
        io_manager_key="lakehouse_io",
        metadata={ONE_ROW_PER_PARTITION_TAG: True},
        kinds={"delta", "mlflow", "polars", "scikit-learn"},
        owners=uc.owners or None,
        description=f"The labels that arrived on a day, joined to the predictions made for those "
        f"observations (up to {perf_cfg.label_lookback_days} days earlier), scored with "
        f"{', '.join(perf_cfg.metrics)} against the champion's held-out metrics.",
    )
    def _performance(
        context: dg.AssetExecutionContext,
        config: PerformanceRunConfig,
        alerts: AlertsResource,
        mlflow: MlflowResource,
        labels: LazyFrame,
        predictions: LazyFrame,
    ) -> Iterator[Any]:
        from mlops_assets.ml.registry import gate_metrics
        from mlops_assets.monitoring.performance_check import check_performance

        version = judged_version(mlflow, uc.name, name, config.model_version)
        if version is None:
            received = row_count(labels)
            yield from performance_without_champion(name, context.partition_key, received)
            return
        outcome = check_performance(
            labels,
            predictions,
            keys=[model_cfg.entity_key, ts.label_timestamp],
            label_column=ts.label_column,
            task=model_cfg.task,
            baseline=gate_metrics(version),
            config=perf_cfg,
            window=context.partition_key,
            model_version=version.version,
            positive_label=model_cfg.positive_label,
        )
        links = reporting.log_performance_run(context, mlflow, uc.name, name, outcome)
        tag_monitoring_run(mlflow, uc.name, links.run_id, config)
        yield reporting.performance_check_result(outcome, perf_cfg)
        reporting.performance_alert(alerts, context.log, uc, outcome)
        metadata = {
            **reporting.performance_metadata(outcome, perf_cfg, links),
            **run_config_metadata(config),
        }
        yield dg.Output(outcome.window.to_frame(), metadata=metadata)

    return _performance
