"""``mlops-assets dev``: the Dagster UI for the code location ``mlops_assets``.

``dagster dev -w workspace.yaml`` (webserver, daemon and code server) runs in a process group of
its own. One Ctrl-C or SIGTERM to this command (or to ``make dev``, which forwards SIGTERM) is
passed on once, as the SIGINT ``dagster dev`` shuts down on; whatever is still running in that
group after ``--stop-timeout`` seconds is killed. Started from a background shell, a plain
``dagster dev`` inherits an ignored SIGINT and then ignores SIGTERM too; here it never does.
"""

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType

from mlops_assets.config.loader import project_root
from mlops_assets.ml._process import group_alive

LOCATION_NAME = "mlops_assets"
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def dev_command(host: str, port: int, workspace: Path | None = None) -> list[str]:
    """``dagster dev`` on the project's workspace.yaml (location ``mlops_assets``)."""
    workspace = workspace or project_root() / "workspace.yaml"
    return [
        sys.executable,
        "-m",
        "dagster",
        "dev",
        "-w",
        str(workspace),
        "-h",
        host,
        "-p",
        str(port),
    ]


def signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def partitions_env(environ: Mapping[str, str]) -> dict[str, str]:
    """``$MLOPS_PARTITIONS_START`` for the UI: the first day the demo simulated on this data
    root (earliest over the use cases), unless the variable is set already or no demo ran."""
    from mlops_assets.assets.keys import PARTITIONS_START_ENV
    from mlops_assets.cli.demo_window import read_window
    from mlops_assets.config.environment import LocalEnvironment
    from mlops_assets.config.project import load_project
    from mlops_assets.storage.lakehouse import LocalLakehouse

    if environ.get(PARTITIONS_START_ENV):
        return {}
    project = load_project(environ=environ)
    if not isinstance(project.environment, LocalEnvironment):
        return {}  # the demo runs locally only
    lakehouse = LocalLakehouse(project.environment.data_dir)
    windows = [w for uc in project.use_cases if (w := read_window(lakehouse, uc)) is not None]
    if not windows:
        return {}
    return {PARTITIONS_START_ENV: min(w.first_day for w in windows).isoformat()}


def supervise(
    command: Sequence[str], stop_timeout: float = 60.0, env: Mapping[str, str] | None = None
) -> int:
    """Run ``command`` in a new process group until it exits or a signal asks it to stop."""
    stop_requested: list[float] = []
    started: list[subprocess.Popen[bytes]] = []

    def forward(signum: int, frame: FrameType | None) -> None:
        if not stop_requested:  # one stop, passed on once: a second SIGINT would cut cleanup
            stop_requested.append(time.monotonic())
            if started:
                signal_group(started[0].pid, signal.SIGINT)

    previous = {sig: signal.signal(sig, forward) for sig in FORWARDED}
    try:  # handlers are set first: the child starts with default dispositions, never SIG_IGN
        proc = subprocess.Popen(list(command), start_new_session=True, env=env)
        started.append(proc)
        if stop_requested:  # a signal arrived while starting
            signal_group(proc.pid, signal.SIGINT)
        while True:
            try:
                code = proc.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                if stop_requested and time.monotonic() - stop_requested[0] > stop_timeout:
                    signal_group(proc.pid, signal.SIGKILL)
        # one budget from the stop request (not a second one after dagster dev exits): whatever
        # of the group outlives --stop-timeout is killed, as promised
        deadline = stop_requested[0] + stop_timeout if stop_requested else time.monotonic() + 5.0
        while group_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        signal_group(proc.pid, signal.SIGKILL)  # whatever outlived dagster dev
        return 0 if stop_requested else code
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = subparsers.add_parser(
        "dev",
        help="start the Dagster UI (Ctrl-C or SIGTERM stops it)",
        description="dagster dev on workspace.yaml (location mlops_assets). After a demo, the "
        "daily partitions start at its first simulated day ($MLOPS_PARTITIONS_START overrides).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind")
    parser.add_argument("--port", type=int, default=3000, help="port of the UI")
    parser.add_argument(
        "--stop-timeout", type=float, default=60.0, help="seconds to wait before killing"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mlops_assets.cli.instance import ensure_dagster_home

    home = os.environ.get("DAGSTER_HOME")
    if home:
        ensure_dagster_home(Path(home))
    command = dev_command(args.host, args.port)
    extra = partitions_env(os.environ)
    print(f"Dagster UI for location {LOCATION_NAME}: http://{args.host}:{args.port}", flush=True)
    for name, value in extra.items():
        print(f"daily partitions start at {value}, the demo's first day ({name})", flush=True)
    return supervise(command, stop_timeout=args.stop_timeout, env={**os.environ, **extra})
