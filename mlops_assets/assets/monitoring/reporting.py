"""What the monitoring assets show in Dagster: check specs and results, metadata, MLflow runs,
alerts. The verdicts themselves come from the core (:mod:`mlops_assets.monitoring`)."""

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import dagster as dg

from mlops_assets.config.monitoring import DriftConfig, PerformanceConfig
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.resources.alerts import AlertsResource
from mlops_assets.resources.mlflow import MlflowResource

if TYPE_CHECKING:
    from mlops_assets.monitoring.drift_check import DriftOutcome
    from mlops_assets.monitoring.performance_check import PerformanceOutcome

DATA_DRIFT_CHECK = "data_drift"
PREDICTION_DRIFT_CHECK = "prediction_drift"
PERFORMANCE_CHECK = "model_performance"


def _error_share(config: DriftConfig) -> float:
    """From this share of drifted inputs on, a failed drift check is an ERROR (else a WARN)."""
    return min(1.0, 2 * config.drift_share)


def drift_check_specs(key: dg.AssetKey, config: DriftConfig) -> list[dg.AssetCheckSpec]:
    """The two drift checks, described by what they test."""
    return [
        dg.AssetCheckSpec(
            DATA_DRIFT_CHECK,
            asset=key,
            description=f"Fails when at least {config.drift_share:.0%} of the model's input "
            "columns drift from the champion's training reference (ERROR from "
            f"{_error_share(config):.0%}, WARN below). Passes without a verdict on days with "
            f"fewer than {config.min_rows} rows.",
        ),
        dg.AssetCheckSpec(
            PREDICTION_DRIFT_CHECK,
            asset=key,
            description="Warns when the champion's predictions drift from those it made on "
            "its validation rows at training time. Passes when the model stored no "
            "prediction profile.",
        ),
    ]


def drift_check_results(
    outcome: "DriftOutcome", config: DriftConfig
) -> Iterator[dg.AssetCheckResult]:
    """The results of :func:`drift_check_specs` for one day."""
    row = outcome.window
    yield dg.AssetCheckResult(
        check_name=DATA_DRIFT_CHECK,
        passed=not row.dataset_drift,
        severity=dg.AssetCheckSeverity.ERROR
        if row.drift_share >= _error_share(config)
        else dg.AssetCheckSeverity.WARN,
        metadata={
            "drift_share": row.drift_share,
            "status": row.status,
            "drifted_columns": ", ".join(row.drifted_columns) or "none",
        },
    )
    statistic = row.prediction_statistic
    yield dg.AssetCheckResult(
        check_name=PREDICTION_DRIFT_CHECK,
        passed=not row.prediction_drift,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"statistic": statistic if statistic is not None else float("nan")},
    )


def drift_metadata(outcome: "DriftOutcome", mlflow_run_id: str) -> dict[str, Any]:
    """Materialization metadata of a drift day: numbers, the per-column table, the report."""
    row = outcome.window
    metadata: dict[str, Any] = {
        "drift_share": row.drift_share,
        "dataset_drift": row.dataset_drift,
        "status": row.status,
        "n_current": row.n_current,
        "model_version": int(row.model_version),
        "columns": dg.MetadataValue.md(outcome.inputs.to_markdown()),
    }
    if outcome.report is not None:
        metadata["evidently_report"] = dg.MetadataValue.path(str(outcome.report))
    metadata["mlflow_run_id"] = mlflow_run_id
    return metadata


def drift_alert(
    alerts: AlertsResource, log: dg.DagsterLogManager, uc: UseCaseConfig, outcome: "DriftOutcome"
) -> None:
    """A `drift` alert when the day shows dataset drift."""
    row = outcome.window
    if not row.dataset_drift:
        return
    alerts.notify(
        log,
        uc.monitoring.alerts,
        event="drift",
        severity="warning",
        title=f"{uc.name}: data drift on {row.window}",
        message=f"{row.drift_share:.0%} of the columns drifted: {', '.join(row.drifted_columns)}.",
        facts={"use_case": uc.name, "partition": row.window, "drift_share": row.drift_share},
        links={"report": outcome.report.as_uri()} if outcome.report is not None else {},
    )


def log_drift_run(
    context: dg.AssetExecutionContext,
    mlflow: MlflowResource,
    use_case: str,
    outcome: "DriftOutcome",
) -> str:
    """One MLflow run per materialization: drift metrics and the Evidently report as artifact."""
    import mlflow as mlflow_lib

    from mlops_assets.assets.ml.common import run_tags
    from mlops_assets.ml.tracking import start_run

    row = outcome.window
    settings = mlflow.settings(use_case)
    with start_run(settings, f"drift {row.window}", run_tags(context)) as run:
        mlflow_lib.log_metrics({"drift_share": row.drift_share, "n_current": float(row.n_current)})
        mlflow_lib.set_tag("mlops.drift_status", row.status)
        if outcome.report is not None:
            mlflow_lib.log_artifact(str(outcome.report), artifact_path="evidently")
        return str(run.info.run_id)


def performance_check_spec(key: dg.AssetKey, config: PerformanceConfig) -> dg.AssetCheckSpec:
    """The performance check, described by what it tests."""
    allowed = ", ".join(f"{m} by more than {v:g}" for m, v in config.max_degradation.items())
    return dg.AssetCheckSpec(
        PERFORMANCE_CHECK,
        asset=key,
        description="Fails (ERROR) when a metric on the day's newly labelled rows worsens "
        f"beyond its allowance versus the champion's held-out metrics ({allowed or 'none set'}). "
        f"Passes without a verdict on fewer than {config.min_labelled_rows} labelled rows.",
    )


def performance_check_result(outcome: "PerformanceOutcome") -> dg.AssetCheckResult:
    """The result of :func:`performance_check_spec` for one day."""
    row = outcome.window
    return dg.AssetCheckResult(
        check_name=PERFORMANCE_CHECK,
        passed=not row.degraded,
        severity=dg.AssetCheckSeverity.ERROR if row.degraded else dg.AssetCheckSeverity.WARN,
        metadata={"status": row.status, "n_labelled": row.n_labelled},
    )


def performance_metadata(outcome: "PerformanceOutcome") -> dict[str, Any]:
    """Materialization metadata of a performance day: the verdict and every metric as a number."""
    row = outcome.window
    return {
        "status": row.status,
        "n_labelled": row.n_labelled,
        "labels_received": row.labels_received,
        **{k: float(v) for k, v in row.metrics.items()},
        "metrics": dg.MetadataValue.md(outcome.result.to_markdown()),
    }


def performance_alert(
    alerts: AlertsResource,
    log: dg.DagsterLogManager,
    uc: UseCaseConfig,
    outcome: "PerformanceOutcome",
) -> None:
    """A `performance` alert when the day's metrics degraded."""
    row = outcome.window
    if not row.degraded:
        return
    alerts.notify(
        log,
        uc.monitoring.alerts,
        event="performance",
        severity="error",
        title=f"{uc.name}: model performance degraded on {row.window}",
        message=" ".join(row.reasons),
        facts={"use_case": uc.name, "partition": row.window, "n_labelled": row.n_labelled},
    )
