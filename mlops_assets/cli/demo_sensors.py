"""After ``mlops-assets demo``: the use case's landing and retraining sensors are left started.

Sensors are defined stopped (a deployment switches them on deliberately). The demo, which works
on the local instance of ``$DAGSTER_HOME``, starts the two sensors of the use case it ran, so the
daemon of ``make dev`` evaluates them within seconds and their decisions appear as ticks on the
sensor pages. It uses Dagster's public CLI on the project's ``workspace.yaml`` (the same code
location ``make dev`` serves): ``dagster sensor cursor`` and ``dagster sensor start``.

No tick may start a run the demo did not mean:

- the landing sensor's cursor is set to the landing files the demo ingested (its own headless
  evaluation over them), so its first tick skips ("no new or changed landing files") and only
  files that land later start ingestion;
- the retraining sensor keeps an empty cursor (deleted when the demo started fresh: its history
  belonged to the wiped data), so its first tick takes the same decision the demo printed, over
  the same monitoring windows. A retraining the demo reported as due ("would retrain") is then
  started by that tick: that is the sensor's job.
"""

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import dagster as dg
from pydantic import BaseModel, Field

from mlops_assets.automation.jobs import UseCaseJobs, build_jobs
from mlops_assets.config.loader import project_root
from mlops_assets.config.use_case import UseCaseConfig

CLI_TIMEOUT_SECONDS = 300.0
"""Each CLI call loads the code location (~5-15 s on a 2-core machine)."""


class SensorsOutcome(BaseModel):
    """What the demo did to the sensors."""

    started: list[str] = Field(default_factory=list, description="Sensors left running.")
    landing_cursor: bool = Field(
        default=False,
        description="Whether the landing sensor's cursor was set to the demo's files.",
    )
    errors: list[str] = Field(default_factory=list, description="Failed CLI calls.")


def landing_cursor(
    defs: dg.Definitions, uc: UseCaseConfig, instance: dg.DagsterInstance
) -> tuple[str, str | None]:
    """The landing sensor's name and the cursor it reaches over the files now landed (``None``
    when it would request nothing). Evaluated headless; nothing is launched."""
    name = f"{uc.name}_landing_sensor"
    sensor = defs.resolve_sensor_def(name)
    with dg.build_sensor_context(
        instance=instance, definitions=defs, resources=defs.resources
    ) as context:
        result = sensor.evaluate_tick(context)
    return name, result.cursor


def sensor_cli(*args: str, workspace: Path | None = None) -> list[str]:
    """``dagster sensor <args>`` on the project's workspace (location ``mlops_assets``)."""
    target = workspace or project_root() / "workspace.yaml"
    return [sys.executable, "-m", "dagster", "sensor", *args, "-w", str(target)]


def _run_round(commands: list[list[str]], env: Mapping[str, str], outcome: SensorsOutcome) -> None:
    """Run independent CLI calls side by side (each loads the code location)."""
    procs = [
        subprocess.Popen(
            cmd, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for cmd in commands
    ]
    for cmd, proc in zip(commands, procs, strict=True):
        try:
            out, _ = proc.communicate(timeout=CLI_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
            out = f"timed out after {CLI_TIMEOUT_SECONDS:.0f}s\n{out}"
        if proc.returncode != 0:
            last = [line for line in out.splitlines() if line.strip()][-1:] or ["no output"]
            outcome.errors.append(f"{' '.join(cmd[3:6])}: {last[0].strip()}")


def start_demo_sensors(
    defs: dg.Definitions,
    uc: UseCaseConfig,
    jobs: UseCaseJobs,
    instance: dg.DagsterInstance,
    *,
    fresh: bool,
    env: Mapping[str, str] | None = None,
) -> SensorsOutcome:
    """Set the landing cursor to the demo's files, reset the retraining cursor when ``fresh``,
    then start both sensors of ``uc`` in the instance of ``$DAGSTER_HOME`` (never raises)."""
    environ = dict(env if env is not None else os.environ)
    outcome = SensorsOutcome()
    landing, cursor = landing_cursor(defs, uc, instance)
    names = [landing]
    first: list[list[str]] = []
    if cursor is not None:
        first.append(sensor_cli("cursor", landing, "--set", cursor))
    if jobs.training is not None and jobs.monitoring is not None:
        retraining = f"{uc.name}_retraining_sensor"
        names.append(retraining)
        if fresh:
            first.append(sensor_cli("cursor", retraining, "--delete"))
    _run_round(first, environ, outcome)  # cursors first: a running daemon may tick at once
    outcome.landing_cursor = cursor is not None and not outcome.errors
    if outcome.errors:
        return outcome  # never start a sensor whose cursor could not be set
    before = len(outcome.errors)
    _run_round([sensor_cli("start", name) for name in names], environ, outcome)
    outcome.started = names if len(outcome.errors) == before else []
    return outcome


def describe(outcome: SensorsOutcome) -> str:
    """One line for the demo's output."""
    if outcome.errors:
        return "sensors NOT started: " + "; ".join(outcome.errors)
    return (
        f"sensors started: {', '.join(outcome.started)} (the daemon of `make dev` records their "
        "decisions as ticks; the landing sensor skips the files the demo already ingested)"
    )


def leave_sensors_started(
    uc: UseCaseConfig,
    demo_succeeded: bool,
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    *,
    fresh: bool,
) -> str:
    """Start the sensors of ``uc`` in the persistent instance after a successful demo, so
    ``make dev`` shows their decisions as ticks; what was done, as one line."""
    if not os.environ.get("DAGSTER_HOME"):
        return "sensors not started: no $DAGSTER_HOME (the demo ran on an ephemeral instance)"
    if not demo_succeeded:
        return "sensors not started: a demo run failed (their cursors would not match the data)"
    return describe(start_demo_sensors(defs, uc, build_jobs(uc), instance, fresh=fresh))
