"""One-time job runs of the fake workspace: each ``spark_python_task`` runs as a REAL local process.

``/Volumes/...`` paths are what the FUSE mount of a Databricks cluster shows; here they map to a
local folder, in the script path, its parameters, the cluster's ``spark_env_vars`` and inside the
Dagster Pipes bootstrap parameters (decoded, mapped, encoded again). The process's exit code is
the run's result: PENDING -> RUNNING -> TERMINATED with SUCCESS, FAILED or CANCELED.
"""

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dagster_pipes import decode_param, encode_param

from mlops_assets.ml._process import with_default_signals
from mlops_assets_tests.databricks.fake_validation import InvalidRequestError

PIPES_ENV_VARS = ("DAGSTER_PIPES_CONTEXT", "DAGSTER_PIPES_MESSAGES")
_KEPT_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT", "OMP_NUM_THREADS")


@dataclass
class JobRun:
    """A submitted run and its local process."""

    run_id: int
    run_name: str
    task: dict[str, Any]
    life_cycle_state: str = "PENDING"
    result_state: str | None = None
    state_message: str = ""
    process: subprocess.Popen[bytes] | None = None
    log_dir: Path | None = None
    command: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)


class VolumeMapper:
    """Maps ``/Volumes/...`` to ``<root>/Volumes/...`` like a cluster's FUSE mount would."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def local(self, remote: str) -> Path:
        if not remote.startswith("/Volumes/") or ".." in remote.split("/"):
            raise InvalidRequestError(f"{remote!r} is not a path under /Volumes")
        return self.root / remote.lstrip("/")

    def map_value(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith("/Volumes/"):
            return str(self.local(value))
        if isinstance(value, dict):
            return {k: self.map_value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.map_value(v) for v in value]
        return value

    def map_pipes_param(self, encoded: str) -> str:
        return encode_param(self.map_value(decode_param(encoded)))

    def map_parameters(self, parameters: list[str]) -> list[str]:
        out: list[str] = []
        for i, value in enumerate(parameters):
            previous = parameters[i - 1] if i else ""
            if previous.startswith("--dagster-pipes-"):
                out.append(self.map_pipes_param(value))
            else:
                out.append(self.map_value(value))
        return out


class JobRunner:
    """Launches, tracks and cancels the processes of submitted runs."""

    def __init__(self, root: Path, volumes: VolumeMapper, extra_env: dict[str, str]) -> None:
        self.root = root
        self.volumes = volumes
        self.extra_env = extra_env
        self.runs: dict[int, JobRun] = {}
        self._lock = threading.Lock()
        self._next_id = 1000

    def submit(self, body: dict[str, Any]) -> JobRun:
        tasks = body.get("tasks") or []
        if len(tasks) != 1:
            raise InvalidRequestError("the fake runs exactly one task per submitted run")
        task = tasks[0]
        python_task = task.get("spark_python_task")
        if python_task is None:
            raise InvalidRequestError("the fake runs spark_python_task tasks only")
        if "environment_key" in task:
            keys = {e.get("environment_key") for e in body.get("environments") or []}
            if task["environment_key"] not in keys:
                raise InvalidRequestError(
                    f"environment_key {task['environment_key']!r} is not defined"
                )
        elif "new_cluster" not in task and "existing_cluster_id" not in task:
            raise InvalidRequestError(
                "a task needs compute: environment_key, new_cluster or cluster id"
            )
        script = self.volumes.local(python_task["python_file"])
        if not script.is_file():
            raise InvalidRequestError(f"python_file {python_task['python_file']} does not exist")
        env = {k: os.environ[k] for k in _KEPT_ENV if k in os.environ}
        env.update(self.extra_env)
        for key, value in (task.get("new_cluster") or {}).get("spark_env_vars", {}).items():
            mapped = self.volumes.map_pipes_param(value) if key in PIPES_ENV_VARS else value
            env[key] = self.volumes.map_value(mapped)
        parameters = self.volumes.map_parameters(list(python_task.get("parameters") or []))
        with self._lock:
            self._next_id += 1
            run = JobRun(self._next_id, body.get("run_name", "Untitled"), task)
            self.runs[run.run_id] = run
        run.log_dir = self.root / "runs" / str(run.run_id)
        run.log_dir.mkdir(parents=True)
        run.command = [sys.executable, str(script), *parameters]
        run.env = env
        threading.Thread(target=self._execute, args=(run,), daemon=True).start()
        return run

    def _execute(self, run: JobRun) -> None:
        assert run.log_dir is not None
        with (
            (run.log_dir / "stdout").open("wb") as out,
            (run.log_dir / "stderr").open("wb") as err,
        ):
            with self._lock:
                if run.life_cycle_state != "PENDING":
                    return  # cancelled before it started
                run.process = subprocess.Popen(
                    with_default_signals(run.command),
                    stdout=out,
                    stderr=err,
                    stdin=subprocess.DEVNULL,
                    env=run.env,
                    cwd=run.log_dir,
                    start_new_session=True,
                )
                run.life_cycle_state = "RUNNING"
            code = run.process.wait()
        with self._lock:
            if run.result_state == "CANCELED":
                run.life_cycle_state = "TERMINATED"
                return
            run.life_cycle_state = "TERMINATED"
            run.result_state = "SUCCESS" if code == 0 else "FAILED"
            tail = (run.log_dir / "stderr").read_text(errors="replace")[-800:]
            run.state_message = "" if code == 0 else f"Workload failed (exit code {code}): {tail}"

    def cancel(self, run_id: int) -> JobRun:
        run = self.get(run_id)
        with self._lock:
            if run.life_cycle_state in ("TERMINATED", "INTERNAL_ERROR"):
                return run
            run.result_state = "CANCELED"
            run.state_message = "Run cancelled."
            if run.process is None:
                run.life_cycle_state = "TERMINATED"
            else:
                run.life_cycle_state = "TERMINATING"
                _kill_group(run.process)
        return run

    def get(self, run_id: int) -> JobRun:
        run = self.runs.get(run_id)
        if run is None:
            raise KeyError(run_id)
        return run

    def stop_all(self, wait: Callable[[subprocess.Popen[bytes]], object]) -> None:
        for run in list(self.runs.values()):
            if run.process is not None and run.process.poll() is None:
                _kill_group(run.process)
                wait(run.process)


KILL_AFTER_S = 5.0
"""A cancelled workload still alive this long after SIGTERM is killed (a cluster forces it)."""


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)

    def force() -> None:
        try:
            process.wait(timeout=KILL_AFTER_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)

    threading.Thread(target=force, daemon=True).start()


def run_json(run: JobRun, host: str) -> dict[str, Any]:
    """The run as ``GET /api/2.2/jobs/runs/get`` returns it."""
    state: dict[str, Any] = {"life_cycle_state": run.life_cycle_state}
    if run.result_state is not None and run.life_cycle_state == "TERMINATED":
        state["result_state"] = run.result_state
    if run.state_message:
        state["state_message"] = run.state_message
    task = {
        "task_key": run.task.get("task_key", "task"),
        "run_id": run.run_id + 1,
        "state": state,
    }
    return {
        "run_id": run.run_id,
        "run_name": run.run_name,
        "run_page_url": f"{host}/#job/runs/{run.run_id}",
        "state": state,
        "tasks": [task],
    }
