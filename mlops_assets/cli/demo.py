"""``mlops-assets demo``: the whole lifecycle headless, on simulated data, with a summary."""

import argparse
import time
from datetime import date
from typing import Any

import dagster as dg

from mlops_assets.automation.jobs import AssetJob, UseCaseJobs, build_jobs
from mlops_assets.cli.demo_launch import LaunchedStack, demo_launcher
from mlops_assets.cli.demo_outcome import DemoReport, StepOutcome, outcome_from_events
from mlops_assets.cli.demo_window import DemoWindow, check_days, demo_days, write_window
from mlops_assets.cli.dev import LOCATION_NAME
from mlops_assets.config.project import ProjectConfig, load_project, local_environment
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.storage.lakehouse import LocalLakehouse

MONITOR_DAYS = 3
"""Days the demo monitors (the last ones): the retraining sensor's default window. Each
monitoring run writes an Evidently report, the demo's most expensive daily step."""
REPOSITORY_TAG = ".dagster/repository"
LOCATION_TAGS = {REPOSITORY_TAG: f"__repository__@{LOCATION_NAME}"}
"""The UI lists a job's runs (and a sensor's) by this tag: a run of the code location's single
repository (Dagster names it ``__repository__``) in location ``mlops_assets``."""


def serving_smoke_test(defs: dg.Definitions) -> dict[str, Any] | None:
    """Run config of a launched deployment: smoke-test the local endpoint, then stop it (the
    code location keeps it running; the demo leaves no server behind, as in process)."""
    from mlops_assets.resources.serving import LocalServingResource

    serving = (defs.resources or {}).get("serving")
    if not isinstance(serving, LocalServingResource):
        return None
    config = {"state_dir": serving.state_dir, "keep_running": False}
    return {"resources": {"serving": {"config": config}}}


def run_job(
    defs: dg.Definitions,
    name: str,
    instance: dg.DagsterInstance,
    partition: str | None = None,
    tags: dict[str, str] | None = None,
    log_level: str | None = None,
    run_config: dict[str, Any] | None = None,
) -> StepOutcome:
    """Execute one job in process and summarise its outcome (never raises on failure).

    Dagster's console log is quiet (CRITICAL only: the outcome carries the root cause) unless
    ``--verbose`` asked for its warnings and error traces.
    """
    from mlops_assets.cli import verbose

    log_level = log_level or ("WARNING" if verbose() else "CRITICAL")
    start = time.perf_counter()
    result = defs.resolve_job_def(name).execute_in_process(
        instance=instance,
        partition_key=partition,
        raise_on_error=False,
        tags={**LOCATION_TAGS, **(tags or {})},
        run_config={
            **(run_config or {}),
            "loggers": {"console": {"config": {"log_level": log_level}}},
        },
    )
    seconds = time.perf_counter() - start
    return outcome_from_events(name, partition, result.success, seconds, result.all_events)


def location_definitions(project: ProjectConfig, *, keep_serving: bool) -> dg.Definitions:
    """The code location's definitions (use-case components + resources), demo options applied."""
    from mlops_assets.components.project import build_location_definitions
    from mlops_assets.resources.factory import BuildOptions

    return build_location_definitions(project, BuildOptions(keep_serving=keep_serving))


def run_demo(
    project: ProjectConfig,
    *,
    days: int,
    rows_per_day: int,
    drift: list[str],
    fresh: bool,
    instance: dg.DagsterInstance,
    echo: bool = True,
    keep_serving: bool = False,
    use_case: str | None = None,
    defs: dg.Definitions | None = None,
    end: date | None = None,
    monitor_days: int = MONITOR_DAYS,
    launcher: LaunchedStack | None = None,
) -> DemoReport:
    """Simulate ``days`` of landing files ending at ``end`` (default yesterday), then run every
    lifecycle stage: ingestion and batch inference per day, training and deployment, drift and
    performance monitoring of the last ``monitor_days`` days, and one evaluation of the
    retraining sensor over them.

    ``fresh`` resets only this use case (its lakehouse locations, registered model and
    experiment); ``defs`` defaults to the code location's definitions. With ``launcher`` the
    jobs are launched through the code location (the UI's timeline shows them), else executed
    in process.
    """
    from mlops_assets.cli.reset import reset_use_case
    from mlops_assets.simulate.cli import parse_drift
    from mlops_assets.simulate.config import SimulationConfig

    env = local_environment(project)
    uc = project.use_case(use_case) if use_case else project.use_cases[0]
    window = demo_days(days, end)
    sim = SimulationConfig(
        start_date=window[0],
        days=days,
        rows_per_day=rows_per_day,
        use_case=uc.name,
        drift=[parse_drift(d) for d in drift],
    )
    check_days(uc, window, sim.label_delay_days)
    if fresh:
        reset_use_case(project, uc)
    from mlops_assets.simulate.runner import simulate

    simulate(sim, env.data_dir)
    lakehouse = LocalLakehouse(env.data_dir)
    record = DemoWindow(first_day=window[0], last_day=window[-1])
    write_window(lakehouse, uc, record)
    day_keys = [d.isoformat() for d in window]
    defs = defs or location_definitions(project, keep_serving=keep_serving)
    jobs = build_jobs(uc)
    steps: list[StepOutcome] = []

    def step(job: AssetJob, partition: str | None = None) -> None:
        if launcher is None:
            outcome = run_job(defs, job.name, instance, partition=partition)
        else:  # the code location's endpoint is kept running; the demo's is stopped after its test
            config = serving_smoke_test(defs) if job is jobs.deployment else None
            outcome = launcher.run(job.name, partition, LOCATION_TAGS, run_config=config)
        steps.append(outcome)
        if echo:
            _echo_step(outcome)

    for day in day_keys:
        step(jobs.ingestion, day)
    for stage_job in lifecycle_jobs(jobs):
        step(stage_job)
    if jobs.batch_inference is not None:
        for day in day_keys:
            step(jobs.batch_inference, day)
    monitored = day_keys[len(day_keys) - monitor_days :] if monitor_days > 0 else []
    if jobs.monitoring is not None:
        for day in monitored:
            step(jobs.monitoring, day)
    decision = None
    if monitored and jobs.training is not None and jobs.monitoring is not None:
        decision = evaluate_retraining_sensor(defs, uc, jobs.training, instance)
        if echo:
            print(f"  retraining sensor: {decision}")
    return DemoReport(
        data_dir=str(env.data_dir),
        use_case=uc.name,
        days=day_keys,
        steps=steps,
        sensor_decision=decision,
    )


def evaluate_retraining_sensor(
    defs: dg.Definitions, uc: UseCaseConfig, training: AssetJob, instance: dg.DagsterInstance
) -> str:
    """One evaluation of the retraining sensor, as the daemon would run it; its decision as
    text. Nothing is launched: the demo's story ends with the decision."""
    from mlops_assets.automation.retraining_sensor import build_retraining_sensor

    sensor = defs.resolve_sensor_def(build_retraining_sensor(uc, training).name)
    with dg.build_sensor_context(
        instance=instance, definitions=defs, resources=defs.resources
    ) as context:
        result = sensor.evaluate_tick(context)
    if result.run_requests:
        reason = result.run_requests[0].tags.get("mlops/reason", "")
        return f"{sensor.name} would retrain: {reason}"
    return f"{sensor.name} skips: {result.skip_message or 'no reason given'}"


def lifecycle_jobs(jobs: UseCaseJobs) -> list[AssetJob]:
    """The unpartitioned stages run once after ingestion: training (or only the training set
    when there is no model), then deployment."""
    stages = [jobs.training, jobs.deployment] if jobs.training else [jobs.training_set]
    return [job for job in stages if job is not None]


def _echo_step(s: StepOutcome) -> None:
    status = "ok " if s.success else "FAILED"
    where = f"[{s.partition}]" if s.partition else ""
    print(
        f"  {status} {s.job}{where} in {s.seconds:.1f}s: checks {s.checks_passed} passed, "
        f"{len(s.checks_failed)} failed"
    )
    if s.error:
        print(f"       error: {s.error.splitlines()[0]}")


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = subparsers.add_parser(
        "demo",
        help="simulate data and run the whole lifecycle headless",
        description="Simulate the days ending yesterday and run every stage on them: ingestion, "
        "training, deployment, batch inference, drift and performance monitoring.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--days", type=int, default=7, help="days to simulate and process")
    parser.add_argument("--rows-per-day", type=int, default=1000, help="observations per day")
    parser.add_argument(
        "--end",
        type=date.fromisoformat,
        default=None,
        metavar="YYYY-MM-DD",
        help="last simulated day (default: yesterday, UTC)",
    )
    parser.add_argument(
        "--drift",
        action="append",
        default=[],
        metavar="SPEC",
        help="inject drift, e.g. monthly_charges:8:multiply=1.4 (repeatable)",
    )
    parser.add_argument(
        "--monitor-days",
        type=int,
        default=MONITOR_DAYS,
        help="monitor drift and performance on this many of the last days (0: none)",
    )
    parser.add_argument("--use-case", default=None, help="use case (default: the first one)")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the use case's existing data instead of starting fresh",
    )
    parser.add_argument(
        "--no-sensors",
        action="store_true",
        help="leave the sensors as they are (by default the use case's landing and retraining "
        "sensors are started in $DAGSTER_HOME's instance, their cursors set for the demo's data)",
    )
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="execute the jobs in this process (faster; the UI's Overview timeline will not show "
        "the runs). By default they are launched through the code location by a headless "
        "webserver started for the demo (needs $DAGSTER_HOME)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mlops_assets.cli.demo_summary import summarise
    from mlops_assets.cli.instance import get_instance
    from mlops_assets.simulate.config import SimulationConfig

    project = load_project()
    window = demo_days(args.days, args.end)
    print(
        f"mlops-assets demo: {args.days} days x {args.rows_per_day} rows, "
        f"{window[0].isoformat()} to {window[-1].isoformat()}",
        flush=True,
    )
    uc = project.use_case(args.use_case) if args.use_case else project.use_cases[0]
    check_days(uc, window, SimulationConfig().label_delay_days)  # refuse before starting anything
    defs = location_definitions(project, keep_serving=False)
    instance = get_instance()
    with demo_launcher(instance, window[0], in_process=args.in_process) as launcher:
        report = run_demo(
            project,
            days=args.days,
            rows_per_day=args.rows_per_day,
            drift=args.drift,
            fresh=not args.keep,
            instance=instance,
            use_case=args.use_case,
            defs=defs,
            end=args.end,
            monitor_days=args.monitor_days,
            launcher=launcher,
        )
    print(summarise(project, report, defs))
    if not args.no_sensors:
        from mlops_assets.cli.demo_sensors import leave_sensors_started

        print(f"\n{leave_sensors_started(uc, report.success, defs, instance, fresh=not args.keep)}")
    print(
        "\nSee it in the UI: `make dev` (or `mlops-assets dev`), then http://127.0.0.1:3000 "
        "(partitions start at the first simulated day)."
    )
    return 0 if report.success else 1
