"""A real `mlflow models serve` process: start, health, smoke test, raw REST call, clean stop."""

import json
import signal
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from mlops_assets.config.ml import ServingConfig
from mlops_assets.errors import ServingError
from mlops_assets.ml import serving as serving_module
from mlops_assets.ml._process import group_alive
from mlops_assets.ml.frames import feature_frame
from mlops_assets.ml.gates import decide
from mlops_assets.ml.model_store import ModelVersionInfo, log_and_register
from mlops_assets.ml.registry import Registry
from mlops_assets.ml.serving import serving, smoke_test, start_server
from mlops_assets.ml.tracking import MlflowSettings, RunTags, start_run
from mlops_assets.ml.training import TrainingResult
from mlops_assets_tests.ml.conftest import model_config

TAGS = RunTags(dagster_run_id="run-serving", asset_key="churn/serving")


def _approve(settings: MlflowSettings, info: ModelVersionInfo, lock_dir: Path) -> None:
    """Record a passing gate decision on ``info``: only approved versions are served."""
    metrics = {"roc_auc": 0.8, "accuracy": 0.75}
    decision = decide(metrics, None, model_config().gates)
    Registry(settings, lock_dir=lock_dir).record_decision(
        info.name, info.version, decision, metrics
    )


@pytest.fixture
def approved(
    settings: MlflowSettings,
    good_result: TrainingResult,
    churn_splits: dict[str, pl.DataFrame],
    model_name: str,
    tmp_path: Path,
) -> ModelVersionInfo:
    """A registered version with a passing gate decision recorded."""
    with start_run(settings, "register", TAGS):
        info = log_and_register(
            good_result, model_config(), settings, churn_splits["train"], registered_name=model_name
        )
    _approve(settings, info, tmp_path)
    return info


def _group_gone(pgid: int, seconds: float = 30) -> bool:
    """Whether the process group has no live member, polled until a deadline (a killed member
    may take a moment to exit; a zombie left for PID 1 to reap is not alive)."""
    deadline = time.monotonic() + seconds
    while group_alive(pgid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@pytest.mark.slow
def test_ml_serving_real_endpoint_answers_like_the_model(
    settings: MlflowSettings,
    good_result: TrainingResult,
    churn_splits: dict[str, pl.DataFrame],
    model_name: str,
    tmp_path: Path,
) -> None:
    config = model_config()
    with start_run(settings, "register", TAGS):
        info = log_and_register(
            good_result, config, settings, churn_splits["train"], registered_name=model_name
        )
    _approve(settings, info, tmp_path)
    rows = churn_splits["test"].head(7)
    with serving(
        info.model_uri, ServingConfig(), settings=settings, log_path=tmp_path / "serve.log"
    ) as handle:
        assert group_alive(handle.pid)
        default = smoke_test(handle)  # the input example stored with the model
        assert (default.n_rows, default.task) == (5, "binary")
        result = smoke_test(handle, rows)
        expected = good_result.pipeline.predict_proba(feature_frame(rows, config))
        np.testing.assert_allclose(np.asarray(result.predictions), expected, rtol=1e-9)

        # a client sending plain JSON, integers for a double column included
        body = {
            "dataframe_records": [
                {
                    "tenure_months": 3,
                    "monthly_charges": 99.5,
                    "support_calls": 4,
                    "contract": "month",
                    "region": "north",
                },
            ]
        }
        request = urllib.request.Request(
            f"{handle.url}/invocations",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.loads(response.read())["predictions"]
        assert len(answer) == 1 and sum(answer[0]) == pytest.approx(1.0)
    assert _group_gone(handle.pid)  # the whole process group is gone
    assert "Uvicorn running" in (tmp_path / "serve.log").read_text()


def test_ml_serving_exit_before_health_reports_the_log_tail(
    monkeypatch: pytest.MonkeyPatch,
    settings: MlflowSettings,
    approved: ModelVersionInfo,
    tmp_path: Path,
) -> None:
    # a real process that fails the way `mlflow models serve` does on a bad URI (fast to start)
    script = "import sys; print('RESOURCE_DOES_NOT_EXIST: no model m/1', flush=True); sys.exit(3)"
    monkeypatch.setattr(serving_module, "serve_command", lambda *a: [sys.executable, "-c", script])
    with pytest.raises(ServingError, match="exited with code 3 before answering") as info:
        start_server(
            approved.model_uri, ServingConfig(), settings=settings, log_path=tmp_path / "s.log"
        )
    assert "RESOURCE_DOES_NOT_EXIST: no model m/1" in (info.value.fix or "")


def test_ml_serving_startup_timeout_kills_the_process_group(
    monkeypatch: pytest.MonkeyPatch,
    settings: MlflowSettings,
    approved: ModelVersionInfo,
    tmp_path: Path,
) -> None:
    # a process (with a child) that never answers /ping
    script = (
        "import subprocess, sys, time; print('starting', flush=True); "
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']); time.sleep(600)"
    )
    monkeypatch.setattr(serving_module, "serve_command", lambda *a: [sys.executable, "-c", script])
    started = time.monotonic()
    # started as a CI agent or `nohup` would start us: SIGTERM ignored, which children inherit;
    # the server must still stop on the SIGTERM (not after the 20 s SIGKILL timeout)
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        with pytest.raises(ServingError, match=r"did not answer .*/ping within 1\.5 s") as info:
            start_server(
                approved.model_uri,
                ServingConfig(startup_timeout_s=1.5),
                settings=settings,
                log_path=tmp_path / "s.log",
            )
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert time.monotonic() - started < 15
    assert "starting" in (info.value.fix or "")
    pgid = info.value.context["pid"]
    assert isinstance(pgid, int)
    assert _group_gone(pgid)  # the child of the server died with it
