"""Deployment: a real ``mlflow models serve`` process, smoke-tested, stopped or kept running."""

import contextlib
import json
import os
import re
import signal
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import mlflow
import numpy as np
import pytest
from mlflow.models import Model

from mlops_assets.resources.serving import EndpointState
from mlops_assets_tests.assets.ml.conftest import Retrained
from mlops_assets_tests.assets.ml.lifecycle_helpers import (
    ENDPOINT_KEY,
    FEATURES_KEY,
    MODEL,
    TrainedBase,
    copy_base,
    defs_for,
    metadata,
    process_running,
    read_lake,
    run_job,
    step_error,
)
from mlops_assets_tests.assets.ml.registry_helpers import (
    churn_probability,
    load_model,
    tracking_uri,
)

# polars dtype to build for each MLflow signature type
_CASTS = {"double": "Float64", "long": "Int64", "string": "String", "boolean": "Boolean"}


def _state(data_dir: Path) -> EndpointState:
    return EndpointState.model_validate_json(
        (data_dir / "serving" / f"{MODEL}.json").read_text(encoding="utf-8")
    )


def _served_and_shut_down(log: Path, timeout_s: float = 30.0) -> int:
    """The uvicorn process id of a deployment's log, once it logged an answer and its shutdown.

    A stopped server writes its last lines while it exits: poll the log until they are there.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        text = log.read_text(errors="replace") if log.exists() else ""
        started = re.search(r"Started server process \[(\d+)\]", text)
        if (
            started
            and '"POST /invocations HTTP/1.1" 200' in text
            and f"Finished server process [{started.group(1)}]" in text
        ):
            return int(started.group(1))
        if time.monotonic() > deadline:
            pytest.fail(
                f"{log} shows no served request and shutdown after {timeout_s:g} s:\n{text[-2000:]}"
            )
        time.sleep(0.2)


def _invocation_body(data_dir: Path, day: str, version: str) -> tuple[str, Any]:
    """A /invocations request built from the model signature, with real feature rows."""
    import polars as pl

    uri = tracking_uri(data_dir)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    signature = Model.load(f"models:/{MODEL}/{version}").signature
    assert signature is not None
    rows = read_lake(data_dir, FEATURES_KEY, day).head(7)
    inputs = signature.inputs.inputs
    frame = rows.select(*[pl.col(s.name).cast(getattr(pl, _CASTS[s.type.name])) for s in inputs])
    body = json.dumps(
        {"dataframe_split": {"columns": frame.columns, "data": frame.rows()}}, default=str
    )
    return body, rows


def _post(url: str, body: str) -> list[list[float]]:
    request = urllib.request.Request(
        f"{url}/invocations",
        data=body.encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        predictions: list[list[float]] = json.loads(response.read())["predictions"]
    return predictions


def _stop(pid: int) -> None:
    """Stop a server this test process started (SIGTERM its group, reap it, SIGKILL if stuck)."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    if not _wait_gone(pid, timeout_s=10):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        _wait_gone(pid, timeout_s=5)


def _wait_gone(pid: int, timeout_s: float) -> bool:
    """Wait for ``pid`` to exit (reaping it when it is our child); whether it is gone."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        if not process_running(pid):
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def started_pids() -> Iterator[list[int]]:
    """Servers a test left running on purpose: stopped at teardown whatever happened."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        _stop(pid)


def test_endpoints_answer_and_are_stopped_when_replaced_or_not_kept(
    trained_base: TrainedBase, tmp_path: Path, started_pids: list[int]
) -> None:
    data_dir = copy_base(trained_base, tmp_path)
    kept, not_kept = defs_for(data_dir, keep_serving=True), defs_for(data_dir, keep_serving=False)
    day = trained_base.days[5]
    # The step must use the resource's registry, not whatever this process used last.
    elsewhere = f"sqlite:///{tmp_path / 'missing' / 'elsewhere.db'}"
    mlflow.set_tracking_uri(elsewhere)
    mlflow.set_registry_uri(elsewhere)
    with dg.DagsterInstance.ephemeral() as instance:
        # 1. kept running: the endpoint answers a request built from the model signature
        first = run_job(kept, "churn_deployment", instance)
        assert first.success, step_error(first)
        state = _state(data_dir)
        assert state.running and state.url is not None and state.pid is not None
        started_pids.append(state.pid)
        assert metadata(first, ENDPOINT_KEY)["endpoint"] == f"{state.url}/invocations"
        assert process_running(state.pid)
        body, rows = _invocation_body(data_dir, day, "1")
        answered = np.asarray(_post(state.url, body))
        assert answered.shape == (rows.height, 2)
        np.testing.assert_allclose(answered.sum(axis=1), 1.0)
        local = load_model(data_dir, "1")
        np.testing.assert_allclose(answered[:, 1], churn_probability(local, rows), atol=1e-9)

        # 2. re-deploying starts a new server, then stops the previous one
        second = run_job(kept, "churn_deployment", instance)
        assert second.success, step_error(second)
        replaced = _state(data_dir)
        assert replaced.running and replaced.url is not None and replaced.pid is not None
        started_pids.append(replaced.pid)
        assert replaced.pid != state.pid
        assert _wait_gone(state.pid, timeout_s=15)
        assert np.asarray(_post(replaced.url, body)).shape == (rows.height, 2)

        # 3. not kept: smoke test, then stop it (and the endpoint it replaces): nothing left
        third = run_job(not_kept, "churn_deployment", instance)
        assert third.success, step_error(third)
    final = _state(data_dir)
    assert (final.model_version, final.running, final.url, final.pid) == ("1", False, None, None)
    meta = metadata(third, ENDPOINT_KEY)
    assert meta["endpoint"] == "stopped after the smoke test"
    assert meta["model_version"] == 1
    # the served version links to its page in the MLflow UI, like the other model assets
    assert str(meta["served_model_version"]).endswith(f"/#/models/{MODEL}/versions/1")
    assert _wait_gone(replaced.pid, timeout_s=15)
    # the smoke test sent the model's input example; the answer is that model's P(churn)
    example = local.input_example
    assert example is not None
    expected = np.asarray(local.predict(example))[:, 1]
    assert meta["smoke_test_rows"] == len(expected) == len(final.smoke_test_predictions)
    np.testing.assert_allclose(final.smoke_test_predictions, expected, atol=1e-9)
    # each deployment has its own server log: every server answered and logged its shutdown
    logs = [s.log_path for s in (state, replaced, final)]
    assert all(logs) and len(set(logs)) == 3
    assert meta["server_log"] == final.log_path
    pids = [_served_and_shut_down(Path(str(log))) for log in logs]
    assert len(set(pids)) == 3
    assert all(_wait_gone(pid, timeout_s=15) for pid in pids)


def test_deploying_without_a_champion_is_a_serving_error(no_champion_copy: Retrained) -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_job(defs_for(no_champion_copy.data_dir), "churn_deployment", instance)
    assert not result.success
    cls, message = step_error(result)
    assert cls == "ServingError"
    assert "no @champion" in message
    assert not (no_champion_copy.data_dir / "serving" / f"{MODEL}.json").exists()
