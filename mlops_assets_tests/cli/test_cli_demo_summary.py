"""The demo's printed summary names what the endpoint's smoke test answered, per task."""

from pathlib import Path

import pytest

from mlops_assets.cli.demo_summary import _model_summary
from mlops_assets.config.project import load_project
from mlops_assets.resources.serving import EndpointState, served_score
from mlops_assets.storage.lakehouse import LocalLakehouse
from mlops_assets.storage.tables import UseCaseTables
from mlops_assets_tests.conftest import CONFIGS_DIR


@pytest.mark.parametrize(
    ("use_case", "task", "answers", "shown"),
    [
        ("churn", "binary", [[0.75, 0.25], [0.1, 0.9]], "P(churn=Yes) = 0.25, 0.90"),
        (
            "churn",
            "multiclass",
            [[0.2, 0.5, 0.3], [0.7, 0.1, 0.2]],
            "P(predicted churn) = 0.50, 0.70",
        ),
        ("churn", "multiclass", [[0.8, 0.2]], "P(predicted churn) = 0.80"),
        (
            "housing",
            "regression",
            [181250.0, 99000.5],
            "predicted sale_price = 181250.00, 99000.50",
        ),
    ],
)
def test_the_served_answer_is_named_after_the_label_and_task(
    tmp_path: Path, use_case: str, task: str, answers: list[object], shown: str
) -> None:
    uc = load_project(CONFIGS_DIR, environ={}).use_case(use_case)
    assert uc.model is not None
    model = uc.model.model_copy(update={"task": task})
    uc = uc.model_copy(update={"model": model})
    names, lake = UseCaseTables(uc), LocalLakehouse(tmp_path)
    state = EndpointState(
        model_name="m",
        model_version="2",
        model_uri="models:/m/2",
        url=None,
        pid=None,
        running=False,
        smoke_test_latency_ms=12.0,
        smoke_test_predictions=[served_score(a, model.task) for a in answers],
    )
    path = lake.state_path(names.endpoint)
    path.parent.mkdir(parents=True)
    path.write_text(state.model_dump_json(), encoding="utf-8")
    lines = _model_summary(lake, names)
    assert lines == [f"  served v2: smoke test answered in 12 ms, {shown}"]
