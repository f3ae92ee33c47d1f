"""The run-failure alert sensor of a use case (assets and sensors alert through the resource).

Delivery problems never fail anything: :class:`~mlops_assets.resources.alerts.AlertsResource`
logs them as warnings with the channel and the environment variable involved (never its value).
"""

import dagster as dg

from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.resources.alerts import AlertsResource


def build_run_failure_sensor(uc: UseCaseConfig) -> dg.SensorDefinition:
    """Alert when any run of the use case's jobs fails."""
    use_case = uc.name
    config = uc.monitoring.alerts

    @dg.run_failure_sensor(
        name=f"{use_case}_run_failure_alerts",
        default_status=dg.DefaultSensorStatus.RUNNING
        if config.channels
        else dg.DefaultSensorStatus.STOPPED,
        description=f"Sends a `run_failed` alert for failed {use_case} runs.",
    )
    def _on_failure(context: dg.RunFailureSensorContext, alerts: AlertsResource) -> None:
        run = context.dagster_run
        if run.tags.get("mlops/use_case") != use_case:
            return
        error = context.failure_event.message or "the run failed"
        causes = _step_errors(context)
        if causes:
            error += "\n" + "\n".join(f"- {c}" for c in causes)
        alerts.notify(
            context.log,
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
