"""MLflow outages: bounded retries with backoff, then a typed error; no alias moves meanwhile.

Real failures only: a port where nothing listens (connection refused), and a real
``mlflow server`` process that is stopped and started again on the same store and port.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from mlops_assets.errors import MlflowUnavailableError, RegistryError
from mlops_assets.ml._process import free_port
from mlops_assets.ml.decisions import EvaluationReport
from mlops_assets.ml.gates import decide
from mlops_assets.ml.mlflow_retry import RetryPolicy, call_with_retry, is_transient
from mlops_assets.ml.model_store import log_and_register
from mlops_assets.ml.promotion import apply_promotion
from mlops_assets.ml.registry import CHAMPION, Registry
from mlops_assets.ml.tracking import MlflowSettings, RunTags, start_run
from mlops_assets.ml.training import TrainingResult
from mlops_assets_tests.ml.conftest import model_config, wait_for_health

TAGS = RunTags(dagster_run_id="run-outage", asset_key="churn/models/outage")
SHORT = RetryPolicy(attempts=50, initial_backoff_s=0.2, max_backoff_s=1.0, deadline_s=3.0)


class RestartableServer:
    """A real ``mlflow server`` on a fixed port and store, which can be stopped and restarted."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        command = [
            sys.executable, "-m", "mlflow", "server",
            "--backend-store-uri", f"sqlite:///{self.root / 'mlflow.db'}",
            "--default-artifact-root", (self.root / "artifacts").as_uri(),
            "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1",
        ]  # fmt: skip
        env = {
            **os.environ,
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        }
        with (self.root / f"server-{self.starts}.log").open("wb") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )

    def wait_healthy(self, timeout_s: float = 240) -> None:
        assert self.process is not None
        wait_for_health(self.url, self.process, self.root / f"server-{self.starts}.log", timeout_s)

    def stop(self) -> None:
        """SIGTERM the process group and wait until the port refuses connections."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RestartableServer]:
    srv = RestartableServer(tmp_path)
    srv.start()
    srv.wait_healthy()
    yield srv
    srv.stop()


def test_ml_mlflow_retry_a_refused_port_fails_typed_within_the_deadline(tmp_path: Path) -> None:
    settings = MlflowSettings(
        tracking_uri=f"http://127.0.0.1:{free_port()}", experiment_name="nothing-listens"
    )
    registry = Registry(settings, lock_dir=tmp_path, retry=SHORT)
    assert registry.client is not None  # import mlflow before the clock starts (slow when busy)
    started = time.monotonic()
    with pytest.raises(MlflowUnavailableError, match="MLflow is unreachable") as info:
        registry.require_champion("churn_model", purpose="score with")
    elapsed = time.monotonic() - started
    # MLflow's own client would retry for minutes; ours stops at the deadline (+ one request)
    assert elapsed < SHORT.deadline_s + 30, elapsed
    attempts = info.value.context["attempts"]
    assert isinstance(attempts, int) and attempts >= 2
    assert info.value.context["mlflow_uri"] == settings.tracking_uri
    assert info.value.fix is not None and "MLflow tracking server" in info.value.fix
    assert "MLFLOW_HTTP_REQUEST_MAX_RETRIES" not in os.environ  # bounded only during the call


def test_ml_mlflow_retry_permanent_errors_are_not_retried(
    settings: MlflowSettings, tmp_path: Path
) -> None:
    calls: list[float] = []
    registry = Registry(settings, lock_dir=tmp_path, retry=SHORT)
    original = registry._aliases

    def counting(name: str) -> dict[str, str]:
        calls.append(time.monotonic())
        return original(name)

    registry._aliases = counting  # type: ignore[method-assign]
    assert registry.alias_version("no_such_model_here", CHAMPION) is None
    with pytest.raises(RegistryError) as info:
        registry.get_version("no_such_model_here", "1")
    assert not isinstance(info.value, MlflowUnavailableError)
    assert len(calls) == 1
    assert not is_transient(ValueError("bad input"))


def test_ml_mlflow_retry_backoff_doubles_up_to_its_cap() -> None:
    waits: list[float] = []
    failures = iter(range(100))

    def refuse() -> None:
        next(failures)
        raise ConnectionRefusedError("[Errno 111] Connection refused")

    policy = RetryPolicy(attempts=6, initial_backoff_s=0.5, max_backoff_s=2.0, deadline_s=600)
    with pytest.raises(MlflowUnavailableError, match="failed 6 time") as info:
        call_with_retry("probe", refuse, policy, target="http://u:secret-pw@h", sleep=waits.append)
    assert waits == [0.5, 1.0, 2.0, 2.0, 2.0]
    assert "secret-pw" not in str(info.value)  # credentials in the URI are never shown
    assert info.value.context["mlflow_uri"] == "http://***@h"


def _register(
    settings: MlflowSettings, result: TrainingResult, rows: pl.DataFrame, name: str
) -> str:
    with start_run(settings, "register", TAGS):
        info = log_and_register(result, model_config(), settings, rows, registered_name=name)
    return info.version


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_ml_mlflow_retry_outage_moves_no_alias_and_the_champion_keeps_serving(
    server: RestartableServer,
    good_result: TrainingResult,
    churn_splits: dict[str, pl.DataFrame],
    model_name: str,
    tmp_path: Path,
) -> None:
    settings = MlflowSettings(tracking_uri=server.url, experiment_name="outage")
    registry = Registry(settings, lock_dir=tmp_path, retry=SHORT)
    gates = model_config().gates
    good = {"roc_auc": 0.8, "accuracy": 0.75}
    better = {"roc_auc": 0.85, "accuracy": 0.76}
    v1 = _register(settings, good_result, churn_splits["train"], model_name)
    registry.record_decision(model_name, v1, decide(good, None, gates), good)
    registry.promote(model_name, v1, expected_champion=None)
    v2 = _register(settings, good_result, churn_splits["train"], model_name)
    decision = decide(better, good, gates)
    registry.record_decision(model_name, v2, decision, better)
    report = EvaluationReport(
        model_name=model_name,
        challenger_version=v2,
        champion_version=v1,
        challenger_metrics=better,
        champion_metrics=good,
        n_test=100,
        decision=decision,
        mlflow_run_id="outage",
    )

    server.stop()
    started = time.monotonic()
    with pytest.raises(MlflowUnavailableError, match="MLflow is unreachable"):
        apply_promotion(registry, report)
    assert time.monotonic() - started < SHORT.deadline_s + 30

    # MLflow comes back while a patient caller is still retrying: it succeeds, nothing moved
    patient = Registry(
        settings,
        lock_dir=tmp_path,
        retry=RetryPolicy(attempts=500, initial_backoff_s=0.5, max_backoff_s=2, deadline_s=600),
    )
    restarter = threading.Timer(1.0, server.start)
    restarter.start()
    champion = patient.require_champion(model_name, purpose="score with")
    restarter.join()
    assert champion.version == v1  # the previous champion keeps serving
    assert champion.aliases == ["challenger", CHAMPION]  # @challenger never moved to v2 either
    assert patient.get_version(model_name, v2).aliases == []

    # once MLflow answers, the same promotion goes through
    state = apply_promotion(registry, report)
    assert (state.champion_version, state.previous_champion) == (v2, v1)
