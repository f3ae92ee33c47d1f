"""Shared setup of the lifecycle tests: ONE simulated, ingested, trained and scored data root.

Building it takes a while (7 days ingested, one training, 10 days scored), so it is built once
per session by the ``trained_base`` fixture (imported by the conftests that need it; a module
global makes sure every folder gets the same one) and copied with :func:`copy_base` by the tests
that change it. The base follows the drift demo: days 1-7 are ingested and the first champion is
trained on them, then days 8-10 (with drift injected) are ingested, and every day is scored.
"""

import os
import shutil
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
import pytest

from mlops_assets.build import build_definitions
from mlops_assets.cli.demo_drift import DEFAULT_DRIFT
from mlops_assets.config.project import ProjectConfig, load_project
from mlops_assets.resources.factory import BuildOptions
from mlops_assets.storage.delta import read_table
from mlops_assets_tests.conftest import CONFIGS_DIR

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
# Small models on 2 cores: OpenMP busy-waiting next to other processes slows fits ~10x (Makefile).
os.environ.setdefault("OMP_NUM_THREADS", "1")

USE_CASE = "churn"
MODEL = "churn_classifier"
DAYS = 10
WARMUP_DAYS = 7
DRIFT_FROM = 8
ROWS_PER_DAY = 400
MODEL_KEY = dg.AssetKey([USE_CASE, "models", "classifier"])
EVALUATION_KEY = dg.AssetKey([USE_CASE, "models", "evaluation"])
CHAMPION_KEY = dg.AssetKey([USE_CASE, "models", "champion"])
TRAINING_SET_KEY = dg.AssetKey([USE_CASE, "features", "training_set"])
FEATURES_KEY = dg.AssetKey([USE_CASE, "features", "customer_features"])
PREDICTIONS_KEY = dg.AssetKey([USE_CASE, "inference", "predictions"])
DRIFT_KEY = dg.AssetKey([USE_CASE, "monitoring", "drift"])
PERFORMANCE_KEY = dg.AssetKey([USE_CASE, "monitoring", "performance"])
ENDPOINT_KEY = dg.AssetKey([USE_CASE, "serving", "endpoint"])
MODEL_OP = "churn__models__classifier"
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
# Variables of the developer's shell that would change what the tests load.
_SCRUBBED = ("MLOPS_ENV", "MLOPS_CONFIG_DIR", "MLOPS_GATE_MODE", "MLOPS_DATA_DIR")


def environ_for(data_dir: Path, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The process environment with MLOPS_DATA_DIR at ``data_dir``, plus ``env``."""
    base = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    return {
        **base,
        "MLOPS_DATA_DIR": str(data_dir),
        "MLFLOW_DISABLE_TELEMETRY": "true",
        **(env or {}),
    }


def project_for(
    data_dir: Path, configs: Path = CONFIGS_DIR, env: Mapping[str, str] | None = None
) -> ProjectConfig:
    """The real configuration (or a copy) loaded with data under ``data_dir``."""
    return load_project(configs, environ=environ_for(data_dir, env))


def defs_for(
    data_dir: Path,
    *,
    keep_serving: bool = False,
    configs: Path = CONFIGS_DIR,
    env: Mapping[str, str] | None = None,
) -> dg.Definitions:
    """``build_definitions`` of the project rooted at ``data_dir`` (``env``: e.g. the gate mode)."""
    project = project_for(data_dir, configs, env)
    return build_definitions(project, BuildOptions(keep_serving=keep_serving))


def day_keys(n: int = DAYS) -> list[str]:
    """The partition keys of the simulated days (from the use case's start date)."""
    start = project_for(Path("/nonexistent")).use_case(USE_CASE).start_date
    return [(start + timedelta(days=i)).isoformat() for i in range(n)]


def run_job(
    defs: dg.Definitions,
    job: str,
    instance: dg.DagsterInstance,
    *,
    partition: str | None = None,
    run_config: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
    asset_selection: Iterable[dg.AssetKey] | None = None,
) -> dg.ExecuteInProcessResult:
    """Execute a job of ``defs`` in process; never raises on failure."""
    return defs.resolve_job_def(job).execute_in_process(
        instance=instance,
        partition_key=partition,
        run_config={**QUIET, **(run_config or {})},
        tags=dict(tags or {}),
        asset_selection=list(asset_selection) if asset_selection is not None else None,
        raise_on_error=False,
    )


def metadata(result: dg.ExecuteInProcessResult, key: dg.AssetKey) -> dict[str, Any]:
    """The materialization metadata of ``key`` in a run, as raw values."""
    found = [
        e.materialization for e in result.get_asset_materialization_events() if e.asset_key == key
    ]
    assert found, f"{key.to_user_string()} was not materialized"
    return {k: v.value for k, v in found[-1].metadata.items()}


def check_results(
    result: dg.ExecuteInProcessResult, key: dg.AssetKey
) -> dict[str, dg.AssetCheckEvaluation]:
    """The asset-check evaluations of ``key`` in a run, by check name."""
    return {e.check_name: e for e in result.get_asset_check_evaluations() if e.asset_key == key}


def step_error(result: dg.ExecuteInProcessResult) -> tuple[str, str]:
    """(class name, message) of the first failed step's error, unwrapped from Dagster's wrappers."""
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data.error is not None:
            err = event.step_failure_data.error
            while err.cause is not None and "Dagster" in (err.cls_name or ""):
                err = err.cause
            return err.cls_name or "", err.message
    return "", ""


def process_running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie waiting to be reaped counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@dataclass(frozen=True)
class TrainedBase:
    """The shared data root and what its first training produced."""

    data_dir: Path
    days: list[str]
    training_run_id: str
    training: dict[str, Any]
    evaluation: dict[str, Any]
    champion: dict[str, Any]
    gate_check: dg.AssetCheckEvaluation


def _simulate(data_dir: Path) -> None:
    from mlops_assets.simulate import SimulationConfig, simulate
    from mlops_assets.simulate.cli import parse_drift

    uc = project_for(data_dir).use_case(USE_CASE)
    drift = [parse_drift(spec.format(day=DRIFT_FROM)) for spec in DEFAULT_DRIFT]
    config = SimulationConfig(
        start_date=uc.start_date,
        days=DAYS,
        rows_per_day=ROWS_PER_DAY,
        drift=drift,
        use_case=USE_CASE,
    )
    simulate(config, data_dir)


def build_base(root: Path) -> TrainedBase:
    """Simulate, ingest days 1-7, train the first champion, ingest days 8-10, score every day."""
    data_dir = root / "data"
    _simulate(data_dir)
    days = day_keys()
    defs = defs_for(data_dir)
    with dg.DagsterInstance.ephemeral() as instance:
        for day in days[:WARMUP_DAYS]:
            assert run_job(defs, "churn_ingestion", instance, partition=day).success, day
        training = run_job(defs, "churn_training", instance)
        assert training.success, step_error(training)
        for day in days[WARMUP_DAYS:]:
            assert run_job(defs, "churn_ingestion", instance, partition=day).success, day
        for day in days:
            scored = run_job(defs, "churn_batch_inference", instance, partition=day)
            assert scored.success, step_error(scored)
    return TrainedBase(
        data_dir=data_dir,
        days=days,
        training_run_id=training.run_id,
        training=metadata(training, MODEL_KEY),
        evaluation=metadata(training, EVALUATION_KEY),
        champion=metadata(training, CHAMPION_KEY),
        gate_check=check_results(training, EVALUATION_KEY)["promotion_gate"],
    )


def copy_data_dir(source: Path, target: Path) -> Path:
    """A private copy of a data root (``target/data``) whose MLflow experiment logs into the copy.

    Runs and versions already in the store keep pointing at the source's artifacts (read only);
    the experiment's artifact root is moved so that new runs never write into the source.
    """
    data_dir = target / "data"
    shutil.copytree(
        source, data_dir, ignore=lambda d, names: ["serving"] if Path(d) == source else []
    )
    conn = sqlite3.connect(data_dir / "mlflow" / "mlflow.db")
    try:
        with conn:
            conn.execute(
                "UPDATE experiments SET artifact_location = replace(artifact_location, ?, ?)",
                (source.as_uri(), data_dir.as_uri()),
            )
    finally:
        conn.close()
    return data_dir


def copy_base(base: TrainedBase, target: Path) -> Path:
    """A private copy of the shared base (see :func:`copy_data_dir`)."""
    return copy_data_dir(base.data_dir, target)


_BASE: list[TrainedBase] = []


@pytest.fixture(scope="session")
def trained_base(tmp_path_factory: pytest.TempPathFactory) -> TrainedBase:
    """The shared trained data root (built once per session, whichever folder asks first)."""
    if not _BASE:
        _BASE.append(build_base(tmp_path_factory.mktemp("lifecycle_base")))
    return _BASE[0]


def read_lake(data_dir: Path, key: dg.AssetKey, day: str | None = None) -> pl.DataFrame:
    """A lakehouse table (or one daily partition of it) of a data root."""
    return read_table(data_dir.joinpath("lakehouse", *key.path), [day] if day else None)
