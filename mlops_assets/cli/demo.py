"""``mlops-assets demo``: the whole lifecycle headless, on simulated data, with a summary."""

import argparse
import shutil
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
from pydantic import BaseModel, Field

from mlops_assets.config.project import ProjectConfig, load_project, local_environment
from mlops_assets.config.use_case import UseCaseConfig


class StepOutcome(BaseModel):
    """One job run of the demo."""

    job: str = Field(description="Job name.")
    partition: str | None = Field(default=None, description="Partition key, if any.")
    success: bool = Field(description="Whether the run succeeded.")
    seconds: float = Field(description="Wall time.")
    checks_passed: int = Field(default=0, description="Asset checks that passed.")
    checks_failed: list[str] = Field(default_factory=list, description="Failed checks.")
    error: str | None = Field(default=None, description="First error message, if any.")


class DemoReport(BaseModel):
    """What the demo did."""

    data_dir: str
    days: list[str]
    steps: list[StepOutcome]

    @property
    def success(self) -> bool:
        return all(s.success for s in self.steps)


def _owned_dirs(data_dir: Path, uc: UseCaseConfig) -> list[Path]:
    return [
        data_dir / "landing" / uc.name,
        data_dir / "lakehouse" / uc.name,
        data_dir / "lakehouse" / "_staging" / uc.name,
        data_dir / "reports" / uc.name,
        data_dir / "mlflow",
        data_dir / "locks",
    ]


def run_job(
    defs: dg.Definitions,
    name: str,
    instance: dg.DagsterInstance,
    partition: str | None = None,
    tags: dict[str, str] | None = None,
    log_level: str = "WARNING",
    run_config: dict[str, Any] | None = None,
) -> StepOutcome:
    """Execute one job in process and summarise its outcome (never raises on failure)."""
    start = time.perf_counter()
    result = defs.resolve_job_def(name).execute_in_process(
        instance=instance,
        partition_key=partition,
        raise_on_error=False,
        tags=tags,
        run_config={
            **(run_config or {}),
            "loggers": {"console": {"config": {"log_level": log_level}}},
        },
    )
    evaluations = result.get_asset_check_evaluations()
    failed = [f"{e.asset_key.to_user_string()}:{e.check_name}" for e in evaluations if not e.passed]
    error = None
    if not result.success:
        for event in result.all_events:
            if event.is_step_failure and event.step_failure_data.error is not None:
                err = event.step_failure_data.error
                while err.cause is not None and "DagsterExecution" in (err.cls_name or ""):
                    err = err.cause
                error = f"{event.step_key}: {err.message.strip()}"
                break
    return StepOutcome(
        job=name,
        partition=partition,
        success=result.success,
        seconds=round(time.perf_counter() - start, 2),
        checks_passed=len(evaluations) - len(failed),
        checks_failed=failed,
        error=error,
    )


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
) -> DemoReport:
    """Simulate ``days`` of landing files, then run every lifecycle stage for every day."""
    from mlops_assets.build import build_definitions
    from mlops_assets.resources.factory import BuildOptions
    from mlops_assets.simulate.cli import parse_drift
    from mlops_assets.simulate.config import SimulationConfig
    from mlops_assets.simulate.runner import simulate

    env = local_environment(project)
    uc = project.use_cases[0]
    if fresh:
        for folder in _owned_dirs(env.data_dir, uc):
            shutil.rmtree(folder, ignore_errors=True)
    sim = SimulationConfig(
        start_date=uc.start_date,
        days=days,
        rows_per_day=rows_per_day,
        use_case=uc.name,
        drift=[parse_drift(d) for d in drift],
    )
    simulate(sim, env.data_dir)
    day_keys = [(uc.start_date + timedelta(days=i)).isoformat() for i in range(days)]
    defs = build_definitions(project, BuildOptions(keep_serving=keep_serving))
    steps: list[StepOutcome] = []
    for day in day_keys:
        outcome = run_job(defs, f"{uc.name}_ingestion", instance, partition=day)
        steps.append(outcome)
        if echo:
            _echo_step(outcome)
    for stage_job in _lifecycle_jobs(uc):
        outcome = run_job(defs, stage_job, instance)
        steps.append(outcome)
        if echo:
            _echo_step(outcome)
    if uc.model is not None:
        for day in day_keys:
            outcome = run_job(defs, f"{uc.name}_batch_inference", instance, partition=day)
            steps.append(outcome)
            if echo:
                _echo_step(outcome)
    return DemoReport(data_dir=str(env.data_dir), days=day_keys, steps=steps)


def _lifecycle_jobs(uc: UseCaseConfig) -> list[str]:
    if uc.model is None:
        return [f"{uc.name}_training_set"] if uc.training_set else []
    return [f"{uc.name}_training", f"{uc.name}_deployment"]


def _echo_step(s: StepOutcome) -> None:
    status = "ok " if s.success else "FAILED"
    where = f"[{s.partition}]" if s.partition else ""
    print(
        f"  {status} {s.job}{where} in {s.seconds:.1f}s: checks {s.checks_passed} passed, "
        f"{len(s.checks_failed)} failed"
    )
    if s.error:
        print(f"       error: {s.error.splitlines()[0]}")


def summarise(project: ProjectConfig, report: DemoReport) -> str:
    """Rows per table, quarantine reasons and check results, as plain text."""
    from mlops_assets.storage.delta import read_table, table_exists

    env = local_environment(project)
    uc = project.use_cases[0]
    lines = [f"\nData root: {report.data_dir}", "\nRows per table:"]
    root = env.lakehouse_dir / uc.name
    for layer_dir in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        for table_dir in sorted(p for p in layer_dir.iterdir() if table_exists(p)):
            name = f"{uc.name}/{layer_dir.name}/{table_dir.name}"
            lines.append(f"  {name:<44} {read_table(table_dir).height:>9,}")
    lines.append("\nQuarantined rows and why:")
    for ds in uc.datasets:
        path = root / "silver" / f"{ds.name}_quarantine"
        if not table_exists(path):
            continue
        q = read_table(path)
        if q.height == 0:
            continue
        for rule, n in sorted(Counter(q["_rule"].to_list()).items(), key=lambda kv: -kv[1]):
            example = q.filter(pl.col("_rule") == rule)["_reason"][0]
            lines.append(f"  {ds.name:<10} {rule:<28} {n:>6}  e.g. {example[:70]}")
    lines.extend(_model_summary(env.data_dir, uc))
    failed = Counter(c for s in report.steps for c in s.checks_failed)
    passed = sum(s.checks_passed for s in report.steps)
    lines.append(f"\nAsset checks: {passed} passed, {sum(failed.values())} failed")
    for check, n in sorted(failed.items()):
        lines.append(f"  failed {n}x: {check}")
    ok = sum(s.success for s in report.steps)
    lines.append(f"\nRuns: {ok}/{len(report.steps)} succeeded")
    return "\n".join(lines)


def _model_summary(data_dir: Path, uc: UseCaseConfig) -> list[str]:
    """Champion, gate decision and endpoint, from the state the lifecycle assets stored."""
    import json

    state = data_dir / "state" / uc.name
    evaluation = state / "models" / "evaluation.json"
    champion = state / "models" / "champion.json"
    endpoint = state / "serving" / "endpoint.json"
    lines: list[str] = []
    if evaluation.exists():
        report = json.loads(evaluation.read_text())
        metrics = ", ".join(f"{k}={v:.3f}" for k, v in sorted(report["challenger_metrics"].items()))
        lines.append(f"\nModel {report['model_name']} v{report['challenger_version']}: {metrics}")
        lines.append(f"  gate: {report['decision']['reasons'][0]}")
    if champion.exists():
        champ = json.loads(champion.read_text())
        lines.append(f"  champion: v{champ['champion_version']} ({champ['champion_uri']})")
    if endpoint.exists():
        ep = json.loads(endpoint.read_text())
        lines.append(
            f"  served v{ep['model_version']}: smoke test answered in "
            f"{ep['smoke_test_latency_ms']:.0f} ms, P(churn) = "
            + ", ".join(f"{p:.2f}" for p in ep["smoke_test_predictions"])
        )
    return lines


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = subparsers.add_parser("demo", help="simulate data and run the lifecycle headless")
    parser.add_argument("--days", type=int, default=7, help="days to simulate and process")
    parser.add_argument("--rows-per-day", type=int, default=1000, help="observations per day")
    parser.add_argument(
        "--drift",
        action="append",
        default=[],
        metavar="SPEC",
        help="inject drift, e.g. monthly_charges:8:multiply=1.4 (repeatable)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep existing data instead of starting from a fresh data root",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mlops_assets.cli.instance import get_instance

    project = load_project()
    start = date.today()
    print(f"mlops-assets demo: {args.days} days x {args.rows_per_day} rows ({start.isoformat()})")
    report = run_demo(
        project,
        days=args.days,
        rows_per_day=args.rows_per_day,
        drift=args.drift,
        fresh=not args.keep,
        instance=get_instance(),
    )
    print(summarise(project, report))
    return 0 if report.success else 1
