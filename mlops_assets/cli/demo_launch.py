"""The demo's runs launched through the code location, so the UI's Overview timeline shows them.

The timeline lists only runs with a repository origin, which Dagster records when a run is
launched through a code location (UI, GraphQL, schedule, sensor) and never for
``execute_in_process``. :class:`LaunchedStack` starts a headless ``dagster-webserver`` on the
project's ``workspace.yaml`` (location ``mlops_assets``) on a free port, submits each job with
the public ``DagsterGraphQLClient``, and polls the run in the instance until it ends.

The webserver runs against a launch-only instance directory whose ``dagster.yaml`` is the one of
``$DAGSTER_HOME`` with its storage pointed at ``$DAGSTER_HOME`` (same runs, events, compute logs)
and Dagster's ``DefaultRunCoordinator``: a submitted run starts at once, with no queue, so no
daemon is needed. No daemon also means no sensor ticks while the demo runs (the sensors a
previous demo left started would otherwise launch runs of their own in the middle of it).
Everything started runs in one process group, stopped when the stack is left (also on Ctrl-C,
SIGTERM or SIGHUP to the demo), and killed if it outlives ``stop_timeout``.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import dagster as dg
import yaml

from mlops_assets.cli.demo_outcome import OUTCOME_EVENTS, StepOutcome, outcome_from_events
from mlops_assets.cli.dev import LOCATION_NAME, signal_group
from mlops_assets.config.loader import project_root
from mlops_assets.errors import MLOpsError
from mlops_assets.ml._process import group_alive

REPOSITORY_NAME = "__repository__"
"""Dagster's name for the single repository of a code location built from ``Definitions``."""
TERMINAL = {
    dg.DagsterRunStatus.SUCCESS,
    dg.DagsterRunStatus.FAILURE,
    dg.DagsterRunStatus.CANCELED,
}


class DemoLaunchError(MLOpsError):
    """The demo's local webserver could not start, load the code location, or run a job."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def launch_instance_yaml(home: Path) -> str:
    """``$DAGSTER_HOME``'s dagster.yaml for the launch-only instance: storage left where it is
    (default: ``home``), runs started at once by the default run coordinator."""
    path = home / "dagster.yaml"
    loaded = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    config: dict[str, Any] = dict(loaded or {})
    if not any(k in config for k in ("storage", "run_storage")):
        config["storage"] = {"sqlite": {"base_dir": str(home)}}
    config.setdefault(
        "local_artifact_storage",
        {
            "module": "dagster.core.storage.root",
            "class": "LocalArtifactStorage",
            "config": {"base_dir": str(home)},
        },
    )
    config.setdefault(
        "compute_logs",
        {
            "module": "dagster.core.storage.local_compute_log_manager",
            "class": "LocalComputeLogManager",
            "config": {"base_dir": str(home / "storage")},
        },
    )
    config["run_coordinator"] = {
        "module": "dagster.core.run_coordinator",
        "class": "DefaultRunCoordinator",
    }
    return yaml.safe_dump(config, sort_keys=False)


class LaunchedStack:
    """A headless webserver on the code location, for launching the demo's runs (see module)."""

    def __init__(
        self,
        home: Path,
        instance: dg.DagsterInstance,
        *,
        env: Mapping[str, str] | None = None,
        ready_timeout: float = 600.0,
        run_timeout: float = 3600.0,
        stop_timeout: float = 30.0,
    ) -> None:
        self.home, self.instance = home, instance
        self.env = dict(os.environ if env is None else env)
        self.ready_timeout, self.run_timeout, self.stop_timeout = (
            ready_timeout,
            run_timeout,
            stop_timeout,
        )
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self._dir: Path | None = None
        self._ready = False
        self._previous: dict[int, Any] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "LaunchedStack":
        for sig in (signal.SIGTERM, signal.SIGHUP):
            self._previous[sig] = signal.signal(sig, _interrupt)
        self._dir = Path(tempfile.mkdtemp(prefix="mlops-demo-launch-"))
        (self._dir / "dagster.yaml").write_text(launch_instance_yaml(self.home), encoding="utf-8")
        command = [
            sys.executable,
            "-m",
            "dagster_webserver",
            "-w",
            str(project_root() / "workspace.yaml"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
        ]
        with (self._dir / "webserver.log").open("wb") as log:
            self.proc = subprocess.Popen(
                command,
                start_new_session=True,
                env={**self.env, "DAGSTER_HOME": str(self._dir)},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self.proc is not None:
                signal_group(self.proc.pid, signal.SIGINT)
                deadline = time.monotonic() + self.stop_timeout
                while group_alive(self.proc.pid) and time.monotonic() < deadline:
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        self.proc.wait(timeout=0.2)
                signal_group(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        finally:
            for sig, handler in self._previous.items():
                signal.signal(sig, handler)
            if self._dir is not None:
                shutil.rmtree(self._dir, ignore_errors=True)

    def _log_tail(self) -> str:
        path = (self._dir or Path()) / "webserver.log"
        text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-20:])

    def wait_ready(self) -> None:
        """Poll until location ``mlops_assets`` is loaded (deadline: ``ready_timeout``)."""
        from mlops_assets.cli.demo_graphql import location_status

        if self._ready:
            return
        deadline = time.monotonic() + self.ready_timeout
        status = "not answering"
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                raise DemoLaunchError(
                    "the demo's webserver exited before loading the code location",
                    context={"log": self._log_tail()},
                    fix="run `mlops-assets check-defs`, or the demo with --in-process",
                )
            status = location_status(self.url, LOCATION_NAME)
            if status == "LOADED":
                self._ready = True
                return
            if status.startswith("error"):
                raise DemoLaunchError(
                    f"code location {LOCATION_NAME} failed to load: {status}",
                    fix="run `mlops-assets check-defs` to see the definitions error",
                )
            time.sleep(0.5)
        raise DemoLaunchError(
            f"code location {LOCATION_NAME} not loaded after {self.ready_timeout:.0f}s ({status})",
            context={"log": self._log_tail()},
            fix="the machine may be overloaded: retry, or run the demo with --in-process",
        )

    def run(
        self,
        job: str,
        partition: str | None = None,
        tags: Mapping[str, str] | None = None,
        run_config: Mapping[str, Any] | None = None,
    ) -> StepOutcome:
        """Launch ``job`` through the code location and wait until its run ends."""
        from dagster_graphql import DagsterGraphQLClient

        self.wait_ready()
        start = time.perf_counter()
        all_tags = dict(tags or {})
        if partition is not None:
            all_tags["dagster/partition"] = partition
        client = DagsterGraphQLClient("127.0.0.1", port_number=self.port, timeout=300)
        run_id = client.submit_job_execution(
            job,
            repository_location_name=LOCATION_NAME,
            repository_name=REPOSITORY_NAME,
            run_config=dict(run_config or {}),
            tags=all_tags,
        )
        deadline = time.monotonic() + self.run_timeout
        while True:
            run = self.instance.get_run_by_id(run_id)
            if run is not None and run.status in TERMINAL:
                break
            if time.monotonic() > deadline:
                raise DemoLaunchError(
                    f"run {run_id} of {job} not finished after {self.run_timeout:.0f}s",
                    context={"status": run.status.value if run else "unknown"},
                    fix=f"see the run in the UI (`make dev`), or terminate it: {run_id}",
                )
            time.sleep(0.2)
        records = self.instance.get_records_for_run(run_id, of_type=OUTCOME_EVENTS).records
        events = [r.event_log_entry.dagster_event for r in records]
        outcome = outcome_from_events(
            job,
            partition,
            run.status == dg.DagsterRunStatus.SUCCESS,
            time.perf_counter() - start,
            [e for e in events if e is not None],
        )
        outcome.run_id = run_id
        return outcome


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM/SIGHUP to the demo: unwind like Ctrl-C, so the stack is stopped."""
    raise KeyboardInterrupt(f"signal {signum}")


@contextlib.contextmanager
def demo_launcher(
    instance: dg.DagsterInstance, first_day: date, *, in_process: bool, echo: bool = True
) -> Iterator[LaunchedStack | None]:
    """The stack the demo launches its jobs through, or ``None`` to execute them in process
    (``in_process``, or no ``$DAGSTER_HOME``: an ephemeral instance has no webserver to show)."""
    from mlops_assets.assets.keys import PARTITIONS_START_ENV

    home = os.environ.get("DAGSTER_HOME")
    if in_process or not home:
        if echo and not in_process:
            print("no $DAGSTER_HOME: the jobs run in process (ephemeral instance)", flush=True)
        yield None
        return
    env = dict(os.environ)
    if not env.get(PARTITIONS_START_ENV):  # partitions from the first simulated day, as `dev`
        env[PARTITIONS_START_ENV] = first_day.isoformat()
    with LaunchedStack(Path(home), instance, env=env) as stack:
        if echo:
            print(
                f"jobs launched through code location {LOCATION_NAME} by a headless webserver "
                f"({stack.url}, stopped at the end; --in-process skips it)",
                flush=True,
            )
        yield stack
