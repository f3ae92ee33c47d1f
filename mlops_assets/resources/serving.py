"""Where local serving endpoints keep their state, and whether they outlive the run."""

import json
import os
import tempfile
from pathlib import Path

import dagster as dg
from pydantic import BaseModel, Field


class EndpointState(BaseModel):
    """A deployed endpoint, as recorded on disk and returned by the deployment asset."""

    model_name: str = Field(description="Registered model served.")
    model_version: str = Field(description="Version served.")
    model_uri: str = Field(description="URI served.")
    url: str | None = Field(description="Base URL while running, else None.")
    pid: int | None = Field(description="Server process id while running, else None.")
    running: bool = Field(description="Whether the server was left running.")
    smoke_test_latency_ms: float = Field(description="Latency of the deployment smoke test.")
    smoke_test_predictions: list[float] = Field(description="Predictions of the smoke test.")
    log_path: str | None = Field(default=None, description="The server's own log file.")


class ServingResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Local model serving: a real ``mlflow models serve`` process per model."""

    state_dir: str = Field(description="Folder of endpoint state files and server logs.")
    keep_running: bool = Field(
        default=True,
        description="Leave the server running after deployment (False: smoke test, then stop).",
    )

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
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(state.model_dump_json(indent=2))
                handle.flush()
                os.fsync(handle.fileno())
            Path(tmp).replace(path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
