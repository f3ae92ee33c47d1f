"""Measured tasks of the medallion benchmark: the copy floor and the real Dagster job.

Both read the same simulated landing files of one day. The floor is the least any ingestion can
do: read the day's CSV files (every column as text, as bronze keeps them) and write one Delta
table. The project runs its real ingestion job (bronze -> silver + quarantine with every check
-> gold tables -> feature table) in process through Dagster, as ``mlops-assets demo`` does.
"""

import os
import shutil
from functools import cache
from pathlib import Path
from typing import Any

from benchmarks.data import DAY, customer_files
from benchmarks.timing import bench_dir, timed


def copy_floor(root: str) -> dict[str, Any]:
    """Read the day's customers CSV files with Polars and write them as one Delta table.

    Polars and delta-rs are imported inside the timed region, as the job and the pandas script
    import their engines inside theirs: every side of a medallion ratio pays its imports.
    """
    target = bench_dir("floor") / "customers"
    shutil.rmtree(target, ignore_errors=True)
    files = customer_files(Path(root))
    out: dict[str, Any] = {}
    with timed(out):
        import polars as pl
        from deltalake import write_deltalake

        frame = pl.concat([pl.read_csv(f, infer_schema=False) for f in files])
        write_deltalake(str(target), frame)
    out["rows"] = frame.height
    shutil.rmtree(target, ignore_errors=True)
    return out


def ingestion_job() -> Any:
    """The churn use case's ingestion job, as the code location builds it (built once)."""
    return _ingestion_job()


@cache
def _ingestion_job() -> Any:
    """Loaded as a run worker loads it: the code location's module (``definitions.py``)."""
    from mlops_assets.automation.jobs import build_jobs
    from mlops_assets.config.project import load_project
    from mlops_assets.definitions import defs

    return defs.resolve_job_def(build_jobs(load_project().use_case("churn")).ingestion.name)


def dagster_medallion(root: str, day: str = DAY) -> dict[str, Any]:
    """The ingestion job of the churn use case for one day, on a fresh lakehouse, run as a
    launched run runs it: ``execute_job`` with the environment's in-process executor.

    Not ``execute_in_process``: that keeps every step's output in memory until the run ends
    (for ``result.output_for_node``), which a launched run never does; at 10M rows that alone
    held the bronze and silver frames (~5 GB) through the later steps. Reports the job's
    wall/CPU seconds, the code location's load time apart, and per step the time Dagster
    recorded between its start and success events.
    """
    data = Path(root)
    shutil.rmtree(data / "lakehouse", ignore_errors=True)
    os.environ["MLOPS_DATA_DIR"] = str(data)
    out: dict[str, Any] = {}
    with timed(out, "load_"):
        import dagster as dg

        ingestion_job()
    with dg.DagsterInstance.ephemeral() as instance:
        with timed(out):
            result = dg.execute_job(
                dg.reconstructable(ingestion_job),
                instance=instance,
                tags={"dagster/partition": day},
                raise_on_error=False,
                run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
            )
        if not result.success:
            raise RuntimeError(
                f"the ingestion job failed: {failure_message(instance, result.run_id)}"
            )
        out["steps"] = step_seconds(instance, result.run_id)
    out["rows"] = _silver_rows(data, day)
    shutil.rmtree(data / "lakehouse", ignore_errors=True)
    return out


def step_seconds(instance: Any, run_id: str) -> dict[str, float]:
    """Seconds between each step's start and success (or failure) events of a run."""
    starts: dict[str, float] = {}
    seconds: dict[str, float] = {}
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type_value == "STEP_START":
            starts[event.step_key] = record.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            seconds[event.step_key] = round(record.timestamp - starts[event.step_key], 3)
    return seconds


def failure_message(instance: Any, run_id: str) -> str:
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is not None and event.event_type_value == "STEP_FAILURE":
            error = event.step_failure_data.error
            return f"{event.step_key}: {error.message if error else 'failed'}"
    return "unknown failure"


def _silver_rows(data: Path, day: str) -> int:
    from mlops_assets.storage.lakehouse import LocalLakehouse, TableRef

    house = LocalLakehouse(data)
    ref = TableRef(use_case="churn", layer="silver", name="customers")
    frame = house.read_table(ref, [day])
    return int(frame.select("customer_id").collect().shape[0])
