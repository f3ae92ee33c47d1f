"""``mlops-assets demo``: the whole lifecycle headless, on simulated data, with a summary."""

import argparse
import time
from collections import Counter
from datetime import date, timedelta
from typing import Any

import dagster as dg
from pydantic import BaseModel, Field

from mlops_assets.automation.jobs import AssetJob, UseCaseJobs, build_jobs
from mlops_assets.config.project import ProjectConfig, load_project, local_environment
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.storage.lakehouse import Lakehouse, LocalLakehouse, TableRef
from mlops_assets.storage.tables import UseCaseTables


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
    use_case: str
    days: list[str]
    steps: list[StepOutcome]

    @property
    def success(self) -> bool:
        return all(s.success for s in self.steps)


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
) -> DemoReport:
    """Simulate ``days`` of landing files, then run every lifecycle stage for every day.

    ``fresh`` resets only this use case (its lakehouse locations, registered model and
    experiment); ``defs`` defaults to the code location's definitions.
    """
    from mlops_assets.cli.reset import reset_use_case
    from mlops_assets.simulate.cli import parse_drift
    from mlops_assets.simulate.config import SimulationConfig
    from mlops_assets.simulate.runner import simulate

    env = local_environment(project)
    uc = project.use_case(use_case) if use_case else project.use_cases[0]
    if fresh:
        reset_use_case(project, uc)
    sim = SimulationConfig(
        start_date=uc.start_date,
        days=days,
        rows_per_day=rows_per_day,
        use_case=uc.name,
        drift=[parse_drift(d) for d in drift],
    )
    simulate(sim, env.data_dir)
    day_keys = [(uc.start_date + timedelta(days=i)).isoformat() for i in range(days)]
    defs = defs or location_definitions(project, keep_serving=keep_serving)
    jobs = build_jobs(uc)
    steps: list[StepOutcome] = []

    def step(job: AssetJob, partition: str | None = None) -> None:
        outcome = run_job(defs, job.name, instance, partition=partition)
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
    return DemoReport(data_dir=str(env.data_dir), use_case=uc.name, days=day_keys, steps=steps)


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


def summarise(project: ProjectConfig, report: DemoReport, defs: dg.Definitions) -> str:
    """Rows per table, quarantine reasons and check results, as plain text."""
    from mlops_assets.engines.frames import row_count

    uc = project.use_case(report.use_case)
    lakehouse = LocalLakehouse(local_environment(project).data_dir)
    names = UseCaseTables(uc)
    lines = [f"\nData root: {report.data_dir}", "\nRows per table:"]
    for ref in use_case_tables(defs, uc):
        if lakehouse.table_exists(ref):
            lines.append(f"  {ref!s:<44} {row_count(lakehouse.read_table(ref)):>9,}")
    lines.append("\nQuarantined rows and why:")
    for ds in uc.datasets:
        lines.extend(_quarantine_lines(lakehouse, names.quarantine(ds.name), ds.name))
    lines.extend(_model_summary(lakehouse, names))
    failed = Counter(c for s in report.steps for c in s.checks_failed)
    passed = sum(s.checks_passed for s in report.steps)
    lines.append(f"\nAsset checks: {passed} passed, {sum(failed.values())} failed")
    for check, n in sorted(failed.items()):
        lines.append(f"  failed {n}x: {check}")
    ok = sum(s.success for s in report.steps)
    lines.append(f"\nRuns: {ok}/{len(report.steps)} succeeded")
    return "\n".join(lines)


def use_case_tables(defs: dg.Definitions, uc: UseCaseConfig) -> list[TableRef]:
    """The use case's tables: its assets (named as their keys say) and the landing-file
    accounts bronze keeps beside them."""
    from mlops_assets.assets.medallion.bronze import landing_files_ref

    keys = [list(k.path) for k in defs.resolve_all_asset_keys()]
    refs = [TableRef.from_path(k) for k in keys if len(k) == 3 and k[0] == uc.name]
    refs += [landing_files_ref(uc, ds) for ds in uc.datasets]
    return sorted(set(refs), key=lambda ref: ref.parts)


def _quarantine_lines(lakehouse: Lakehouse, ref: TableRef, dataset: str) -> list[str]:
    from mlops_assets.engines.frames import to_polars

    if not lakehouse.table_exists(ref):
        return []
    rows = to_polars(lakehouse.read_table(ref).select("_rule", "_reason"))
    lines: list[str] = []
    for rule, n in sorted(Counter(rows["_rule"].to_list()).items(), key=lambda kv: -kv[1]):
        example = rows.filter(rows["_rule"] == rule)["_reason"][0]
        lines.append(f"  {dataset:<10} {rule:<28} {n:>6}  e.g. {example[:70]}")
    return lines


def _model_summary(lakehouse: Lakehouse, names: UseCaseTables) -> list[str]:
    """Champion, gate decision and endpoint, from the state the lifecycle assets stored."""
    from mlops_assets.ml.decisions import ChampionState, EvaluationReport
    from mlops_assets.resources.serving import EndpointState

    if names.uc.model is None:
        return []
    lines: list[str] = []
    evaluation = lakehouse.state_path(names.evaluation)
    if evaluation.exists():
        report = EvaluationReport.model_validate_json(evaluation.read_text(encoding="utf-8"))
        metrics = ", ".join(f"{k}={v:.3f}" for k, v in sorted(report.challenger_metrics.items()))
        lines.append(f"\nModel {report.model_name} v{report.challenger_version}: {metrics}")
        lines.append(f"  gate: {report.decision.reasons[0]}")
    champion = lakehouse.state_path(names.champion)
    if champion.exists():
        champ = ChampionState.model_validate_json(champion.read_text(encoding="utf-8"))
        lines.append(f"  champion: v{champ.champion_version} ({champ.champion_uri})")
    endpoint = lakehouse.state_path(names.endpoint)
    if endpoint.exists():
        ep = EndpointState.model_validate_json(endpoint.read_text(encoding="utf-8"))
        lines.append(
            f"  served v{ep.model_version}: smoke test answered in "
            f"{ep.smoke_test_latency_ms:.0f} ms, P(churn) = "
            + ", ".join(f"{p:.2f}" for p in ep.smoke_test_predictions)
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
    parser.add_argument("--use-case", default=None, help="use case (default: the first one)")
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
    defs = location_definitions(project, keep_serving=False)
    report = run_demo(
        project,
        days=args.days,
        rows_per_day=args.rows_per_day,
        drift=args.drift,
        fresh=not args.keep,
        instance=get_instance(),
        use_case=args.use_case,
        defs=defs,
    )
    print(summarise(project, report, defs))
    return 0 if report.success else 1
