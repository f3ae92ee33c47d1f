"""The serving resource: endpoint state written atomically, one server log per deployment."""

import threading
import time
from pathlib import Path

from pydantic import ValidationError

from mlops_assets.resources.serving import EndpointState, LocalServingResource

MODEL = "churn_classifier"


def _state(version: str, n: int) -> EndpointState:
    return EndpointState(
        model_name=MODEL,
        model_version=version,
        model_uri=f"models:/{MODEL}/{version}",
        url="http://127.0.0.1:5001",
        pid=1234,
        running=True,
        smoke_test_latency_ms=12.5,
        smoke_test_predictions=[i / n for i in range(n)],
        log_path=None,
    )


def test_state_round_trips_and_a_missing_state_is_none(tmp_path: Path) -> None:
    serving = LocalServingResource(state_dir=str(tmp_path / "serving"))
    assert serving.read_state(MODEL) is None
    state = _state("3", 5)
    serving.write_state(state)
    assert serving.read_state(MODEL) == state
    assert [p.name for p in (tmp_path / "serving").iterdir()] == [f"{MODEL}.json"]


def test_readers_never_see_a_half_written_state(tmp_path: Path) -> None:
    serving = LocalServingResource(state_dir=str(tmp_path / "serving"))
    # large states, alternating in size: a torn or truncated file would not validate
    states = [_state("1", 40_000), _state("2", 400)]
    serving.write_state(states[0])
    problems: list[str] = []
    reads = 0
    done = threading.Event()

    def read() -> None:
        nonlocal reads
        while not done.is_set():
            try:
                found = serving.read_state(MODEL)
            except (ValidationError, ValueError) as exc:
                problems.append(f"{type(exc).__name__}: {str(exc)[:200]}")
                continue
            if found not in states:
                problems.append(f"unexpected state: {found!r:.200}")
            reads += 1

    reader = threading.Thread(target=read)
    reader.start()
    deadline = time.monotonic() + 60
    try:
        for i in range(200):
            serving.write_state(states[i % 2])
            if time.monotonic() > deadline:
                break
    finally:
        done.set()
        reader.join(timeout=30)
    assert not reader.is_alive(), "the reader thread did not stop"
    assert reads > 0, "the reader never got to read"
    assert problems == []
    assert [p.name for p in (tmp_path / "serving").iterdir()] == [f"{MODEL}.json"]  # no temp


def test_each_deployment_logs_to_its_own_file(tmp_path: Path) -> None:
    serving = LocalServingResource(state_dir=str(tmp_path))
    first, second = (serving.log_path(MODEL, "1", run) for run in ("a1b2c3d4", "e5f6a7b8"))
    assert first != second
    assert first.parent == second.parent == tmp_path
    assert first.name == f"{MODEL}-v1-a1b2c3d4.log"
