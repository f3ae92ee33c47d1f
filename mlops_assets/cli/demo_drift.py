"""``mlops-assets demo-drift``: two simulated weeks with drift injected halfway, hands off.

Days 1-7 are ingested and a first champion is trained. Then, day by day, the data is ingested,
scored, monitored, and the retraining sensor is evaluated exactly as the daemon would (its cursor
carried from tick to tick, run keys deduplicated against the instance). Every decision is printed
with its reason, and the run ends with the champion version.
"""

import argparse
from datetime import timedelta
from typing import Any

import dagster as dg
from pydantic import BaseModel, Field

from mlops_assets.cli.demo import StepOutcome, run_job
from mlops_assets.config.project import ProjectConfig, load_project, local_environment

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


def _champion_state(data_dir: str, use_case: str) -> dict[str, object]:
    import json
    from pathlib import Path

    path = Path(data_dir, "state", use_case, "models", "champion.json")
    if not path.exists():
        return {}
    state: dict[str, object] = json.loads(path.read_text())
    return state


def _champion(data_dir: str, use_case: str) -> str | None:
    version = _champion_state(data_dir, use_case).get("champion_version")
    return str(version) if version is not None else None


def _window_row(data_dir: str, use_case: str, table: str, day: str) -> dict[str, object] | None:
    from pathlib import Path

    import polars as pl

    from mlops_assets.storage.delta import read_table, table_exists

    path = Path(data_dir, "lakehouse", use_case, "monitoring", table)
    if not table_exists(path):
        return None
    rows = read_table(path).filter(pl.col("window") == day).to_dicts()
    return rows[0] if rows else None


def run_drift_demo(
    project: ProjectConfig,
    *,
    days: int,
    drift_from: int,
    rows_per_day: int,
    instance: dg.DagsterInstance,
    echo: bool = True,
) -> DriftDemoReport:
    """Run the scenario; see the module docstring."""
    import shutil

    from mlops_assets.build import build_definitions
    from mlops_assets.cli.demo import _owned_dirs
    from mlops_assets.resources.factory import BuildOptions
    from mlops_assets.simulate.cli import parse_drift
    from mlops_assets.simulate.config import SimulationConfig
    from mlops_assets.simulate.runner import simulate

    env = local_environment(project)
    uc = project.use_cases[0]
    data_dir = str(env.data_dir)
    for folder in _owned_dirs(env.data_dir, uc):
        shutil.rmtree(folder, ignore_errors=True)
    drift = [parse_drift(spec.format(day=drift_from)) for spec in DEFAULT_DRIFT]
    simulate(
        SimulationConfig(
            start_date=uc.start_date,
            days=days,
            rows_per_day=rows_per_day,
            drift=drift,
            use_case=uc.name,
        ),
        env.data_dir,
    )
    keys = [(uc.start_date + timedelta(days=i)).isoformat() for i in range(days)]
    defs = build_definitions(project, BuildOptions(keep_serving=False))
    steps: list[StepOutcome] = []
    records: list[DayRecord] = []

    def step(
        job: str,
        partition: str | None = None,
        tags: dict[str, str] | None = None,
        run_config: dict[str, Any] | None = None,
    ) -> bool:
        outcome = run_job(
            defs, job, instance, partition=partition, tags=tags, run_config=run_config
        )
        steps.append(outcome)
        if not outcome.success and echo:
            print(f"    {job}[{partition or ''}] FAILED: {outcome.error}")
        return outcome.success

    warmup = keys[: drift_from - 1]
    if echo:
        print(f"days 1-{len(warmup)}: ingest, train the first champion, score and monitor")
    for day in warmup:
        step(f"{uc.name}_ingestion", day)
    step(f"{uc.name}_training", tags={"mlops/trigger": "initial_training"})
    sensor = defs.resolve_sensor_def(f"{uc.name}_retraining_sensor")
    cursor: str | None = None
    for index, day in enumerate(keys):
        if day not in warmup:
            step(f"{uc.name}_ingestion", day)
        step(f"{uc.name}_batch_inference", day)
        step(f"{uc.name}_monitoring", day)
        record = DayRecord(day=day)
        drift_row = _window_row(data_dir, uc.name, "drift", day)
        perf_row = _window_row(data_dir, uc.name, "performance", day)
        if drift_row:
            record.drift_share = float(drift_row["drift_share"])  # type: ignore[arg-type]
            record.drift_status = str(drift_row["status"])
        if perf_row:
            record.performance = str(perf_row["status"])
        if day in warmup:
            record.sensor = "warm-up (sensor not yet running)"
        else:
            context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs)
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
                        f"{uc.name}_training",
                        tags=tags,
                        run_config=config if isinstance(config, dict) else None,
                    )
                    if record.retrained:
                        reason = _champion_state(data_dir, uc.name).get("reason")
                        record.promotion = str(reason) if reason else None
            else:
                record.sensor = f"skip: {result.skip_message or ''}"
        record.champion = _champion(data_dir, uc.name)
        records.append(record)
        if echo:
            _echo_day(index + 1, record)
    return DriftDemoReport(days=records, steps=steps, final_champion=_champion(data_dir, uc.name))


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
        "demo-drift", help="two simulated weeks with drift: detect, explain, retrain"
    )
    parser.add_argument("--days", type=int, default=14, help="days to simulate")
    parser.add_argument("--drift-from", type=int, default=8, help="first drifted day (1-based)")
    parser.add_argument("--rows-per-day", type=int, default=1000, help="observations per day")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mlops_assets.cli.instance import get_instance

    project = load_project()
    print(
        f"mlops-assets demo-drift: {args.days} days x {args.rows_per_day} rows, drift from day "
        f"{args.drift_from}"
    )
    report = run_drift_demo(
        project,
        days=args.days,
        drift_from=args.drift_from,
        rows_per_day=args.rows_per_day,
        instance=get_instance(),
    )
    retrains = [d.day for d in report.days if d.retrained]
    print(f"\nretraining runs: {len(retrains)} ({', '.join(retrains) or 'none'})")
    print(f"final champion: v{report.final_champion}")
    ok = sum(s.success for s in report.steps)
    print(f"runs: {ok}/{len(report.steps)} succeeded")
    return 0 if report.success else 1
