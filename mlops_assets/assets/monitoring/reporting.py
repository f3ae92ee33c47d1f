"""What the drift asset shows in Dagster: check specs and results, metadata, the MLflow run of
the monitoring experiment, alerts. The verdicts themselves come from the core
(:mod:`mlops_assets.monitoring`); performance's side is in :mod:`.performance_reporting`."""

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import dagster as dg

from mlops_assets.assets.ml.metadata import MlflowLinks, link_metadata
from mlops_assets.config.monitoring import DriftConfig
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.ml.tracking import run_url
from mlops_assets.resources.alerts import AlertsResource
from mlops_assets.resources.metadata import rounded
from mlops_assets.resources.mlflow import MlflowResource

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from mlops_assets.monitoring.drift_check import DriftOutcome
    from mlops_assets.monitoring.profile import ReferenceProfile

DATA_DRIFT_CHECK = "data_drift"
PREDICTION_DRIFT_CHECK = "prediction_drift"
REPORT_DIR = "evidently"
"""Artifact folder of the Evidently report in the monitoring run."""
HISTOGRAM_DIR = "drifted_columns"
"""Artifact folder of the reference-versus-current histograms."""


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
            f"fewer than {config.min_rows} rows, and before any model passed the promotion "
            "gates (no @champion to judge against).",
        ),
        dg.AssetCheckSpec(
            PREDICTION_DRIFT_CHECK,
            asset=key,
            description="Warns when the champion's predictions drift from those it made on "
            "its validation rows at training time. Passes when the model stored no "
            "prediction profile, or when there is no @champion yet.",
        ),
    ]


def drift_check_results(
    outcome: "DriftOutcome", config: DriftConfig
) -> Iterator[dg.AssetCheckResult]:
    """The results of :func:`drift_check_specs` for one day, each saying why it passed or not."""
    row = outcome.window
    no_verdict = row.status == "insufficient_data"
    yield dg.AssetCheckResult(
        check_name=DATA_DRIFT_CHECK,
        passed=not row.dataset_drift,
        severity=dg.AssetCheckSeverity.ERROR
        if row.drift_share >= _error_share(config)
        else dg.AssetCheckSeverity.WARN,
        description=outcome.inputs.summary()
        + (" The check passes without a verdict." if no_verdict else ""),
        metadata={
            "drift_share": rounded(row.drift_share),
            "verdict": "no verdict (too few rows)" if no_verdict else row.status,
            "drifted_columns": ", ".join(row.drifted_columns) or "none",
        },
    )
    yield dg.AssetCheckResult(
        check_name=PREDICTION_DRIFT_CHECK,
        passed=not row.prediction_drift,
        severity=dg.AssetCheckSeverity.WARN,
        description=_prediction_summary(outcome),
        metadata={
            **_prediction_statistics(outcome),
            "drifted_columns": ", ".join(_drifted_outputs(outcome)) or "none",
        },
    )


def _drifted_outputs(outcome: "DriftOutcome") -> list[str]:
    result = outcome.predictions
    return [c.column for c in result.columns if c.drifted] if result is not None else []


def _prediction_summary(outcome: "DriftOutcome") -> str:
    """Why the prediction drift check passed, failed or gave no verdict."""
    result = outcome.predictions
    if result is None:
        return (
            f"No verdict: model version {outcome.window.model_version} stored no prediction "
            "profile (it was trained before prediction profiles existed); retrain to monitor "
            "its predictions. The check passes without a verdict."
        )
    if result.status == "insufficient_data":
        return result.summary() + " The check passes without a verdict."
    if not result.columns:
        return result.summary()
    verdict = "Predictions drifted" if outcome.window.prediction_drift else "No prediction drift"
    # every output column (a multiclass model has its class and that class's probability): the
    # verdict may come from one while another is steady, and each says which it is
    parts = [
        f"{c.column} {c.method} {_shown(c.statistic)} against threshold {c.threshold:.4g} "
        f"({'drifted' if c.drifted else 'steady'})"
        for c in result.columns
    ]
    return (
        f"{verdict}: {'; '.join(parts)}, on {result.n_current:,} predictions (reference: "
        f"{result.n_reference:,} validation predictions at training)."
    )


def _prediction_statistics(outcome: "DriftOutcome") -> dict[str, float]:
    """``statistic`` (the first output column's, as stored in the drift table), then each
    output column's own statistic when there are several (``statistic_<column>``)."""
    statistic = outcome.window.prediction_statistic
    out = {"statistic": rounded(statistic) if statistic is not None else float("nan")}
    columns = outcome.predictions.columns if outcome.predictions is not None else []
    if len(columns) > 1:
        out.update(
            {
                f"statistic_{c.column}": rounded(c.statistic)
                if c.statistic is not None
                else float("nan")
                for c in columns
            }
        )
    return out


def _shown(value: float | None) -> str:
    return "not measured" if value is None else f"{value:.4g}"


def drift_metadata(outcome: "DriftOutcome", links: MlflowLinks) -> dict[str, Any]:
    """Materialization metadata of a drift day, headline numbers first (they are plotted in
    that order), then the per-column table, the histograms of drifted columns and the links."""
    row = outcome.window
    metadata: dict[str, Any] = {
        "drift_share": rounded(row.drift_share),
        "drifted_columns": len(row.drifted_columns),
        "prediction_drift_statistic": rounded(row.prediction_statistic)
        if row.prediction_statistic is not None
        else float("nan"),
        "n_current": row.n_current,
        "dataset_drift": row.dataset_drift,
        "status": row.status,
        "model_version": int(row.model_version),
        "columns": dg.MetadataValue.md(outcome.inputs.to_markdown()),
    }
    if links.images:
        metadata["drifted_column_histograms"] = dg.MetadataValue.md(
            "\n\n".join(f"![{column}]({url})" for column, url in links.images.items())
        )
    if outcome.report is not None:
        metadata["evidently_report"] = (
            dg.MetadataValue.url(links.report_url)
            if links.report_url
            else dg.MetadataValue.path(str(outcome.report))
        )
        metadata["evidently_report_file"] = dg.MetadataValue.path(str(outcome.report))
    metadata.update(link_metadata(links))
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
        facts={
            "use_case": uc.name,
            "partition": row.window,
            "drift_share": rounded(row.drift_share),
        },
        links={"report": outcome.report.as_uri()} if outcome.report is not None else {},
    )


def drifted_histograms(
    outcome: "DriftOutcome",
    reference: "ReferenceProfile",
    features: object,
    config: DriftConfig,
    seed: int,
) -> "dict[str, Figure]":
    """Reference-versus-current histograms of the day's drifted columns (from a bounded sample
    of the day; none on a day without a verdict)."""
    from mlops_assets.monitoring.drift_check import bounded_sample
    from mlops_assets.monitoring.histograms import drift_histograms

    drifted = [c for c in outcome.window.drifted_columns if c in reference.columns]
    if not drifted or outcome.window.status == "insufficient_data":
        return {}
    sample = bounded_sample(features, drifted, config.report_sample_size, seed)
    return drift_histograms(reference, sample, drifted)


def log_drift_run(
    context: dg.AssetExecutionContext,
    mlflow: MlflowResource,
    use_case: str,
    outcome: "DriftOutcome",
    model_name: str,
    histograms: "dict[str, Figure]",
) -> MlflowLinks:
    """One run per materialization in the use case's monitoring experiment: the drift numbers,
    the Evidently report and the histograms of drifted columns as artifacts."""
    import mlflow as mlflow_lib

    from mlops_assets.assets.ml.common import run_tags
    from mlops_assets.ml.tracking import (
        artifact_content_url,
        artifact_view_url,
        model_version_url,
        start_run,
    )
    from mlops_assets.monitoring.histograms import histogram_file

    row = outcome.window
    settings = mlflow.settings(use_case).for_monitoring()
    with start_run(settings, f"drift {row.window}", run_tags(context)) as run:
        run_id, experiment_id = str(run.info.run_id), str(run.info.experiment_id)
        metrics = {"drift_share": row.drift_share, "n_current": float(row.n_current)}
        if row.prediction_statistic is not None:
            metrics["prediction_drift_statistic"] = row.prediction_statistic
        mlflow_lib.log_metrics(metrics)
        mlflow_lib.set_tags({"mlops.drift_status": row.status, "mlops.window": row.window})
        report_url = None
        if outcome.report is not None:
            mlflow_lib.log_artifact(str(outcome.report), artifact_path=REPORT_DIR)
            report_url = artifact_view_url(
                settings, experiment_id, run_id, f"{REPORT_DIR}/{outcome.report.name}"
            )
        images: dict[str, str] = {}
        for column, figure in histograms.items():
            path = f"{HISTOGRAM_DIR}/{histogram_file(column)}"
            mlflow_lib.log_figure(figure, path)
            url = artifact_content_url(settings, run_id, path)
            if url:
                images[column] = url
    return MlflowLinks(
        run_id=run_id,
        run_url=run_url(settings, experiment_id, run_id),
        model_version_url=model_version_url(settings, model_name, row.model_version),
        report_url=report_url,
        images=images,
    )
