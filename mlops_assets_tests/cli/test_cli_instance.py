"""The local Dagster instance: its dagster.yaml, and killed runs ending as FAILED, not STARTED."""

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from mlops_assets.cli.instance import (
    DAGSTER_YAML,
    HEADER,
    MAX_RUNTIME_SECONDS,
    ensure_dagster_home,
    fail_orphaned_runs,
    process_alive,
)
from mlops_assets_tests.pause_helpers import REPO_ROOT, PausedProcess, wait_for

# pause_point's file protocol, inline: importing it would load Polars in every job process
JOB = """
import os, sys, time
from pathlib import Path
import dagster as dg
from mlops_assets.cli.instance import get_instance

@dg.op
def wait_here() -> None:
    folder = Path(os.environ["MLOPS_TEST_PAUSE_DIR"])
    (folder / "op.paused.tmp").write_text(str(os.getpid()))
    os.replace(folder / "op.paused.tmp", folder / "op.paused")  # never seen half-written
    while not (folder / "op.go").exists():
        time.sleep(0.02)

tags = {"test/name": sys.argv[1]}
if len(sys.argv) > 2:
    tags["dagster/max_runtime"] = sys.argv[2]

@dg.job(tags=tags)
def paused_job() -> None:
    wait_here()

with get_instance() as instance:
    print(paused_job.execute_in_process(instance=instance).success)
"""


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    """A DAGSTER_HOME with our dagster.yaml and its SQLite storage created (two processes
    creating it at once race in Dagster's schema migration)."""
    path = ensure_dagster_home(tmp_path / "dagster_home")
    with dg.DagsterInstance.from_config(str(path)):
        pass
    yield path


def _job(home: Path, name: str, pause_dir: Path, *extra: str) -> PausedProcess:
    env = {"DAGSTER_HOME": str(home)}
    return PausedProcess(JOB, [name, *extra], point="op", pause_dir=pause_dir, env=env)


def _run(instance: dg.DagsterInstance, name: str) -> dg.DagsterRun:
    runs = instance.get_runs(dg.RunsFilter(tags={"test/name": name}))
    assert len(runs) == 1, runs
    return runs[0]


def _failure_message(instance: dg.DagsterInstance, run_id: str) -> str:
    failures = instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    return " ".join(str(e.dagster_event.message) for e in failures if e.dagster_event)


def test_written_dagster_yaml_loads_with_run_monitoring_on(home: Path) -> None:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.run_monitoring_enabled
        assert instance.run_monitoring_settings == {
            "enabled": True,
            "start_timeout_seconds": 120,
            "cancel_timeout_seconds": 120,
            "max_runtime_seconds": MAX_RUNTIME_SECONDS,
            "max_resume_run_attempts": 0,
            "poll_interval_seconds": 10,
        }
        assert instance.run_monitoring_max_runtime_seconds == MAX_RUNTIME_SECONDS
        assert not instance.telemetry_enabled
    config = home / "dagster.yaml"
    # an older file we wrote is brought up to date; a file someone else wrote is left alone
    config.write_text(f"{HEADER}: no telemetry.\ntelemetry:\n  enabled: false\n")
    ensure_dagster_home(home)
    assert config.read_text() == DAGSTER_YAML
    config.write_text("telemetry:\n  enabled: false\n")
    ensure_dagster_home(home)
    assert config.read_text() == "telemetry:\n  enabled: false\n"


def test_process_alive_tells_live_dead_and_reused_pids(tmp_path: Path) -> None:
    assert process_alive(os.getpid())
    assert not process_alive(os.getpid(), started_by=0.0)  # started after that: a reused pid
    child = subprocess.Popen(["sleep", "30"])
    assert process_alive(child.pid)
    child.kill()
    wait_for("the child to be a zombie", lambda: not process_alive(child.pid), 10)
    child.wait(timeout=10)
    assert not process_alive(child.pid)


@pytest.mark.slow
def test_next_command_fails_the_runs_of_a_killed_command(home: Path, tmp_path: Path) -> None:
    killed = _job(home, "killed", tmp_path / "p1")
    alive = _job(home, "alive", tmp_path / "p2")
    try:
        killed.wait_paused()
        alive.wait_paused()
        killed.kill()
        with dg.DagsterInstance.from_config(str(home)) as instance:
            dead_run = _run(instance, "killed")
            assert dead_run.status == dg.DagsterRunStatus.STARTED  # nobody noticed yet
            assert fail_orphaned_runs(instance) == [dead_run.run_id]
            assert _run(instance, "killed").status == dg.DagsterRunStatus.FAILURE
            message = _failure_message(instance, dead_run.run_id)
            assert f"(pid {killed.proc.pid}) is gone" in message, message
            # the run whose process still works is left alone
            assert _run(instance, "alive").status == dg.DagsterRunStatus.STARTED
            assert fail_orphaned_runs(instance) == []
        alive.release()
        code, out, err = alive.finish()
        assert code == 0 and out.strip().endswith("True"), err[-3000:]
    finally:
        killed.stop()
        alive.stop()


@pytest.mark.slow
def test_daemon_fails_a_killed_run_past_its_max_runtime(home: Path, tmp_path: Path) -> None:
    killed = _job(home, "killed", tmp_path / "p", "1")  # dagster/max_runtime: 1 s
    try:
        killed.wait_paused()
        killed.kill()
    finally:
        killed.stop()
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    log = tmp_path / "daemon.log"
    with log.open("w") as sink:
        daemon = subprocess.Popen(
            [str(REPO_ROOT / ".venv" / "bin" / "dagster-daemon"), "run", "--empty-workspace"],
            cwd=tmp_path,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        with dg.DagsterInstance.from_config(str(home)) as instance:
            run_id = _run(instance, "killed").run_id

            def failed() -> bool:
                if daemon.poll() is not None:
                    raise AssertionError(f"the daemon exited: {log.read_text()[-3000:]}")
                run = instance.get_run_by_id(run_id)
                return run is not None and run.status == dg.DagsterRunStatus.FAILURE

            wait_for(
                "the monitoring daemon to fail the killed run", failed, 300
            )  # daemon start + 10 s polls, loaded box
            assert "exceeded maximum runtime of 1" in log.read_text()
            assert "forcibly marked as failed" in _failure_message(instance, run_id)
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait(timeout=10)
