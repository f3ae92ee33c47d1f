"""What the demo did: each job run, from its Dagster events (in process or launched), and the
report of the whole demo."""

from collections.abc import Iterable

import dagster as dg
from pydantic import BaseModel, Field

OUTCOME_EVENTS = {
    dg.DagsterEventType.ASSET_CHECK_EVALUATION,
    dg.DagsterEventType.STEP_FAILURE,
    dg.DagsterEventType.RUN_FAILURE,
}
"""The event types an outcome is built from."""


class StepOutcome(BaseModel):
    """One job run of the demo."""

    job: str = Field(description="Job name.")
    partition: str | None = Field(default=None, description="Partition key, if any.")
    success: bool = Field(description="Whether the run succeeded.")
    seconds: float = Field(description="Wall time.")
    checks_passed: int = Field(default=0, description="Asset checks that passed.")
    checks_failed: list[str] = Field(default_factory=list, description="Failed checks.")
    error: str | None = Field(default=None, description="First error message, if any.")
    run_id: str | None = Field(default=None, description="Dagster run id.")


def outcome_from_events(
    job: str,
    partition: str | None,
    success: bool,
    seconds: float,
    events: Iterable[dg.DagsterEvent],
) -> StepOutcome:
    """Checks passed/failed and the root cause of the first failure, from a run's events."""
    passed, failed, error, run_error = 0, [], None, None
    for event in events:
        if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            e = event.asset_check_evaluation_data
            if e.passed:
                passed += 1
            else:
                failed.append(f"{e.asset_key.to_user_string()}:{e.check_name}")
        elif event.is_step_failure and error is None and event.step_failure_data.error:
            err = event.step_failure_data.error
            while err.cause is not None and "DagsterExecution" in (err.cls_name or ""):
                err = err.cause
            error = f"{event.step_key}: {err.message.strip()}"
        elif event.event_type == dg.DagsterEventType.RUN_FAILURE and run_error is None:
            run_error = event.message
    return StepOutcome(
        job=job,
        partition=partition,
        success=success,
        seconds=round(seconds, 2),
        checks_passed=passed,
        checks_failed=failed,
        error=error or (None if success else run_error or "run failed"),
    )


class DemoReport(BaseModel):
    """What the demo did."""

    data_dir: str
    use_case: str
    days: list[str]
    steps: list[StepOutcome]
    sensor_decision: str | None = Field(
        default=None, description="The retraining sensor's decision after the last day."
    )

    @property
    def success(self) -> bool:
        return all(s.success for s in self.steps)
