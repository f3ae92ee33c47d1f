"""A real local model endpoint: ``mlflow models serve`` in its own process group.

:func:`start_server` launches ``python -m mlflow models serve --env-manager local`` on a free (or
given) port and waits for ``/ping``; :func:`smoke_test` posts the model's own input example to
``/invocations`` and checks the response; :func:`stop_server` terminates the whole process group.
:func:`serving` wraps the three in a context manager, and :func:`serve_forever` runs a server in
the foreground for the command line.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from mlops_assets.config.ml import ServingConfig
from mlops_assets.errors import MLOpsError, ServingError
from mlops_assets.ml._process import (
    free_port,
    http_status,
    log_tail,
    terminate_group,
    with_default_signals,
)
from mlops_assets.ml.approval import approved_version
from mlops_assets.ml.model_store import METADATA_KEY
from mlops_assets.ml.tracking import MlflowSettings


@dataclass(frozen=True)
class ServingHandle:
    """A running endpoint: where it answers and which process serves it."""

    url: str
    pid: int
    model_uri: str
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False, compare=False)


class SmokeTestResult(BaseModel):
    """A successful request to a served model."""

    model_config = ConfigDict(frozen=True)

    url: str = Field(description="Invocations URL called.")
    n_rows: int = Field(description="Rows sent.")
    latency_ms: float = Field(description="Round-trip time of the request.")
    task: str = Field(description="Task the response was validated for.")
    predictions: list[Any] = Field(description="The predictions returned.")


def serve_command(model_uri: str, host: str, port: int) -> list[str]:
    """The ``mlflow models serve`` command line, run by this Python interpreter."""
    return [
        sys.executable,
        "-m",
        "mlflow",
        "models",
        "serve",
        "-m",
        model_uri,
        "--env-manager",
        "local",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        "1",
    ]


def serve_env(settings: MlflowSettings | None) -> dict[str, str]:
    """The server's environment: ours, the MLflow URIs, and this venv's ``bin`` on PATH.

    mlflow launches ``uvicorn`` by name, so the interpreter's scripts folder must be on PATH even
    when the virtual environment is not activated.
    """
    env = dict(os.environ)
    scripts = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([scripts, env.get("PATH", "")])
    if settings is not None:
        env["MLFLOW_TRACKING_URI"] = settings.tracking_uri
        env["MLFLOW_REGISTRY_URI"] = settings.effective_registry_uri
    return env


def start_server(
    model_uri: str,
    config: ServingConfig,
    *,
    settings: MlflowSettings | None = None,
    log_path: Path | None = None,
) -> ServingHandle:
    """Start ``mlflow models serve`` for ``model_uri`` and wait until ``/ping`` answers 200.

    Only an approved registered version is served (:func:`~mlops_assets.ml.approval.
    approved_version`): a ``@champion`` set by hand around the gates, or a state file edited to
    name a rejected version, is refused before any process starts.

    Raises:
        UnapprovedModelError: the version is not approved to serve.
        ServingError: the process exited or did not become healthy in time (with its log tail).
    """
    approved_version(model_uri, settings)
    port = config.port or free_port(config.host)
    if log_path is None:
        fd, name = tempfile.mkstemp(prefix="mlflow-serve-", suffix=".log")
        os.close(fd)
        log_path = Path(name)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    url = f"http://{config.host}:{port}"
    with log_path.open("ab") as log:  # appends: never clobbers what another server wrote
        process = subprocess.Popen(
            with_default_signals(serve_command(model_uri, config.host, port)),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=serve_env(settings),
            start_new_session=True,
        )
    handle = ServingHandle(url, process.pid, model_uri, log_path, process)
    deadline = time.monotonic() + config.startup_timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServingError(
                f"the model server exited with code {process.returncode} before answering",
                context={
                    "model_uri": model_uri,
                    "url": url,
                    "pid": process.pid,
                    "log": str(log_path),
                },
                fix=f"read the server log:\n{log_tail(log_path)}",
            )
        if http_status(f"{url}/ping", timeout_s=2.0) == 200:
            return handle
        time.sleep(0.25)
    stop_server(handle)
    raise ServingError(
        f"the model server did not answer {url}/ping within {config.startup_timeout_s:g} s",
        context={"model_uri": model_uri, "url": url, "pid": process.pid, "log": str(log_path)},
        fix=f"raise serving.startup_timeout_s or read the server log:\n{log_tail(log_path)}",
    )


def stop_server(handle: ServingHandle, timeout_s: float = 20.0) -> None:
    """Terminate the server's whole process group: SIGTERM, then SIGKILL after ``timeout_s``.

    Works from the handle alone (e.g. a server started by another process): the server is the
    leader of its own process group, whose id is its pid.
    """
    terminate_group(handle.pid, handle.process, timeout_s)


def _example_payload(handle: ServingHandle, example: pl.DataFrame | None) -> tuple[str, int]:
    from mlflow.models import Model

    from mlops_assets.ml.inference import enforce_signature

    frame: Any
    if example is not None:
        frame = enforce_signature(example, handle.model_uri).to_pandas()
    else:
        frame = Model.load(handle.model_uri).load_input_example(handle.model_uri)
        if frame is None:
            raise ServingError(
                f"model {handle.model_uri} has no input example to send",
                context={"model_uri": handle.model_uri},
                fix="pass `example=` rows to smoke_test, or log the model with an input example",
            )
    body = '{"dataframe_split": ' + frame.to_json(orient="split", index=False) + "}"
    return body, len(frame)


def _model_task(model_uri: str) -> str:
    from mlflow.models import Model

    section = (Model.load(model_uri).metadata or {}).get(METADATA_KEY) or {}
    task = str(section.get("task", "unknown"))
    return "binary" if task == "classification" else task


def _check_predictions(predictions: Any, n_rows: int, task: str) -> str | None:
    """Why the predictions are not valid for the task (None if they are)."""
    if not isinstance(predictions, list) or len(predictions) != n_rows:
        size = len(predictions) if isinstance(predictions, list) else type(predictions).__name__
        return f"expected a list of {n_rows} predictions, got {size}"
    if task in ("binary", "classification", "multiclass"):
        width = len(predictions[0]) if task == "multiclass" and predictions else 2
        for row in predictions[:n_rows]:
            if not (isinstance(row, list) and len(row) == width and width >= 2):
                expected = "[P(0), P(1)]" if task != "multiclass" else f"{width} probabilities"
                return f"expected {expected} per row, got {row!r}"
            if not all(isinstance(p, int | float) and 0.0 <= p <= 1.0 for p in row):
                return f"probabilities outside [0, 1]: {row!r}"
            if not math.isclose(sum(row), 1.0, abs_tol=1e-6):
                return f"probabilities do not sum to 1: {row!r}"
    elif task == "regression" and not all(
        isinstance(p, int | float) and math.isfinite(p) for p in predictions
    ):
        return "expected one finite number per row"
    return None


def smoke_test(
    handle: ServingHandle, example: pl.DataFrame | None = None, timeout_s: float = 30.0
) -> SmokeTestResult:
    """POST rows (the model's saved input example by default) to ``/invocations``; validate.

    A binary classifier must return ``[P(0), P(1)]`` per row (in [0, 1], summing to 1), a
    multiclass one a probability per class (same width on every row), a regressor one finite
    number per row, and the row count must match.

    Raises:
        ServingError: the request failed or the response is malformed (with the log tail).
    """
    body, n_rows = _example_payload(handle, example)
    task = _model_task(handle.model_uri)
    url = f"{handle.url}/invocations"
    request = urllib.request.Request(
        url, data=body.encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            payload = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:2000]
        raise _serving_error(handle, f"{url} answered HTTP {exc.code}: {detail}") from exc
    except (urllib.error.URLError, OSError, json.JSONDecodeError) as exc:
        raise _serving_error(handle, f"request to {url} failed: {exc}") from exc
    latency_ms = (time.perf_counter() - start) * 1000
    predictions = payload.get("predictions") if isinstance(payload, dict) else None
    problem = _check_predictions(predictions, n_rows, task)
    if problem is not None:
        raise _serving_error(handle, f"malformed response from {url}: {problem}")
    assert isinstance(predictions, list)
    return SmokeTestResult(
        url=url, n_rows=n_rows, latency_ms=latency_ms, task=task, predictions=predictions
    )


def _serving_error(handle: ServingHandle, message: str) -> MLOpsError:
    return ServingError(
        message,
        context={"model_uri": handle.model_uri, "log": str(handle.log_path)},
        fix=f"read the server log:\n{log_tail(handle.log_path)}",
    )


@contextmanager
def serving(
    model_uri: str,
    config: ServingConfig,
    *,
    settings: MlflowSettings | None = None,
    log_path: Path | None = None,
) -> Iterator[ServingHandle]:
    """Serve ``model_uri`` for the duration of the ``with`` block, then stop the server."""
    handle = start_server(model_uri, config, settings=settings, log_path=log_path)
    try:
        yield handle
    finally:
        stop_server(handle)


def serve_forever(
    model_uri: str,
    host: str = "127.0.0.1",
    port: int | None = None,
    *,
    settings: MlflowSettings | None = None,
) -> int:
    """Run ``mlflow models serve`` in the foreground until it exits or Ctrl-C; its exit code.

    Output goes to this process's stdout/stderr (for the ``mlops-assets serve`` command).
    Refuses a version that is not approved, like :func:`start_server`.
    """
    approved_version(model_uri, settings)
    port = port or free_port(host)
    process = subprocess.Popen(serve_command(model_uri, host, port), env=serve_env(settings))
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.send_signal(signal.SIGINT)
        try:
            return process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()
