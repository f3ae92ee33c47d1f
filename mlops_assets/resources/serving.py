"""Serving as a resource: one interface, one implementation per environment.

The endpoint asset builds a :class:`DeploymentRequest` and calls ``serving.deploy(request, log)``;
:mod:`mlops_assets.resources.factory` binds the environment's implementation under ``serving``:
:class:`LocalServingResource` (a real ``mlflow models serve`` process per model, its state in a
file) locally, :class:`~mlops_assets.resources.databricks.DatabricksServingResource` (Model
Serving: create/update, wait, smoke test, rollback) on Databricks. Both smoke-test the new
version before they report success and return an :class:`EndpointState`.
"""

import contextlib
import json
import logging
import os
import signal
from pathlib import Path

import dagster as dg
from pydantic import BaseModel, Field

from mlops_assets.config.ml import ServingConfig, Task
from mlops_assets.ml.tracking import MlflowSettings
from mlops_assets.storage.atomic import write_text_atomic


class EndpointState(BaseModel):
    """A deployed endpoint, as recorded on disk and returned by the deployment asset."""

    model_name: str = Field(description="Registered model served.")
    model_version: str = Field(description="Version served.")
    model_uri: str = Field(description="URI served.")
    url: str | None = Field(
        description="Base URL while running (`<url>/invocations` answers), else None."
    )
    pid: int | None = Field(description="Local server process id while running, else None.")
    running: bool = Field(description="Whether the server was left running.")
    smoke_test_latency_ms: float = Field(description="Latency of the deployment smoke test.")
    smoke_test_predictions: list[float] = Field(
        description="The smoke test's answer per row: P(positive) (binary), the predicted "
        "class's probability (multiclass), the predicted value (regression)."
    )
    log_path: str | None = Field(default=None, description="The server's own log file.")
    endpoint: str | None = Field(
        default=None, description="Name of a Databricks Model Serving endpoint (else None)."
    )


class DeploymentRequest(BaseModel):
    """What the endpoint asset asks any serving implementation to deploy."""

    use_case: str = Field(description="Use case (names the endpoint).")
    model_name: str = Field(description="Registered model name.")
    version: str = Field(description="Registered version to serve.")
    model_uri: str = Field(description="`models:/<name>/<version>`.")
    deployment_id: str = Field(description="Short id of this deployment (the Dagster run's).")
    local: ServingConfig = Field(description="The use case's local server settings.")
    mlflow: MlflowSettings = Field(description="Where the model is registered.")
    task: Task = Field(default="binary", description="The model's task (how its answers are read).")


class ServingResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The serving interface: deploy a registered version, smoke-tested, or raise ServingError."""

    def deploy(self, request: DeploymentRequest, log: logging.Logger) -> EndpointState:
        """Serve ``request.version``; the previous deployment keeps serving if this one fails."""
        raise NotImplementedError(f"{type(self).__name__} does not implement deploy")


def served_score(prediction: object, task: Task) -> float:
    """One answered row as a number: a binary classifier's P(positive) (the last of ``[P(0),
    P(1)]``), a multiclass classifier's probability of its predicted class (the largest of its
    class probabilities, whatever their number), a regressor's value."""
    if isinstance(prediction, list | tuple):
        values = [float(p) for p in prediction]
        return max(values) if task == "multiclass" else values[-1]
    return float(prediction)  # type: ignore[arg-type]


class LocalServingResource(ServingResource):
    """Local model serving: a real ``mlflow models serve`` process per model."""

    state_dir: str = Field(description="Folder of endpoint state files and server logs.")
    keep_running: bool = Field(
        default=True,
        description="Leave the server running after deployment (False: smoke test, then stop).",
    )

    def deploy(self, request: DeploymentRequest, log: logging.Logger) -> EndpointState:
        """Start the new server, smoke-test it, then stop the previous one (never before)."""
        from mlops_assets.ml.serving import smoke_test, start_server, stop_server

        name, version = request.model_name, request.version
        log_path = self.log_path(name, version, request.deployment_id)
        handle = start_server(
            request.model_uri, request.local, settings=request.mlflow, log_path=log_path
        )
        try:
            result = smoke_test(handle)
        except Exception:
            stop_server(handle)
            raise
        previous = self.read_state(name)
        # The state file is the only record of a running server: once it is overwritten, a
        # previous endpoint left running would be orphaned, whatever keep_running says now.
        if previous is not None and previous.running and previous.pid is not None:
            log.info(f"stopping the previous server of {name} v{previous.model_version}")
            _stop_pid(previous.pid)
        if not self.keep_running:
            stop_server(handle)
        state = EndpointState(
            model_name=name,
            model_version=version,
            model_uri=request.model_uri,
            url=handle.url if self.keep_running else None,
            pid=handle.pid if self.keep_running else None,
            running=self.keep_running,
            smoke_test_latency_ms=result.latency_ms,
            smoke_test_predictions=[served_score(p, request.task) for p in result.predictions],
            log_path=str(log_path),
        )
        self.write_state(state)
        return state

    def state_path(self, model_name: str) -> Path:
        path = Path(self.state_dir)
        path.mkdir(parents=True, exist_ok=True)
        return path / f"{model_name}.json"

    def log_path(self, model_name: str, version: str, deployment: str) -> Path:
        """The log of one deployment's server (one file per deployment: a re-deployment of the
        same version never writes into the log of the server it replaces)."""
        return Path(self.state_dir) / f"{model_name}-v{version}-{deployment}.log"

    def read_state(self, model_name: str) -> EndpointState | None:
        path = self.state_path(model_name)
        if not path.exists():
            return None
        return EndpointState.model_validate(json.loads(path.read_text(encoding="utf-8")))

    def write_state(self, state: EndpointState) -> None:
        """Record ``state`` atomically: readers see the previous file or the new one, never half.

        The state file is the only record of a running server (its pid); a torn write would
        orphan it.
        """
        path = self.state_path(state.model_name)
        write_text_atomic(path, state.model_dump_json(indent=2), durable=True)


def _stop_pid(pid: int) -> None:
    """Stop a previously deployed server's process group (it may already be gone)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)


__all__ = [
    "DeploymentRequest",
    "EndpointState",
    "LocalServingResource",
    "ServingResource",
    "served_score",
]
