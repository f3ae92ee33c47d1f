"""`mlops-assets serve`: a real `mlflow models serve` behind the command; an example request with
a labelled answer; one SIGTERM stops the command and every process it started."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlops_assets.assets.ml.common import registered_name
from mlops_assets.cli.instance import process_alive
from mlops_assets.cli.serve import label_predictions
from mlops_assets.config.project import load_project
from mlops_assets.ml.gates import decide
from mlops_assets.ml.model_store import log_and_register
from mlops_assets.ml.registry import Registry
from mlops_assets.ml.split import split_frame
from mlops_assets.ml.tracking import RunTags, configure, start_run
from mlops_assets.ml.training import train_model
from mlops_assets.resources.factory import build_resources
from mlops_assets.resources.mlflow import MlflowResource
from mlops_assets_tests.conftest import CONFIGS_DIR, REPO_ROOT
from mlops_assets_tests.ml.conftest import make_churn_frame, model_config
from mlops_assets_tests.process_output import OutputLines

READY = "Ctrl-C or SIGTERM stops the server."


def _descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (from /proc's parent links)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def test_answers_are_labelled_with_the_label_and_positive_class() -> None:
    uc = load_project(CONFIGS_DIR, environ={}).use_case("churn")
    lines = label_predictions(uc, [[0.75, 0.25], [0.1, 0.9]])
    assert lines == ["row 1: P(churn=Yes) = 0.250", "row 2: P(churn=Yes) = 0.900"]


def test_a_multiclass_answer_names_its_predicted_class() -> None:
    uc = load_project(CONFIGS_DIR, environ={}).use_case("churn")
    assert uc.model is not None
    uc = uc.model_copy(update={"model": uc.model.model_copy(update={"task": "multiclass"})})
    answers = [[0.1, 0.3, 0.6], [0.5, 0.25, 0.25]]
    lines = label_predictions(uc, answers, ["none", "minor", "major"])
    assert lines == [
        "row 1: predicted churn = major (P(none) = 0.100, P(minor) = 0.300, P(major) = 0.600)",
        "row 2: predicted churn = none (P(none) = 0.500, P(minor) = 0.250, P(major) = 0.250)",
    ]
    # without the model's labels (or with labels that do not fit), classes are numbered
    assert label_predictions(uc, answers[:1], None) == label_predictions(uc, answers[:1], ["a"])
    assert label_predictions(uc, answers[:1]) == [
        "row 1: P(class 0) = 0.100, P(class 1) = 0.300, P(class 2) = 0.600"
    ]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_serve_prints_a_curl_example_and_one_sigterm_stops_every_child(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("MLOPS_ENV", "MLOPS_CONFIG_DIR")},
        "MLOPS_DATA_DIR": str(tmp_path / "data"),
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
    project = load_project(CONFIGS_DIR, environ=env)
    uc = project.use_case("churn")
    resource = build_resources(project)["mlflow"]
    assert isinstance(resource, MlflowResource)
    settings = resource.settings(uc.name)
    configure(settings)
    config = model_config()
    splits = split_frame(make_churn_frame(800), "customer_id", config.split)
    result = train_model(splits["train"], splits["validation"], config)
    tags = RunTags(dagster_run_id="run-serve-cli", asset_key="churn/serving")
    with start_run(settings, "register", tags):
        info = log_and_register(
            result, config, settings, splits["train"], registered_name=registered_name(uc)
        )
    metrics = {"roc_auc": 0.8, "accuracy": 0.75}
    Registry(settings, lock_dir=resource.locks).record_decision(
        info.name, info.version, decide(metrics, None, config.gates), metrics
    )

    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlops_assets.cli",
            "serve",
            "--version",
            info.version,
            "--port",
            "0",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output = OutputLines(proc)
        out = output.until(READY, seconds=300)
        assert "curl -s -X POST http://127.0.0.1:" in out
        assert "'Content-Type: application/json'" in out and "dataframe_split" in out
        assert "row 1: P(churn=Yes) = 0." in out
        children = _descendants(proc.pid)
        assert children, "the model server runs as a child of the command"

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=120) == 0
        deadline = time.monotonic() + 60
        while (alive := {p for p in children if process_alive(p)}) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not alive, f"processes outlived SIGTERM to serve: {sorted(alive)}"
        assert "stopped: the model server and its workers are gone" in output.rest(60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
