"""End to end: a table the project has never seen becomes a use case with `init --from-table`,
then `validate`, `simulate --use-case` and `demo --use-case` run it with no code change.

The run happens in a copy of the project (package, configs, pyproject) so the new use case's
YAML and component instance never appear in the shared checkout. The shipped use cases' landing
files, written before, must come out byte for byte the same.
"""

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from mlops_assets.config.project import load_project
from mlops_assets.engines.frames import row_count
from mlops_assets.ml.decisions import EvaluationReport
from mlops_assets.storage.lakehouse import LocalLakehouse
from mlops_assets.storage.tables import UseCaseTables
from mlops_assets_tests.conftest import REPO_ROOT

NAME = "pump_failures"
DEMO_DAYS = 5
SHIPPED = ("churn", "housing")


def _sample(path: Path, seed: int = 11, rows: int = 400) -> None:
    """Pump readings with names and types unlike churn and housing, no id and no timestamp,
    and a yes/no label that depends on the readings."""
    rng = np.random.default_rng(seed)
    temp = rng.normal(60, 8, rows).round(2)
    vibration = rng.gamma(2.0, 1.5, rows).round(3)
    site = rng.choice(["north-yard", "South Yard", "east"], rows)
    alarms = rng.poisson(2, rows)
    score = 0.15 * (temp - 60) + 0.8 * (vibration - 3) + 0.5 * alarms - 1 + (site == "east")
    failed = np.where(rng.random(rows) < 1 / (1 + np.exp(-score)), "yes", "no")
    days = rng.integers(0, 3000, rows)
    pl.DataFrame(
        {
            "Motor Temp (C)": temp,
            "vibrationRMS": vibration,
            "Site": site,
            "is_active": rng.random(rows) < 0.7,
            "alarm count": alarms,
            "commissioned_on": pl.Series(days, dtype=pl.Int32).cast(pl.Date),
            "failed": failed,
        }
    ).write_parquet(path)


def _copy_project(target: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO_ROOT / "mlops_assets", target / "mlops_assets", ignore=ignore)
    shutil.copytree(REPO_ROOT / "configs", target / "configs", ignore=ignore)
    shutil.copy2(REPO_ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def _cli(project: Path, env: dict[str, str], *argv: str, timeout: float = 300) -> str:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from mlops_assets.cli import main; raise SystemExit(main())",
            *argv,
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"{argv}: {done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _landing_rows(lake: LocalLakehouse, use_case: str, subdir: str) -> int:
    files = sorted(lake.landing_dir(use_case, subdir).glob("*/*"))
    assert files, f"no landing files of {use_case}/{subdir}"
    return sum(
        pl.read_parquet(f).height if f.suffix == ".parquet" else pl.read_csv(f).height
        for f in files
    )


@pytest.mark.slow
@pytest.mark.timeout(1800)  # a whole lifecycle: ~6 min on a loaded 2-core box
def test_a_table_never_seen_runs_init_simulate_and_demo_end_to_end(tmp_path: Path) -> None:
    project = _copy_project(tmp_path / "project")
    data_dir = tmp_path / "data"
    sample = tmp_path / "pump readings.parquet"
    _sample(sample)
    env = {
        **os.environ,
        "PYTHONPATH": str(project),  # the copy's package, not the checkout's
        "MLOPS_DATA_DIR": str(data_dir),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "1",
    }
    env.pop("MLOPS_ENV", None)
    env.pop("MLOPS_CONFIG_DIR", None)
    lake = LocalLakehouse(data_dir)

    # the shipped use cases have data in the same data root before the new one arrives
    for name in SHIPPED:
        _cli(project, env, "simulate", "--use-case", name, "--days", "1", "--rows-per-day", "20")
    shipped = {name: _digests(lake.landing_root() / name) for name in SHIPPED}
    assert all(shipped.values())

    out = _cli(project, env, "init", NAME, "--from-table", str(sample))
    written = project / "configs" / "use_cases" / f"{NAME}.yaml"
    assert f"wrote {written}" in out
    assert (project / "mlops_assets" / "defs" / NAME / "defs.yaml").is_file()
    assert "# REVIEW" in written.read_text()
    assert f"use case {NAME}: 2 datasets" in _cli(project, env, "validate")

    uc = load_project(project / "configs", environ={"MLOPS_DATA_DIR": str(data_dir)}).use_case(NAME)
    primary = next(d for d in uc.datasets if d.name != "labels")
    declared = {c.name: c.dtype for c in primary.columns}
    assert declared["motor_temp_c"] == "float64" and declared["alarm_count"] == "int64"
    assert declared["is_active"] == "bool" and declared["commissioned_on"] == "date"
    assert declared["entity_id"] == "string" and declared["event_ts"] == "datetime"  # generated
    assert uc.model is not None and uc.model.task == "binary" and uc.model.label == "failed"

    # the simulator samples the sample table (ids and times generated), with faults
    out = _cli(
        project,
        env,
        "simulate",
        "--use-case",
        NAME,
        "--source",
        str(sample),
        "--days",
        "2",
        "--rows-per-day",
        "100",
    )
    assert f"source: file {sample}" in out
    summary = re.search(rf"rows per dataset: {primary.name} ([\d,]+)", out)
    assert summary is not None, out
    written_rows = int(summary.group(1).replace(",", ""))
    assert _landing_rows(lake, NAME, primary.landing_subdir) == written_rows > 0

    out = _cli(
        project,
        env,
        *("demo", "--use-case", NAME, "--days", str(DEMO_DAYS), "--rows-per-day", "600"),
        "--no-sensors",  # sensor start-up has its own test (test_cli_demo_sensors.py)
        "--in-process",  # launched through the location: ui/test_ui_materialize.py
        timeout=1500,
    )
    runs = re.search(r"^Runs: (\d+)/(\d+) succeeded$", out, flags=re.M)
    assert runs is not None and runs.group(1) == runs.group(2), out[-3000:]

    # every landing row is accounted for: bronze = landing, silver + quarantine = bronze
    tables = UseCaseTables(uc)
    for ds in uc.datasets:
        bronze = row_count(lake.read_table(tables.bronze(ds.name)))
        silver = row_count(lake.read_table(tables.silver(ds.name)))
        quarantine = row_count(lake.read_table(tables.quarantine(ds.name)))
        assert bronze == _landing_rows(lake, NAME, ds.landing_subdir) > 0, ds.name
        assert silver + quarantine == bronze, ds.name
    # a model was trained, judged and registered
    report = EvaluationReport.model_validate_json(
        lake.state_path(tables.evaluation).read_text(encoding="utf-8")
    )
    assert report.challenger_version == "1" and report.n_test > 0
    assert report.challenger_metrics["roc_auc"] > 0.5

    # the shipped use cases' data is untouched, and the checkout never saw the new use case
    assert {name: _digests(lake.landing_root() / name) for name in SHIPPED} == shipped
    assert not (REPO_ROOT / "configs" / "use_cases" / f"{NAME}.yaml").exists()
    assert not (REPO_ROOT / "mlops_assets" / "defs" / NAME).exists()
