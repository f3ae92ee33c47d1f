"""`make dev` / `mlops-assets dev`: serves the location `mlops_assets`; one SIGTERM stops it all."""

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from mlops_assets.ml._process import group_alive, with_default_signals
from mlops_assets_tests.conftest import REPO_ROOT
from mlops_assets_tests.process_output import OutputLines

LOCATIONS_QUERY = (
    "{ workspaceOrError { __typename ... on Workspace "
    "{ locationEntries { name loadStatus locationOrLoadError { __typename } } } } }"
)

# The supervised command: reports its SIGINT disposition, leaves a grandchild that ignores SIGINT
# (the kind of straggler that must not outlive a stop), and exits on the forwarded SIGINT.
CHILD = textwrap.dedent(
    """
    import signal, subprocess, sys, time
    state = "ignored" if signal.getsignal(signal.SIGINT) is signal.SIG_IGN else "handled"
    print("sigint", state, flush=True)
    code = (
        "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); "
        "print('ignoring', flush=True); time.sleep(600)"
    )
    grandchild = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert grandchild.stdout.readline().strip() == "ignoring"
    try:  # the stop may come as soon as the test reads the next line
        print("grandchild", grandchild.pid, flush=True)
        time.sleep(600)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    """
)


def _wait_for(
    what: str,
    condition: Callable[[], bool],
    seconds: float,
    report: Callable[[], str] | None = None,
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    details = f"\n{report()}" if report else ""
    pytest.fail(f"timed out after {seconds:.0f}s waiting for {what}{details}")


def _signal_report(pids: Iterable[int]) -> str:
    """Where a stop got stuck: each process's state and signal masks (pending, blocked,
    ignored, caught; hex bit sets, SIGTERM is bit 15, SIGINT bit 2) from ``/proc``."""
    lines = []
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (FileNotFoundError, ProcessLookupError):
            lines.append(f"{pid}: gone")
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        keys = ("PPid", "State", "SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt")
        shown = " ".join(f"{k}={fields.get(k, '?').strip()}" for k in keys)
        lines.append(f"{pid}: {shown} {command[:120]}")
    return "\n".join(lines)


def _alive(pid: int) -> bool:
    try:
        with Path(f"/proc/{pid}/stat").open() as stat:
            return stat.read().split()[2] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False


def test_a_group_of_zombies_is_not_alive() -> None:
    """A killed member waiting for a reaper (PID 1 of a container may never reap it) is gone."""
    proc = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        assert group_alive(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        _wait_for("the member to become a zombie", lambda: not _alive(proc.pid), 30)
        assert not group_alive(proc.pid)  # a zombie (not yet reaped) is not a live process
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert not group_alive(proc.pid)


def test_one_sigterm_stops_the_group_even_when_started_with_sigint_ignored() -> None:
    """A background shell starts commands with SIGINT ignored: the supervised command must not
    inherit that, and whatever survives the forwarded SIGINT is killed after the timeout."""
    launcher = (
        "import sys\nfrom mlops_assets.cli.dev import supervise\n"
        f"raise SystemExit(supervise([sys.executable, '-c', {CHILD!r}], stop_timeout=5))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", launcher],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    output = OutputLines(proc)
    try:
        assert output.line(60) == "sigint handled"
        grandchild = int(output.line(60).split()[1])
        assert _alive(grandchild)
        proc.send_signal(signal.SIGTERM)
        assert output.line(30) == "interrupted"
        time.sleep(1)
        assert _alive(grandchild)  # it ignored the forwarded SIGINT...
        assert proc.wait(timeout=60) == 0
        _wait_for("the grandchild to be killed", lambda: not _alive(grandchild), 10)  # ...killed
    finally:
        if proc.poll() is None:
            proc.kill()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ours(marker: str) -> dict[int, str]:
    """Live processes whose environment holds ``marker`` (only those this test started)."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes() and _alive(int(entry.name)):
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                found[int(entry.name)] = cmdline
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return found


def _locations(url: str) -> list[tuple[str, str]]:
    request = urllib.request.Request(
        f"{url}/graphql",
        data=json.dumps({"query": LOCATIONS_QUERY}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            body = json.loads(response.read())
    except OSError:
        return []
    entries = body["data"]["workspaceOrError"].get("locationEntries", [])
    return [(e["name"], e["loadStatus"]) for e in entries]


@pytest.mark.slow
def test_make_dev_serves_mlops_assets_and_one_sigterm_stops_everything(tmp_path: Path) -> None:
    port, data = _free_port(), tmp_path / "data"
    marker = f"MLOPS_DATA_DIR={data}"
    env = {
        **os.environ,
        "MLOPS_DATA_DIR": str(data),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
    env.pop("MLOPS_CONFIG_DIR", None)
    env.pop("MLOPS_ENV", None)
    log_path = tmp_path / "make_dev.log"
    with log_path.open("wb") as log:
        make = subprocess.Popen(
            with_default_signals(["make", "--no-print-directory", "dev", f"DEV_PORT={port}"]),
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(
            f"location mlops_assets LOADED at {url} (log: {log_path})",
            lambda: _locations(url) == [("mlops_assets", "LOADED")],
            300,
        )
        assert (tmp_path / "dagster_home" / "dagster.yaml").is_file()
        running = " | ".join(_ours(marker).values())
        for role in ("dagster_webserver", "dagster._daemon", "dagster code-server", "api grpc"):
            assert role in running, f"{role} not running: {running}"

        make.send_signal(signal.SIGTERM)  # to make alone: it passes SIGTERM on
        report = lambda: _signal_report([make.pid, *_ours(marker)])  # noqa: E731
        _wait_for("make dev to exit", lambda: make.poll() is not None, 120, report)
        _wait_for("every process of make dev to stop", lambda: not _ours(marker), 120, report)
    finally:
        for pid in _ours(marker):
            os.kill(pid, signal.SIGKILL)
        if make.poll() is None:
            make.kill()
