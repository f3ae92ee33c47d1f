"""Fixtures of the ML core tests: synthetic churn data, real MLflow stores and a real server.

* ``sqlite_store``: one SQLite tracking store per session (creating one runs migrations, which
  takes seconds); every test gets its own experiment in it through ``settings``.
* ``mlflow_server``: a real ``mlflow server`` process in its own process group. It is started
  right after collection when a selected test needs it (so it boots while other tests run) and
  stopped with SIGTERM to its group when the session finishes.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from mlops_assets.config.ml import ModelConfig
from mlops_assets.ml._process import free_port, log_tail
from mlops_assets.ml.split import split_frame
from mlops_assets.ml.tracking import MlflowSettings, configure
from mlops_assets.ml.training import TrainingResult, train_model

# None of the imports above loads mlflow; it reads this when it does.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

NUMERIC = ["tenure_months", "monthly_charges", "support_calls"]
CATEGORICAL = ["contract", "region"]


def make_churn_frame(n: int = 2000, seed: int = 0, prefix: str = "cust") -> pl.DataFrame:
    """Synthetic customers whose churn depends on tenure, charges, support calls and contract."""
    rng = np.random.default_rng(seed)
    tenure = rng.uniform(0, 72, n)
    charges = rng.normal(70, 20, n)
    calls = rng.poisson(2.0, n)
    contract = rng.choice(["month", "one_year", "two_year"], n, p=[0.5, 0.3, 0.2])
    region = rng.choice(["north", "south", "east", "west"], n)
    contract_effect = np.select([contract == "month", contract == "one_year"], [1.2, -0.3], -1.5)
    logit = -0.8 - 0.05 * (tenure - 36) + 0.02 * (charges - 70) + 0.5 * (calls - 2)
    churn = rng.random(n) < 1 / (1 + np.exp(-(logit + contract_effect)))
    return pl.DataFrame(
        {
            "customer_id": np.char.add(f"{prefix}-", np.arange(n).astype(str)),
            "observed_at": pl.datetime_range(
                datetime(2024, 1, 1),
                datetime(2024, 1, 1) + timedelta(hours=n - 1),
                "1h",
                eager=True,
            ),
            "tenure_months": tenure,
            "monthly_charges": charges,
            "support_calls": calls.astype(np.int64),
            "contract": contract,
            "region": region,
            "churn": np.where(churn, "Yes", "No"),
        }
    )


def model_config(**overrides: Any) -> ModelConfig:
    """A valid churn model config; keyword arguments replace top-level keys."""
    data: dict[str, Any] = {
        "name": "churn_model",
        "description": "Synthetic churn model for tests.",
        "task": "binary",
        "label": "churn",
        "positive_label": "Yes",
        "entity_key": "customer_id",
        "timestamp": "observed_at",
        "numeric_features": NUMERIC,
        "categorical_features": CATEGORICAL,
        "flavor": {
            "type": "sklearn",
            "estimator": "sklearn.ensemble.HistGradientBoostingClassifier",
            "params": {"max_iter": 60, "learning_rate": 0.1},
        },
        "gates": {
            "primary_metric": "roc_auc",
            "thresholds": [{"metric": "roc_auc", "min": 0.6}],
            "max_degradation": {"accuracy": 0.05},
        },
    }
    data.update(overrides)
    return ModelConfig.model_validate(data)


def dummy_flavor() -> dict[str, Any]:
    """A deliberately weak model: always predicts the prior."""
    return {
        "type": "sklearn",
        "estimator": "sklearn.dummy.DummyClassifier",
        "params": {"strategy": "prior"},
    }


@pytest.fixture(scope="session")
def churn() -> pl.DataFrame:
    """2,000 synthetic customers."""
    return make_churn_frame()


@pytest.fixture(scope="session")
def churn_splits(churn: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The synthetic customers split by entity hash."""
    parts = split_frame(churn, "customer_id", model_config().split)
    return {name: frame for name, frame in parts.items()}


@pytest.fixture(autouse=True)
def _no_leaked_runs() -> Iterator[None]:
    """End any MLflow run a failing test left active, so the next test starts clean."""
    yield
    mlflow = sys.modules.get("mlflow")  # a test that never loaded mlflow has nothing to end
    while mlflow is not None and mlflow.active_run() is not None:
        mlflow.end_run(status="FAILED")


@pytest.fixture(scope="session")
def sqlite_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A migrated SQLite tracking store and its artifact root."""
    root = tmp_path_factory.mktemp("mlflow-sqlite")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    artifacts = root / "artifacts"
    configure(
        MlflowSettings(
            tracking_uri=uri,
            experiment_name="bootstrap",
            artifact_location=artifacts.as_uri(),
        )
    )
    return uri, artifacts


def _experiment_name(request: pytest.FixtureRequest) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-200:]


@pytest.fixture
def settings(sqlite_store: tuple[str, Path], request: pytest.FixtureRequest) -> MlflowSettings:
    """Settings of the SQLite store with an experiment of this test's own."""
    uri, artifacts = sqlite_store
    name = _experiment_name(request)
    return MlflowSettings(
        tracking_uri=uri,
        experiment_name=name,
        artifact_location=(artifacts / name).as_uri(),
        ui_url="http://127.0.0.1:5000",
    )


def wait_for_health(
    url: str, process: "subprocess.Popen[bytes]", log_path: Path, timeout_s: float
) -> None:
    """Poll ``url``/health until it answers 200; fail with the server log's tail if the process
    exits first or the deadline passes."""
    deadline = time.monotonic() + timeout_s
    while True:
        if process.poll() is not None:
            pytest.fail(f"mlflow server exited early:\n{log_tail(log_path)}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"mlflow server not healthy within {timeout_s} s:\n{log_tail(log_path)}")
        time.sleep(0.25)


class TrackingServer:
    """A real `mlflow server` over SQLite in its own process group."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="mlops-ml-server-"))
        self.log_path = self.root / "server.log"
        self.url = f"http://127.0.0.1:{free_port()}"
        command = [
            sys.executable, "-m", "mlflow", "server",
            "--backend-store-uri", f"sqlite:///{self.root / 'mlflow.db'}",
            "--default-artifact-root", (self.root / "artifacts").as_uri(),
            "--host", "127.0.0.1",
            "--port", self.url.rsplit(":", 1)[1],
            "--workers", "1",
        ]  # fmt: skip
        scripts = str(Path(sys.executable).parent)
        env = {
            **os.environ,
            "PATH": os.pathsep.join([scripts, os.environ.get("PATH", "")]),
            # MLflow 3.17 otherwise starts a job runner and seven huey consumers (GenAI jobs):
            # eight extra interpreters that double the start time on two cores.
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        }
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )

    def wait_healthy(self, timeout_s: float = 180) -> str:
        """Block until /health answers 200; the base URL."""
        wait_for_health(self.url, self.process, self.log_path, timeout_s)
        return self.url

    def stop(self) -> None:
        """SIGTERM the process group (SIGKILL if it lingers) and remove the store."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)


_SERVER = pytest.StashKey[TrackingServer]()


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the server as soon as a selected test needs it: it boots while other tests run."""
    if any("mlflow_server" in getattr(item, "fixturenames", ()) for item in session.items):
        session.config.stash[_SERVER] = TrackingServer()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stop the server whether or not a test got to use it."""
    server = session.config.stash.get(_SERVER, None)
    if server is not None:
        server.stop()


@pytest.fixture(scope="session")
def mlflow_server(pytestconfig: pytest.Config) -> str:
    """The base URL of the session's real `mlflow server` (started at collection)."""
    if _SERVER not in pytestconfig.stash:
        pytestconfig.stash[_SERVER] = TrackingServer()
    return pytestconfig.stash[_SERVER].wait_healthy()


@pytest.fixture
def server_settings(mlflow_server: str, request: pytest.FixtureRequest) -> MlflowSettings:
    """Settings pointing at the real server, with an experiment of this test's own."""
    return MlflowSettings(
        tracking_uri=mlflow_server,
        experiment_name=_experiment_name(request),
        ui_url=mlflow_server,
    )


@pytest.fixture
def model_name(request: pytest.FixtureRequest) -> str:
    """A registered-model name unique to this test (the stores are shared by the session)."""
    return "m_" + re.sub(r"[^A-Za-z0-9_]+", "_", request.node.name)[-80:]


@pytest.fixture(scope="session")
def good_result(churn_splits: dict[str, pl.DataFrame]) -> TrainingResult:
    """A gradient-boosting churn model, trained once per session (not logged)."""
    return train_model(churn_splits["train"], churn_splits["validation"], model_config())


@pytest.fixture(scope="session")
def weak_result(churn_splits: dict[str, pl.DataFrame]) -> TrainingResult:
    """A deliberately weak model (predicts the prior), trained once per session."""
    config = model_config(flavor=dummy_flavor())
    return train_model(churn_splits["train"], churn_splits["validation"], config)
