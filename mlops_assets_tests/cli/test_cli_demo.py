"""End to end: `mlops-assets demo` simulates the 7 days ending yesterday, materializes every
asset (monitoring of the last days included), and leaves runs the UI lists on their jobs' pages."""

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from mlops_assets.assets.keys import PARTITIONS_START_ENV
from mlops_assets.cli.demo import LOCATION_TAGS, MONITOR_DAYS
from mlops_assets.cli.demo_window import demo_days
from mlops_assets.cli.dev import partitions_env
from mlops_assets.config.project import load_project
from mlops_assets.storage.delta import read_table, table_exists
from mlops_assets_tests.conftest import CONFIGS_DIR, REPO_ROOT

DAYS = 7


def _section(text: str, title: str) -> list[str]:
    """The indented lines under ``title`` up to the next blank line."""
    lines = text.splitlines()
    start = lines.index(title) + 1
    block: list[str] = []
    for line in lines[start:]:
        if not line.strip():
            break
        block.append(line)
    return block


@pytest.mark.slow
@pytest.mark.timeout(1800)  # a whole lifecycle; 3-4 min idle, 9+ min on a loaded 2-core box
def test_demo_runs_the_whole_flow_and_accounts_for_every_row(tmp_path: Path) -> None:
    data_dir, home = tmp_path / "data", tmp_path / "dagster_home"
    env = {
        **os.environ,
        "MLOPS_DATA_DIR": str(data_dir),
        "DAGSTER_HOME": str(home),
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "1",
    }
    env.pop("MLOPS_ENV", None)
    env.pop("MLOPS_CONFIG_DIR", None)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from mlops_assets.cli import main; raise SystemExit(main())",
            "demo",
            "--days",
            str(DAYS),
            "--rows-per-day",
            "300",
            "--no-sensors",  # sensor start-up has its own test (test_cli_demo_sensors.py)
            "--in-process",  # launching through the location: test_cli_demo_launch.py
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,  # a loaded 2-core box (CI with CPU burners) took 14 min once
        check=False,
    )
    out = done.stdout
    assert done.returncode == 0, f"{out[-3000:]}\n{done.stderr[-3000:]}"
    assert (home / "dagster.yaml").is_file()  # runs are recorded for `dagster dev`

    project = load_project(CONFIGS_DIR, environ={"MLOPS_DATA_DIR": str(data_dir)})
    uc = project.use_case("churn")
    lake = data_dir / "lakehouse" / uc.name

    # every table is listed with its real row count
    listed = {}
    for line in _section(out, "Rows per table:"):
        name, count = line.split()
        listed[name] = int(count.replace(",", ""))
    on_disk = {
        f"{uc.name}/{layer.name}/{t.name}": read_table(t).height
        for layer in lake.iterdir()
        if layer.is_dir()
        for t in layer.iterdir()
        if table_exists(t)
    }
    assert listed == on_disk
    foundation = [
        *(f"{uc.name}/{layer}/{ds.name}" for ds in uc.datasets for layer in ("bronze", "silver")),
        *(f"{uc.name}/silver/{ds.name}_quarantine" for ds in uc.datasets),
        *(f"{uc.name}/gold/{g.name}" for g in uc.gold),
        *(f"{uc.name}/features/{f.name}" for f in uc.feature_tables),
    ]
    for name in foundation:
        assert name in listed, name
        if not name.endswith("_quarantine"):
            assert listed[name] > 0, name

    # bronze == silver + quarantine, per dataset and per day, from the Delta tables themselves
    for ds in uc.datasets:
        bronze = read_table(lake / "bronze" / ds.name)
        silver = read_table(lake / "silver" / ds.name)
        quarantine = read_table(lake / "silver" / f"{ds.name}_quarantine")
        assert silver.height + quarantine.height == bronze.height, ds.name
        ids = ["_source_file", "_row_number"]
        assert silver.select(ids).join(quarantine.select(ids), on=ids).height == 0
        landing = data_dir / "landing" / uc.name / ds.landing_subdir
        files = sorted(landing.glob("*/*.csv"))
        assert bronze.height == sum(pl.read_csv(f, infer_schema=False).height for f in files)

    # quarantine reasons are reported as stored
    reasons = _section(out, "Quarantined rows and why:")
    customers_q = read_table(lake / "silver" / "customers_quarantine")
    stored = Counter(customers_q["_rule"].to_list())
    reported = {
        (m.group(1), m.group(2)): int(m.group(3))
        for m in (re.match(r"\s+(\w+)\s+(\w+)\s+(\d+)\s+e\.g\. ", line) for line in reasons)
        if m
    }
    assert {r: n for (ds, r), n in reported.items() if ds == "customers"} == dict(stored)
    assert stored, "the simulator injects faults: some rows must be quarantined"

    # check and run counts
    checks = re.search(r"^Asset checks: (\d+) passed, (\d+) failed$", out, flags=re.M)
    assert checks is not None and int(checks.group(1)) > 0
    runs_line = re.search(r"^Runs: (\d+)/(\d+) succeeded$", out, flags=re.M)
    assert runs_line is not None and runs_line.group(1) == runs_line.group(2)
    ingested = re.findall(rf"ok\s+{uc.name}_ingestion\[(\d{{4}}-\d{{2}}-\d{{2}})\]", out)
    window = [d.isoformat() for d in demo_days(DAYS)]  # the days ending yesterday
    assert sorted(set(ingested)) == window

    # monitoring of the last days: a drift and a performance row per monitored day
    monitored = window[-MONITOR_DAYS:]
    for table in ("drift", "performance"):
        rows = read_table(lake / "monitoring" / table)
        assert sorted(rows["window"].cast(pl.Utf8).to_list()) == monitored, table
    per_day = _section(out, "Monitoring per day (drift share, drift, performance):")
    assert [line.split()[0] for line in per_day[:DAYS]] == window
    assert re.search(r"churn_retraining_sensor (skips|would retrain): \S", per_day[-1])

    # the UI lists the runs on their jobs' pages (by job name and repository tag), and `dev`
    # starts the daily partitions at the first simulated day
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs()
    assert len(runs) == int(runs_line.group(2))
    assert {r.job_name for r in runs} >= {f"{uc.name}_{s}" for s in ("ingestion", "monitoring")}
    tag, value = next(iter(LOCATION_TAGS.items()))
    assert all(r.tags.get(tag) == value for r in runs)
    assert partitions_env({"MLOPS_DATA_DIR": str(data_dir)}) == {PARTITIONS_START_ENV: window[0]}
