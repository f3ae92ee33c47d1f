"""End to end: `mlops-assets demo` simulates the days ending yesterday, materializes every asset
(monitoring of the last day included), leaves runs the UI lists on their jobs' pages, and leaves
the use case's sensors started: the real daemon (as `make dev` starts it) then records their
decisions as ticks, and no tick starts a run on the demo's final state.

One demo (in process; the launched one is tested in ``ui/test_ui_materialize.py``) serves every
test of this file: it is the slowest part of each.
"""

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, NamedTuple

import dagster as dg
import polars as pl
import pytest

from mlops_assets.assets.keys import PARTITIONS_START_ENV
from mlops_assets.cli.demo import LOCATION_TAGS
from mlops_assets.cli.demo_window import demo_days
from mlops_assets.cli.dev import partitions_env
from mlops_assets.config.project import load_project
from mlops_assets.storage.delta import read_table, table_exists
from mlops_assets_tests.conftest import CONFIGS_DIR, REPO_ROOT

DAYS = 5
MONITOR_DAYS = 1
SENSORS = ("churn_landing_sensor", "churn_retraining_sensor")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(1800),  # a whole lifecycle first; ~2 min idle, 9+ on a loaded 2-core box
]


class Demo(NamedTuple):
    """A finished demo: its data root, instance, environment and printed report."""

    data_dir: Path
    home: Path
    env: dict[str, str]
    out: str


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """A small demo in process, sensors left started, on a fresh data root and instance.

    The data root's path has a ``=``, a space, a ``%`` and an accent, as a user's folder may:
    delta-rs percent-encodes such paths in its file URIs, Polars' Delta reader takes ``run=1``
    for a partition column, and every Delta table, the MLflow store and the served model must
    still be found."""
    root = tmp_path_factory.mktemp("demo")
    data_dir, home = root / "run=1 data 100% é", root / "dagster_home"
    env = {
        **os.environ,
        "MLOPS_DATA_DIR": str(data_dir),
        "DAGSTER_HOME": str(home),
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "1",
    }
    for name in ("MLOPS_ENV", "MLOPS_CONFIG_DIR", "MLOPS_PARTITIONS_START"):
        env.pop(name, None)
    argv = ["--days", str(DAYS), "--rows-per-day", "100", "--monitor-days", str(MONITOR_DAYS)]
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from mlops_assets.cli import main; raise SystemExit(main())",
            "demo",
            *argv,
            "--in-process",  # launched through the location: ui/test_ui_materialize.py
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,  # a loaded 2-core box (CI with CPU burners) took 14 min once
        check=False,
    )
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return Demo(data_dir, home, env, done.stdout)


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


def test_demo_runs_the_whole_flow_and_accounts_for_every_row(demo: Demo) -> None:
    data_dir, home, out = demo.data_dir, demo.home, demo.out
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


def _ticks(home: Path) -> dict[str, list[Any]]:
    """Every recorded tick of the instance's sensors, by sensor name (public instance API)."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return {
            state.name: list(instance.get_ticks(state.instigator_origin_id, state.selector_id))
            for state in instance.all_instigator_state()
        }


def _finished(ticks: list[Any]) -> bool:
    """Whether the sensor's first tick (the oldest) has ended: a tick is stored STARTED first."""
    return bool(ticks) and ticks[-1].status.value != "STARTED"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGINT to the daemon's process group (it and its code server); kill what outlives 60 s."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=60)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def test_demo_leaves_sensors_started_and_the_daemon_records_skips(
    demo: Demo, tmp_path: Path
) -> None:
    home, env, out = demo.home, demo.env, demo.out
    assert re.search(r"^sensors started: churn_landing_sensor, churn_retraining_sensor ", out, re.M)
    decision = re.search(r"churn_retraining_sensor skips: (.+)$", out, re.M)
    assert decision is not None, out[-3000:]  # the small demo's clean data: no retraining due

    with dg.DagsterInstance.from_config(str(home)) as instance:
        states = {s.name: s for s in instance.all_instigator_state()}
        runs_before = len(instance.get_runs())
    assert {n: states[n].status.value for n in SENSORS} == dict.fromkeys(SENSORS, "RUNNING")
    assert all(not ticks for ticks in _ticks(home).values()), "no daemon ran yet"

    daemon_log = tmp_path / "daemon.log"
    with daemon_log.open("wb") as log:
        daemon = subprocess.Popen(
            [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", "workspace.yaml"],
            cwd=REPO_ROOT,
            env={**env, **partitions_env(env)},  # as `make dev` starts it
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 300
        ticks = _ticks(home)
        while not all(_finished(ticks.get(n, [])) for n in SENSORS):
            assert daemon.poll() is None, daemon_log.read_text()[-3000:]
            if time.monotonic() > deadline:
                pytest.fail(
                    f"no finished tick of {SENSORS} within 300 s: {ticks}\n{daemon_log.read_text()}"
                )
            time.sleep(2)
            ticks = _ticks(home)
    finally:
        _stop(daemon)

    landing, retraining = (ticks[n][-1] for n in SENSORS)  # the first tick of each (oldest)
    assert landing.status.value == "SKIPPED", landing
    assert landing.skip_reason.startswith("no new or changed landing files of churn")
    assert f"({DAYS} day(s) seen)" in landing.skip_reason  # it saw the demo's days, all ingested
    assert retraining.status.value == "SKIPPED", retraining
    assert retraining.skip_reason == decision.group(1).strip()  # the decision the demo printed
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert len(instance.get_runs()) == runs_before  # no tick started a run
