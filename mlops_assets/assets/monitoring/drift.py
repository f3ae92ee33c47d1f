"""Daily drift: inference inputs and predictions against the references stored with the model."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg
import polars as pl

from mlops_assets.assets.keys import daily_partitions, group, key
from mlops_assets.assets.ml.common import model_config, registered_name
from mlops_assets.assets.monitoring.reference import (
    PREDICTION_PROFILE,
    REFERENCE_PROFILE,
    champion,
    stored_profile,
)
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.engines.frames import LazyFrame, to_polars
from mlops_assets.resources.alerts import AlertsResource
from mlops_assets.resources.lakehouse import LakehouseResource
from mlops_assets.resources.mlflow import MlflowResource

if TYPE_CHECKING:
    from mlops_assets.monitoring.schema import DriftResult

DATA_DRIFT_CHECK = "data_drift"
PREDICTION_DRIFT_CHECK = "prediction_drift"


def build_drift_asset(uc: UseCaseConfig) -> dg.AssetsDefinition:
    """``[uc, monitoring, drift]``: one summary row per day, Evidently HTML beside it."""
    config = model_config(uc)
    assert uc.training_set is not None
    name = registered_name(uc)
    drift_key = key(uc.name, "monitoring", "drift")
    drift_cfg = uc.monitoring.drift

    @dg.asset(
        key=drift_key,
        ins={
            "features": dg.AssetIn(key=key(uc.name, "features", uc.training_set.feature_table)),
            "predictions": dg.AssetIn(key=key(uc.name, "inference", "predictions")),
        },
        partitions_def=daily_partitions(uc),
        check_specs=[
            dg.AssetCheckSpec(DATA_DRIFT_CHECK, asset=drift_key, description="No dataset drift."),
            dg.AssetCheckSpec(
                PREDICTION_DRIFT_CHECK, asset=drift_key, description="No prediction drift."
            ),
        ],
        group_name=group(uc.name, "monitoring"),
        io_manager_key="lakehouse_io",
        kinds={"delta", "evidently", "polars"},
        owners=uc.owners or None,
        description=f"Each day's model inputs and predictions against the training reference "
        f"profiles of `{name}@champion` (one pass, vectorised), with the Evidently report of a "
        f"bounded sample. Dataset drift when at least {drift_cfg.drift_share:.0%} of the "
        "columns drift.",
    )
    def _drift(
        context: dg.AssetExecutionContext,
        alerts: AlertsResource,
        mlflow: MlflowResource,
        lakehouse: LakehouseResource,
        features: LazyFrame,
        predictions: LazyFrame,
    ) -> Iterator[Any]:
        from mlops_assets.monitoring.evidently_report import render_report
        from mlops_assets.monitoring.statistics import compute_drift

        day = context.partition_key
        version = champion(mlflow, uc.name, name)
        house = lakehouse.get()
        cache = house.cache_dir("models")
        reference = stored_profile(version, REFERENCE_PROFILE, cache, mlflow)
        features_pl = to_polars(features)
        result = compute_drift(features_pl, reference, drift_cfg)
        prediction_result = None
        if PREDICTION_PROFILE in {k.removeprefix("mlops.artifact.") for k in version.tags}:
            pred_profile = stored_profile(version, PREDICTION_PROFILE, cache, mlflow)
            prediction_result = compute_drift(
                to_polars(predictions), pred_profile, drift_cfg, check_overrides=False
            )
        report_path = house.reports_dir(uc.name) / "drift" / f"{day}.html"
        if result.status != "insufficient_data":
            render_report(
                reference.report_frame(),
                features_pl.select(reference.numeric + reference.categorical),
                reference.numeric,
                reference.categorical,
                report_path,
                sample_size=drift_cfg.report_sample_size,
                seed=config.split.seed,
                config=drift_cfg,
            )
        else:
            report_path.unlink(missing_ok=True)  # never link an earlier run's report
        run_id = _log_to_mlflow(context, mlflow, uc.name, result, report_path)
        pred_drifted = bool(prediction_result and prediction_result.dataset_drift)
        pred_stat = (
            prediction_result.columns[0].statistic
            if prediction_result and prediction_result.columns
            else None
        )
        severity = (
            dg.AssetCheckSeverity.ERROR
            if result.drift_share >= min(1.0, 2 * drift_cfg.drift_share)
            else dg.AssetCheckSeverity.WARN
        )
        yield dg.AssetCheckResult(
            check_name=DATA_DRIFT_CHECK,
            passed=not result.dataset_drift,
            severity=severity,
            metadata={
                "drift_share": result.drift_share,
                "status": result.status,
                "drifted_columns": ", ".join(result.drifted_columns) or "none",
            },
        )
        yield dg.AssetCheckResult(
            check_name=PREDICTION_DRIFT_CHECK,
            passed=not pred_drifted,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"statistic": pred_stat if pred_stat is not None else float("nan")},
        )
        if result.dataset_drift:
            alerts.notify(
                context.log,
                uc.monitoring.alerts,
                event="drift",
                severity="warning",
                title=f"{uc.name}: data drift on {day}",
                message=f"{result.drift_share:.0%} of the columns drifted: "
                f"{', '.join(result.drifted_columns)}.",
                facts={"use_case": uc.name, "partition": day, "drift_share": result.drift_share},
                links={"report": report_path.as_uri()},
            )
        row = pl.DataFrame(
            {
                "window": [day],
                "status": [result.status],
                "drift_share": [result.drift_share],
                "dataset_drift": [result.dataset_drift],
                "drifted_columns": [", ".join(result.drifted_columns)],
                "n_current": [result.n_current],
                "n_reference": [result.n_reference],
                "prediction_drift": [pred_drifted],
                "prediction_statistic": [pred_stat],
                "model_version": [version.version],
                "report_path": [str(report_path) if report_path.exists() else None],
                "columns_json": [json.dumps([c.model_dump() for c in result.columns])],
                "computed_at": [datetime.now(UTC)],
            },
            schema_overrides={"prediction_statistic": pl.Float64},
        )
        metadata: dict[str, Any] = {
            "drift_share": result.drift_share,
            "dataset_drift": result.dataset_drift,
            "status": result.status,
            "n_current": result.n_current,
            "model_version": int(version.version),
            "columns": dg.MetadataValue.md(result.to_markdown()),
        }
        if report_path.exists():
            metadata["evidently_report"] = dg.MetadataValue.path(str(report_path))
        metadata["mlflow_run_id"] = run_id
        yield dg.Output(row, metadata=metadata)

    return _drift


def _log_to_mlflow(
    context: dg.AssetExecutionContext,
    mlflow: MlflowResource,
    use_case: str,
    result: "DriftResult",
    report_path: Path,
) -> str:
    """One MLflow run per materialization: drift metrics and the Evidently report as artifact."""
    import mlflow as mlflow_lib

    from mlops_assets.assets.ml.common import run_tags
    from mlops_assets.ml.tracking import start_run

    settings = mlflow.settings(use_case)
    with start_run(settings, f"drift {context.partition_key}", run_tags(context)) as run:
        mlflow_lib.log_metrics(
            {"drift_share": result.drift_share, "n_current": float(result.n_current)}
        )
        mlflow_lib.set_tag("mlops.drift_status", result.status)
        if report_path.exists():
            mlflow_lib.log_artifact(str(report_path), artifact_path="evidently")
        return str(run.info.run_id)
