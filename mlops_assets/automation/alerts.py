"""Alerts from assets and sensors: drift, performance, gate failures, failed runs and checks.

Delivery problems never fail the pipeline that noticed something: they are logged as warnings
with the channel and the environment variable involved (never its value).
"""

import os
from typing import Literal

import dagster as dg

from mlops_assets.config.monitoring import AlertEvent, AlertsConfig
from mlops_assets.errors import AlertError


def notify(
    context: dg.AssetExecutionContext | dg.SensorEvaluationContext | dg.RunFailureSensorContext,
    config: AlertsConfig,
    *,
    event: AlertEvent,
    severity: Literal["info", "warning", "error"],
    title: str,
    message: str,
    facts: dict[str, str | float | int] | None = None,
    links: dict[str, str] | None = None,
) -> int:
    """Send an alert to the configured channels; returns how many deliveries succeeded."""
    if not config.channels:
        return 0
    from mlops_assets.monitoring.alerts import Alert, send_alerts

    alert = Alert(
        event=event,
        severity=severity,
        title=title,
        message=message,
        context=facts or {},
        links=links or {},
    )
    log = context.log
    try:
        results = send_alerts(alert, config, os.environ)
    except AlertError as exc:
        if log is not None:
            log.warning(f"alert not delivered: {exc}")
        return 0
    sent = sum(r.status == "sent" for r in results)
    if log is not None:
        log.info(f"alert {event!r} delivered to {sent} channel(s)")
    return sent


def build_run_failure_sensor(use_case: str, config: AlertsConfig) -> dg.SensorDefinition:
    """Alert when any run of the use case's jobs fails."""

    @dg.run_failure_sensor(
        name=f"{use_case}_run_failure_alerts",
        default_status=dg.DefaultSensorStatus.RUNNING
        if config.channels
        else dg.DefaultSensorStatus.STOPPED,
        description=f"Sends a `run_failed` alert for failed {use_case} runs.",
    )
    def _on_failure(context: dg.RunFailureSensorContext) -> None:
        run = context.dagster_run
        if run.tags.get("mlops/use_case") != use_case:
            return
        error = context.failure_event.message or "the run failed"
        causes = _step_errors(context)
        if causes:
            error += "\n" + "\n".join(f"- {c}" for c in causes)
        notify(
            context,
            config,
            event="run_failed",
            severity="error",
            title=f"{use_case}: run of {run.job_name} failed",
            message=error,
            facts={"use_case": use_case, "job": run.job_name, "run_id": run.run_id},
        )

    return _on_failure


def _step_errors(context: dg.RunFailureSensorContext) -> list[str]:
    """``<step>: <first line of its error>`` per failed step (the what, without context/fix)."""
    causes = []
    for event in context.get_step_failure_events():
        err = event.step_failure_data.error
        while err is not None and err.cause is not None and "Dagster" in (err.cls_name or ""):
            err = err.cause
        if err is None:
            continue
        lines = err.message.strip().splitlines()
        causes.append(f"{event.step_key}: {lines[0] if lines else err.cls_name}"[:500])
    return causes
