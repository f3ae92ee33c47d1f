"""The launch-only instance the demo submits its runs to.

The launched demo itself (every run with the code location's origin, nothing left running) is
tested in ``ui/test_ui_materialize.py``, on the demo the UI test then opens: one launched demo
serves both (it is the slowest fixture of the suite).
"""

import os
from pathlib import Path

import dagster as dg
import pytest

from mlops_assets.cli.demo_launch import launch_instance_yaml
from mlops_assets.cli.instance import ensure_dagster_home


def processes_with(marker: str) -> list[str]:
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
