"""End-to-end lifecycle benchmark: the demo's jobs headless (target: <= 60 s after setup).

Setup (timed apart): simulate the demo's days of landing files and load the code location.
Then the real jobs run in process, as ``mlops-assets demo`` runs them: ingestion of every day,
training (training set, model, evaluation, champion), deployment, batch inference of every
day. Reported: each job's wall time, each asset step's time (summed over days) and the Dagster
overhead per job (job wall time minus the time inside its steps).
"""

import os
import shutil
from datetime import timedelta
from typing import Any

from benchmarks.harness import compare, measure
from benchmarks.timing import bench_dir, timed


def lifecycle(days: int, rows_per_day: int, keep: bool = False) -> dict[str, Any]:
    """Run the demo lifecycle on a fresh data root; ``keep`` leaves it for the inference
    benchmark (which scores with the champion trained here)."""
    from benchmarks.medallion_tasks import failure_message, step_seconds

    data = bench_dir("lifecycle")
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    os.environ["MLOPS_DATA_DIR"] = str(data)
    out: dict[str, Any] = {}
    with timed(out, "setup_"):
        import dagster as dg

        from mlops_assets.automation.jobs import build_jobs
        from mlops_assets.cli.demo import lifecycle_jobs, location_definitions
        from mlops_assets.config.project import load_project
        from mlops_assets.simulate import SimulationConfig, simulate

        project = load_project()
        uc = project.use_case("churn")
        simulate(SimulationConfig(days=days, rows_per_day=rows_per_day, use_case=uc.name), data)
        defs = location_definitions(project, keep_serving=False)
    jobs = build_jobs(uc)
    day_keys = [(uc.start_date + timedelta(days=i)).isoformat() for i in range(days)]
    plan = [(jobs.ingestion, d) for d in day_keys] + [(j, None) for j in lifecycle_jobs(jobs)]
    if jobs.batch_inference is not None:
        plan += [(jobs.batch_inference, d) for d in day_keys]
    instance = dg.DagsterInstance.ephemeral()
    runs: list[dict[str, Any]] = []
    per_asset: dict[str, float] = {}
    with timed(out):
        for job, partition in plan:
            run: dict[str, Any] = {"job": job.name, "partition": partition}
            with timed(run):
                result = defs.resolve_job_def(job.name).execute_in_process(
                    instance=instance,
                    partition_key=partition,
                    raise_on_error=False,
                    run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
                )
            if not result.success:
                raise RuntimeError(f"{job.name}: {failure_message(instance, result.run_id)}")
            steps = step_seconds(instance, result.run_id)
            run["steps_s"] = sum(steps.values())
            run["dagster_overhead_s"] = run["wall_s"] - run["steps_s"]
            for step, seconds in steps.items():
                per_asset[step] = per_asset.get(step, 0.0) + seconds
            runs.append(run)
    out["jobs"] = [
        {k: round(v, 3) if isinstance(v, float) else v for k, v in r.items()} for r in runs
    ]
    out["per_asset_s"] = {
        k: round(v, 3) for k, v in sorted(per_asset.items(), key=lambda kv: -kv[1])
    }
    out["dagster_overhead_s"] = round(sum(r["dagster_overhead_s"] for r in runs), 3)
    if not keep:
        shutil.rmtree(data, ignore_errors=True)
    return out


def run(days: int, rows_per_day: int, *, quick: bool = False) -> dict[str, Any]:
    figure = measure(
        f"demo lifecycle, {days} days x {rows_per_day:,} rows",
        "lifecycle",
        {"days": days, "rows_per_day": rows_per_day, "keep": True},
        runs=1,
    )
    details = figure.details
    slowest = list(details.get("per_asset_s", {}).items())[:6]
    comparison = compare(
        f"end-to-end lifecycle ({days} days x {rows_per_day:,} rows)",
        figure,
        None,
        target="<= 60 s after setup",
        ratio=figure.wall_s / 60.0,
        ratio_meaning="ours / 60 s target (wall)",
        met=None if quick else figure.wall_s <= 60.0,
        notes=[
            f"setup (simulate + load the code location) {details.get('setup_wall_s', 0):.1f} s",
            f"{len(details.get('jobs', []))} job runs; Dagster overhead (job time outside its "
            f"steps) {details.get('dagster_overhead_s', 0):.1f} s in total",
            "slowest assets (s, summed over days): "
            + ", ".join(f"{k}={v:.1f}" for k, v in slowest),
        ],
    )
    return {"figures": {"lifecycle": figure.model_dump()}, "comparisons": [comparison.model_dump()]}
