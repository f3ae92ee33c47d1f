"""What the performance asset shows in Dagster: the check with its explained verdict, headline
metrics first, the metrics table with directions, the monitoring run in MLflow, alerts."""

from typing import TYPE_CHECKING, Any

import dagster as dg

from mlops_assets.assets.ml.metadata import MlflowLinks, link_metadata
from mlops_assets.config.monitoring import PerformanceConfig
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.resources.alerts import AlertsResource
from mlops_assets.resources.metadata import rounded, rounded_all
from mlops_assets.resources.mlflow import MlflowResource

if TYPE_CHECKING:
    from mlops_assets.monitoring.performance_check import PerformanceOutcome

PERFORMANCE_CHECK = "model_performance"


def performance_check_spec(key: dg.AssetKey, config: PerformanceConfig) -> dg.AssetCheckSpec:
    """The performance check, described by what it tests."""
    allowed = ", ".join(f"{m} by more than {v:g}" for m, v in config.max_degradation.items())
    return dg.AssetCheckSpec(
        PERFORMANCE_CHECK,
        asset=key,
        description="Fails (ERROR) when a metric on the day's newly labelled rows worsens "
        f"beyond its allowance versus the champion's held-out metrics ({allowed or 'none set'}). "
        f"Passes without a verdict on fewer than {config.min_labelled_rows} labelled rows "
        "(labels arrive days after the predictions: early days have none yet), and before "
        "any model passed the promotion gates (no @champion to judge against).",
    )


def performance_summary(outcome: "PerformanceOutcome", config: PerformanceConfig) -> str:
    """One paragraph that says the verdict and why, in the user's terms."""
    row, result = outcome.window, outcome.result
    if row.status == "insufficient_data":
        if row.labels_received == 0:
            return (
                f"No verdict: no labels arrived on {row.window} yet (labels come up to "
                f"{config.label_lookback_days} days after the predictions they label). The check "
                "passes without a verdict."
            )
        return (
            f"No verdict: {row.labels_received:,} labels arrived, {row.n_labelled:,} of them "
            f"matched a prediction; at least {config.min_labelled_rows:,} are needed. The check "
            "passes without a verdict."
        )
    if row.degraded:
        return "Degraded: " + " ".join(r for r in result.reasons if "worsening" in r)
    within = [
        f"{m} {result.degradation[m]:+.4g} (allowed {v:g})"
        for m, v in config.max_degradation.items()
        if m in result.degradation
    ]
    return (
        f"Within allowance on {row.n_labelled:,} labelled rows; worsening (+ = worse): "
        + (", ".join(within) or "no metric with an allowance had a baseline")
        + "."
    )


def performance_check_result(
    outcome: "PerformanceOutcome", config: PerformanceConfig
) -> dg.AssetCheckResult:
    """The result of :func:`performance_check_spec` for one day, with its explanation."""
    row = outcome.window
    return dg.AssetCheckResult(
        check_name=PERFORMANCE_CHECK,
        passed=not row.degraded,
        severity=dg.AssetCheckSeverity.ERROR if row.degraded else dg.AssetCheckSeverity.WARN,
        description=performance_summary(outcome, config),
        metadata={
            "verdict": "no verdict (too few labels)"
            if row.status == "insufficient_data"
            else row.status,
            "n_labelled": row.n_labelled,
            "labels_received": row.labels_received,
            **{
                f"worsening_{k}": rounded(v)
                for k, v in outcome.result.degradation.items()
                if k in config.max_degradation
            },
        },
    )


def performance_metadata(
    outcome: "PerformanceOutcome", config: PerformanceConfig, links: MlflowLinks
) -> dict[str, Any]:
    """Headline metrics first (plotted in that order), then the verdict, the table and links."""
    row = outcome.window
    return {
        **rounded_all(row.metrics),
        "n_labelled": row.n_labelled,
        "labels_received": row.labels_received,
        "status": row.status,
        "verdict": dg.MetadataValue.md(performance_summary(outcome, config)),
        "metrics": dg.MetadataValue.md(outcome.result.to_markdown(config.max_degradation)),
        **link_metadata(links),
    }


def log_performance_run(
    context: dg.AssetExecutionContext,
    mlflow: MlflowResource,
    use_case: str,
    model_name: str,
    outcome: "PerformanceOutcome",
) -> MlflowLinks:
    """One run per materialization in the use case's monitoring experiment: the day's metrics,
    their worsening versus the champion, and the verdict."""
    import mlflow as mlflow_lib

    from mlops_assets.assets.ml.common import run_tags
    from mlops_assets.ml.tracking import model_version_url, run_url, start_run

    row = outcome.window
    settings = mlflow.settings(use_case).for_monitoring()
    with start_run(settings, f"performance {row.window}", run_tags(context)) as run:
        mlflow_lib.log_metrics(
            {
                **row.metrics,
                **{f"worsening_{k}": v for k, v in outcome.result.degradation.items()},
                "n_labelled": float(row.n_labelled),
            }
        )
        mlflow_lib.set_tags(
            {
                "mlops.performance_status": row.status,
                "mlops.window": row.window,
                "mlops.model_version": row.model_version,
            }
        )
        run_id, experiment_id = str(run.info.run_id), str(run.info.experiment_id)
    return MlflowLinks(
        run_id=run_id,
        run_url=run_url(settings, experiment_id, run_id),
        model_version_url=model_version_url(settings, model_name, row.model_version),
    )


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
