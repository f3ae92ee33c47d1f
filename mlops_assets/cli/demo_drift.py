"""``mlops-assets demo-drift``: two simulated weeks with drift injected halfway, hands off.

Days 1-7 are ingested and a first champion is trained. Then, day by day, the data is ingested,
scored, monitored, and the retraining sensor is evaluated exactly as the daemon would (its cursor
carried from tick to tick, run keys deduplicated against the instance). Every decision is printed
with its reason, and the run ends with the champion version.
"""

import argparse
from datetime import date
from typing import Any

import dagster as dg
from pydantic import BaseModel, Field

from mlops_assets.automation.jobs import build_jobs
from mlops_assets.cli.demo import LOCATION_TAGS, location_definitions, run_job
from mlops_assets.cli.demo_launch import LaunchedStack, demo_launcher
from mlops_assets.cli.demo_outcome import StepOutcome
from mlops_assets.cli.demo_window import (
    DemoWindow,
    check_days,
    demo_days,
    window_row,
    write_window,
)
from mlops_assets.config.project import ProjectConfig, load_project, local_environment
from mlops_assets.errors import ConfigError
from mlops_assets.ml.decisions import ChampionState
from mlops_assets.storage.lakehouse import Lakehouse, LocalLakehouse
from mlops_assets.storage.tables import UseCaseTables

DEFAULT_DRIFT = [
    "monthly_charges:{day}:multiply=1.6",
    "contract:{day}:to_value=Month-to-month,fraction=0.6",
    "internet_service:{day}:to_value=Fiber optic,fraction=0.5",
]


class DayRecord(BaseModel):
    """What happened on one simulated day."""

    day: str
    drift_share: float | None = Field(default=None)
    drift_status: str | None = Field(default=None)
    performance: str | None = Field(default=None)
    sensor: str = Field(default="")
    retrained: bool = Field(default=False)
    champion: str | None = Field(default=None)
    promotion: str | None = Field(
        default=None, description="After a retraining: why the champion changed or was kept."
    )


class DriftDemoReport(BaseModel):
    """The whole scenario."""

    days: list[DayRecord]
    steps: list[StepOutcome]
    final_champion: str | None

    @property
    def success(self) -> bool:
        return all(s.success for s in self.steps)


def champion_state(lakehouse: Lakehouse, names: UseCaseTables) -> ChampionState | None:
    """The champion record the promotion step stored, if any."""
    path = lakehouse.state_path(names.champion)
    if not path.exists():
        return None
    return ChampionState.model_validate_json(path.read_text(encoding="utf-8"))


def _champion(lakehouse: Lakehouse, names: UseCaseTables) -> str | None:
    state = champion_state(lakehouse, names)
    return state.champion_version if state is not None else None


def run_drift_demo(
    project: ProjectConfig,
    *,
    days: int,
    drift_from: int,
    rows_per_day: int,
    instance: dg.DagsterInstance,
    echo: bool = True,
    use_case: str | None = None,
    end: date | None = None,
    launcher: LaunchedStack | None = None,
) -> DriftDemoReport:
    """Run the scenario; see the module docstring. With ``launcher`` the jobs are launched
    through the code location (the UI's timeline shows them), else executed in process."""
    from mlops_assets.automation.retraining_sensor import build_retraining_sensor
    from mlops_assets.cli.reset import reset_use_case
    from mlops_assets.simulate.cli import parse_drift
    from mlops_assets.simulate.config import SimulationConfig
    from mlops_assets.simulate.runner import simulate

    env = local_environment(project)
    uc = project.use_case(use_case) if use_case else project.use_cases[0]
    jobs = build_jobs(uc)
    if jobs.training is None or jobs.batch_inference is None or jobs.monitoring is None:
        raise ConfigError(
            f"use case {uc.name!r} has no model: the drift demo needs training and monitoring",
            fix="pick a use case with `model:` and `training_set:` (--use-case)",
        )
    training, inference, monitoring = jobs.training, jobs.batch_inference, jobs.monitoring
    lakehouse = LocalLakehouse(env.data_dir)
    names = UseCaseTables(uc)
    window = demo_days(days, end)  # ending yesterday, like `demo`: the UI lands in "now"
    check_days(uc, window, SimulationConfig().label_delay_days)
    drift = [parse_drift(spec.format(day=drift_from)) for spec in DEFAULT_DRIFT]
    reset_use_case(project, uc)
    write_window(lakehouse, uc, DemoWindow(first_day=window[0], last_day=window[-1]))
    simulate(
        SimulationConfig(
            start_date=window[0],
            days=days,
            rows_per_day=rows_per_day,
            drift=drift,
            use_case=uc.name,
        ),
        env.data_dir,
    )
    keys = [d.isoformat() for d in window]
    defs = location_definitions(project, keep_serving=False)
    steps: list[StepOutcome] = []
    records: list[DayRecord] = []

    def step(
        job: str,
        partition: str | None = None,
        tags: dict[str, str] | None = None,
        run_config: dict[str, Any] | None = None,
    ) -> bool:
        if launcher is None:
            outcome = run_job(
                defs, job, instance, partition=partition, tags=tags, run_config=run_config
            )
        else:
            tags = {**LOCATION_TAGS, **(tags or {})}
            outcome = launcher.run(job, partition, tags, run_config=run_config)
        steps.append(outcome)
        if not outcome.success and echo:
            print(f"    {job}[{partition or ''}] FAILED: {outcome.error}")
        return outcome.success

    warmup = keys[: drift_from - 1]
    if echo:
        print(f"days 1-{len(warmup)}: ingest, train the first champion, score and monitor")
    for day in warmup:
        step(jobs.ingestion.name, day)
    step(training.name, tags={"mlops/trigger": "initial_training"})
    sensor = defs.resolve_sensor_def(build_retraining_sensor(uc, training).name)
    cursor: str | None = None
    for index, day in enumerate(keys):
        if day not in warmup:
            step(jobs.ingestion.name, day)
        step(inference.name, day)
        step(monitoring.name, day)
        record = DayRecord(day=day)
        drift_row = window_row(lakehouse, names.drift, day)
        perf_row = window_row(lakehouse, names.performance, day)
        if drift_row:
            record.drift_share = float(drift_row["drift_share"])  # type: ignore[arg-type]
            record.drift_status = str(drift_row["status"])
        if perf_row:
            record.performance = str(perf_row["status"])
        if day in warmup:
            record.sensor = "warm-up (sensor not yet running)"
        else:
            with dg.build_sensor_context(  # the code location's resources, as the daemon has
                instance=instance, cursor=cursor, definitions=defs, resources=defs.resources
            ) as context:
                result = sensor.evaluate_tick(context)
            cursor = result.cursor or cursor
            if result.run_requests:
                request = result.run_requests[0]
                record.sensor = f"RETRAIN: {request.tags.get('mlops/reason', '')}"
                already = instance.get_runs(
                    filters=dg.RunsFilter(tags={"dagster/run_key": request.run_key or ""})
                )
                if not already:
                    tags = {**request.tags, "dagster/run_key": request.run_key or ""}
                    config = request.run_config
                    record.retrained = step(
                        training.name,
                        tags=tags,
                        run_config=config if isinstance(config, dict) else None,
                    )
                    state = champion_state(lakehouse, names) if record.retrained else None
                    record.promotion = state.reason if state is not None else None
            else:
                record.sensor = f"skip: {result.skip_message or ''}"
        record.champion = _champion(lakehouse, names)
        records.append(record)
        if echo:
            _echo_day(index + 1, record)
    return DriftDemoReport(days=records, steps=steps, final_champion=_champion(lakehouse, names))


def _echo_day(n: int, r: DayRecord) -> None:
    share = f"{r.drift_share:.0%}" if r.drift_share is not None else "-"
    print(
        f"day {n:>2} {r.day}: drift share {share:>4} ({r.drift_status or '-'}), "
        f"performance {r.performance or '-'}, champion v{r.champion or '-'}"
    )
    print(f"         sensor: {r.sensor}")
    if r.promotion:
        print(f"         champion decision: {r.promotion}")


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = subparsers.add_parser(
        "demo-drift",
        help="two simulated weeks with drift: detect, explain, retrain",
        description="Simulate the days ending yesterday with drift injected from --drift-from; "
        "train a first champion on the clean days, then ingest, score and monitor day by day "
        "and evaluate the retraining sensor as the daemon would.",
    )
    parser.add_argument("--days", type=int, default=14, help="days to simulate")
    parser.add_argument("--drift-from", type=int, default=8, help="first drifted day (1-based)")
    parser.add_argument("--rows-per-day", type=int, default=1000, help="observations per day")
    parser.add_argument(
        "--end",
        type=date.fromisoformat,
        default=None,
        metavar="YYYY-MM-DD",
        help="last simulated day (default: yesterday, UTC)",
    )
    parser.add_argument("--use-case", default=None, help="use case (default: the first one)")
    parser.add_argument(
        "--launch",
        action="store_true",
        help="launch the jobs through the code location by a headless webserver started for "
        "the demo, so the UI's Overview timeline shows them (needs $DAGSTER_HOME; each run "
        "then starts a process of its own: ~10 s more per run, ~45 runs). By default they "
        "are executed in this process",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mlops_assets.cli.instance import get_instance

    project = load_project()
    print(
        f"mlops-assets demo-drift: {args.days} days x {args.rows_per_day} rows, drift from day "
        f"{args.drift_from}"
    )
    instance = get_instance()
    first_day = demo_days(args.days, args.end)[0]
    with demo_launcher(instance, first_day, in_process=not args.launch) as launcher:
        report = run_drift_demo(
            project,
            days=args.days,
            drift_from=args.drift_from,
            rows_per_day=args.rows_per_day,
            instance=instance,
            use_case=args.use_case,
            end=args.end,
            launcher=launcher,
        )
    retrains = [d.day for d in report.days if d.retrained]
    print(f"\nretraining runs: {len(retrains)} ({', '.join(retrains) or 'none'})")
    print(f"final champion: v{report.final_champion}")
    ok = sum(s.success for s in report.steps)
    print(f"runs: {ok}/{len(report.steps)} succeeded")
    return 0 if report.success else 1
