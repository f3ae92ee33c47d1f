"""A real Spark Connect server with Delta Lake for tests: Sail, started from its pinned environment.

pysail refuses the project's pyspark 4.3 in its own process, so the server runs from
``tools/sail/.venv`` (``make sail`` creates it offline from PyPI: pysail 0.7.2 with pyspark-client
4.2.0) and the project's pyspark 4.3 client connects to ``sc://127.0.0.1:<port>``. Unity Catalog
names (``catalog.schema.table``) resolve through Sail's memory catalog, which lives as long as
one client session (a second session sees none of the first one's tables); managed tables are
Delta tables under a warehouse folder of the test. The server is stopped through its process
group.
"""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from pydantic import BaseModel, Field

from mlops_assets_tests.conftest import REPO_ROOT

SAIL_PROJECT = REPO_ROOT / "tools" / "sail"
SAIL_ENV_VAR = "MLOPS_SAIL_BIN"
MAKE_TARGET = "make sail"


class SailSettings(BaseModel):
    """What one Sail server serves."""

    catalog: str = Field(default="main", description="The memory catalog's name.")
    databases: list[str] = Field(default_factory=lambda: ["mlops"], description="Its schemas.")
    start_timeout_s: float = Field(default=60.0, gt=0, description="Deadline to accept TCP.")


def sail_executable() -> Path | None:
    """The ``sail`` CLI of the pinned environment (or ``$MLOPS_SAIL_BIN``), None when absent."""
    configured = os.environ.get(SAIL_ENV_VAR)
    candidate = Path(configured) if configured else SAIL_PROJECT / ".venv" / "bin" / "sail"
    return candidate if candidate.is_file() and os.access(candidate, os.X_OK) else None


def missing_reason() -> str:
    """Why the Sail tests cannot run here, loud enough to be noticed in a test report."""
    return (
        f"SAIL SERVER ENVIRONMENT MISSING: no executable {SAIL_PROJECT / '.venv/bin/sail'} "
        f"(nor ${SAIL_ENV_VAR}). The Unity Catalog lakehouse tests need it: run `{MAKE_TARGET}` "
        "(uv sync --frozen --project tools/sail) before pytest; CI must run it first."
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class SailServer:
    """``with SailServer(workdir) as server: connect_remote(server.url)``."""

    def __init__(self, workdir: Path, settings: SailSettings | None = None) -> None:
        self.workdir = workdir
        self.settings = settings or SailSettings()
        self.port = 0
        self.started_in_s = 0.0
        self.log_path = workdir / "sail.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"sc://127.0.0.1:{self.port}"

    @property
    def warehouse(self) -> Path:
        """Where managed tables are written (pass as ``spark.sql.warehouse.dir``).

        It must be absolute: with Sail's default relative ``spark-warehouse`` a table's location
        is relative and ALTER TABLE refuses it.
        """
        return self.workdir / "warehouse"

    def _environment(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DATABRICKS_", "SPARK_", "PYSPARK_", "SAIL_"))
        }
        databases = ", ".join(f'"{d}"' for d in self.settings.databases)
        env["SAIL_CATALOG__LIST"] = (
            f'[{{type="memory", name="{self.settings.catalog}", initial_database=[{databases}]}}]'
        )
        env["SAIL_CATALOG__DEFAULT_CATALOG"] = self.settings.catalog
        env["RUST_LOG"] = "warn"
        return env

    def start(self) -> Self:
        executable = sail_executable()
        if executable is None:
            raise RuntimeError(missing_reason())
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.warehouse.mkdir(exist_ok=True)
        self.port = _free_port()
        self._log = self.log_path.open("wb")
        began = time.monotonic()
        command = [str(executable), "spark", "server", "--ip", "127.0.0.1"]
        self._process = subprocess.Popen(
            [*command, "--port", str(self.port), "-C", str(self.workdir)],
            env=self._environment(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole
        )
        deadline = began + self.settings.start_timeout_s
        while not _accepts(self.port):
            if self._process.poll() is not None:
                self.stop()
                raise RuntimeError(f"sail exited with {self._process.returncode}: {self._tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"sail did not accept connections on port {self.port} within "
                    f"{self.settings.start_timeout_s:.0f} s: {self._tail()}"
                )
            time.sleep(0.05)
        self.started_in_s = time.monotonic() - began
        return self

    def _tail(self) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return self.log_path.read_text(errors="replace")[-2000:]

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=15)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
