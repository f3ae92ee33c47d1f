"""After `mlops-assets demo`, the real daemon (as `make dev` starts it) records the use case's
sensor decisions as ticks, and no tick starts a run on the demo's final state."""

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from mlops_assets.cli.demo import location_definitions
from mlops_assets.cli.demo_sensors import landing_cursor, leave_sensors_started
from mlops_assets.cli.dev import partitions_env
from mlops_assets.config.project import ProjectConfig
from mlops_assets_tests.conftest import REPO_ROOT

SENSORS = ("churn_landing_sensor", "churn_retraining_sensor")


def test_landing_cursor_records_every_landed_day(
    project: ProjectConfig, landed_data_dir: Path
) -> None:
    """The cursor the demo gives the landing sensor: its own evaluation over the landed files."""
    uc = project.use_case("churn")
    defs = location_definitions(project, keep_serving=False)
    with dg.DagsterInstance.ephemeral() as instance:
        name, cursor = landing_cursor(defs, uc, instance)
    assert name == "churn_landing_sensor" and cursor is not None
    landed = {d.name for d in (landed_data_dir / "landing" / "churn").glob("*/*") if d.is_dir()}
    assert set(json.loads(cursor)) == landed and landed


def test_no_sensor_is_started_without_a_persistent_instance(
    project: ProjectConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    with dg.DagsterInstance.ephemeral() as instance:
        said = leave_sensors_started(
            project.use_case("churn"), True, dg.Definitions(), instance, fresh=True
        )
    assert said.startswith("sensors not started: no $DAGSTER_HOME")


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


@pytest.mark.slow
@pytest.mark.timeout(1500)  # ~3 min idle: a small demo, four CLI calls, the daemon's first ticks
def test_demo_leaves_sensors_started_and_the_daemon_records_skips(tmp_path: Path) -> None:
    data_dir, home = tmp_path / "data", tmp_path / "dagster_home"
    env = {
        **os.environ,
        "MLOPS_DATA_DIR": str(data_dir),
        "DAGSTER_HOME": str(home),
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "1",
    }
    for name in ("MLOPS_ENV", "MLOPS_CONFIG_DIR", "MLOPS_PARTITIONS_START"):
        env.pop(name, None)
    argv = ["demo", "--days", "5", "--rows-per-day", "100", "--monitor-days", "1", "--in-process"]
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from mlops_assets.cli import main; raise SystemExit(main())",
            *argv,
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 0, f"{out[-3000:]}\n{done.stderr[-3000:]}"
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
    assert "(5 day(s) seen)" in landing.skip_reason  # it saw the demo's days, all ingested
    assert retraining.status.value == "SKIPPED", retraining
    assert retraining.skip_reason == decision.group(1).strip()  # the decision the demo printed
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert len(instance.get_runs()) == runs_before  # no tick started a run
