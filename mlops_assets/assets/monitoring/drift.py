"""Daily drift: inference inputs and predictions against the references stored with the model."""

from collections.abc import Iterator
from typing import Any, cast

import dagster as dg

from mlops_assets.assets.keys import asset_key, daily_partitions, group, tables
from mlops_assets.assets.ml.common import model_config, registered_name
from mlops_assets.assets.monitoring import reporting
from mlops_assets.assets.monitoring.no_champion import drift_without_champion
from mlops_assets.assets.monitoring.reference import prediction_profile, stored_profile
from mlops_assets.assets.monitoring.run_config import (
    DriftRunConfigBase,
    drift_run_config,
    tag_monitoring_run,
)
from mlops_assets.assets.monitoring.version import judged_version
from mlops_assets.assets.run_config import run_config_metadata
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.engines.frames import LazyFrame, row_count
from mlops_assets.resources.alerts import AlertsResource
from mlops_assets.resources.io_managers.delta import ONE_ROW_PER_PARTITION_TAG
from mlops_assets.resources.lakehouse import LakehouseResource
from mlops_assets.resources.mlflow import MlflowResource
from mlops_assets.storage.lakehouse import TableRef


def build_drift_asset(uc: UseCaseConfig) -> dg.AssetsDefinition:
    """``[uc, monitoring, drift]``: one summary row per day, Evidently HTML beside it."""
    seed = model_config(uc).split.seed
    name = registered_name(uc)
    names = tables(uc)
    drift_key = asset_key(names.drift)
    features_key = asset_key(names.feature_table)
    drift_cfg = uc.monitoring.drift
    run_config_cls = drift_run_config(uc)

    @dg.asset(
        key=drift_key,
        ins={
            "features": dg.AssetIn(key=features_key),
            "predictions": dg.AssetIn(key=asset_key(names.predictions)),
        },
        partitions_def=daily_partitions(uc),
        check_specs=reporting.drift_check_specs(drift_key, drift_cfg),
        group_name=group(uc.name, "monitoring"),
        io_manager_key="lakehouse_io",
        metadata={ONE_ROW_PER_PARTITION_TAG: True},
        kinds={"delta", "evidently", "mlflow", "polars"},
        owners=uc.owners or None,
        description=f"Each day's model inputs and predictions against the training reference "
        f"profiles of `{name}@champion` (one pass, vectorised), with the Evidently report of a "
        f"bounded sample. Dataset drift when at least {drift_cfg.drift_share:.0%} of the "
        "columns drift.",
    )
    def _drift(
        context: dg.AssetExecutionContext,
        config: run_config_cls,  # type: ignore[valid-type]  # built per use case
        alerts: AlertsResource,
        mlflow: MlflowResource,
        lakehouse: LakehouseResource,
        features: LazyFrame,
        predictions: LazyFrame,
    ) -> Iterator[Any]:
        from mlops_assets.monitoring.drift_check import check_drift
        from mlops_assets.monitoring.reference_profiles import REFERENCE_PROFILE

        run_config = cast(DriftRunConfigBase, config)
        run_drift = run_config.drift_config(drift_cfg)
        version = judged_version(mlflow, uc.name, name, run_config.model_version)
        if version is None:
            n_current = row_count(features)
            yield from drift_without_champion(name, context.partition_key, n_current)
            return
        house = lakehouse.get()
        cache = house.cache_dir("models")
        reference = stored_profile(version, REFERENCE_PROFILE, cache, mlflow)
        # The files of the day's feature partition, when the lakehouse can name them: the
        # statistics read them directly (string columns counted from their dictionaries).
        feature_files = house.parquet_files(
            house.table_location(TableRef.from_path(features_key.path)),
            context.asset_partition_keys_for_input("features"),
        )
        outcome = check_drift(
            features,
            predictions,
            reference=reference,
            prediction_profile=prediction_profile(version, cache, mlflow),
            config=run_drift,
            window=context.partition_key,
            model_version=version.version,
            reports_dir=house.reports_dir(uc.name),
            seed=seed,
            render_report=run_config.render_report,
            feature_files=feature_files,
        )
        histograms = reporting.drifted_histograms(outcome, reference, features, run_drift, seed)
        links = reporting.log_drift_run(context, mlflow, uc.name, outcome, name, histograms)
        tag_monitoring_run(mlflow, uc.name, links.run_id, run_config)
        yield from reporting.drift_check_results(outcome, run_drift)
        reporting.drift_alert(alerts, context.log, uc, outcome)
        yield dg.Output(
            outcome.window.to_frame(),
            metadata={
                **reporting.drift_metadata(outcome, links),
                **run_config_metadata(run_config),
            },
        )

    return _drift
