"""The demo launches its runs through the code location: the webserver serves every one with a
repository origin (what the UI's Overview timeline needs), and nothing is left running."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from mlops_assets.cli.demo_graphql import run_origins
from mlops_assets.cli.demo_launch import LaunchedStack, launch_instance_yaml
from mlops_assets.cli.instance import ensure_dagster_home
from mlops_assets_tests.conftest import REPO_ROOT


def _processes_with(marker: str) -> list[str]:
    """Command lines of this user's processes whose environment contains ``marker``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if marker.encode() in (proc / "environ").read_bytes():
                found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:  # gone, or not ours
            continue
    return found


def test_launch_instance_shares_storage_and_starts_runs_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, launch = ensure_dagster_home(tmp_path / "home"), tmp_path / "launch"
    launch.mkdir()
    (launch / "dagster.yaml").write_text(launch_instance_yaml(home), encoding="utf-8")

    @dg.op
    def one() -> int:
        return 1

    @dg.job
    def tiny() -> None:
        one()

    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        run_id = tiny.execute_in_process(instance=instance).run_id
    monkeypatch.setenv("DAGSTER_HOME", str(launch))
    with dg.DagsterInstance.get() as instance:
        assert [r.run_id for r in instance.get_runs()] == [run_id]  # the same run storage
        # not queued: a submitted run starts at once, no daemon needed
        assert not isinstance(instance.run_coordinator, dg.QueuedRunCoordinator)
        pools = instance.get_concurrency_config().pool_config.default_pool_limit
        assert pools == 1  # home's settings kept


@pytest.mark.slow
@pytest.mark.timeout(1800)  # 13 launched runs; ~4 min idle, much more with both cores busy
def test_launched_demo_runs_carry_the_code_location_origin(tmp_path: Path) -> None:
    data_dir, home, tmp = tmp_path / "data", tmp_path / "dagster_home", tmp_path / "tmp"
    tmp.mkdir()
    env = {
        **os.environ,
        "MLOPS_DATA_DIR": str(data_dir),
        "DAGSTER_HOME": str(home),
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "1",
        "TMPDIR": str(tmp),  # the launch instance's directory lands here
    }
    for name in ("MLOPS_ENV", "MLOPS_CONFIG_DIR", "MLOPS_PARTITIONS_START"):
        env.pop(name, None)
    argv = ["demo", "--days", "5", "--rows-per-day", "100", "--monitor-days", "1", "--no-sensors"]
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
        timeout=1500,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 0, f"{out[-3000:]}\n{done.stderr[-3000:]}"
    assert "jobs launched through code location mlops_assets" in out
    steps = re.findall(r"^  ok  (\w+)", out, re.M)
    assert len(steps) == 5 + 2 + 5 + 1, out[-3000:]  # ingest x5, train, deploy, score x5, monitor

    deadline = time.monotonic() + 30  # the demo waited for its stack; allow a slow reaper
    while left := _processes_with(f"MLOPS_DATA_DIR={data_dir}"):
        if time.monotonic() > deadline:
            pytest.fail(f"the demo left processes running: {left}")
        time.sleep(0.5)
    assert not [p for p in tmp.iterdir() if p.name.startswith("mlops-demo-launch-")]

    with (
        dg.DagsterInstance.from_config(str(home)) as instance,
        LaunchedStack(home, instance, env=env, ready_timeout=600) as stack,
    ):
        stack.wait_ready()
        runs = run_origins(stack.url)
    assert sorted(r.job for r in runs) == sorted(steps)
    assert {(r.location, r.repository, r.status) for r in runs} == {
        ("mlops_assets", "__repository__", "SUCCESS")
    }, runs
    assert not _processes_with(f"MLOPS_DATA_DIR={data_dir}"), "the test's own stack was stopped"
