"""Promotion gates that could never reject a worse model are an error unless waived (reason)."""

from pathlib import Path
from typing import Any

import pytest

from mlops_assets.config.gate_checks import gate_problems
from mlops_assets.config.ml import GateConfig
from mlops_assets.config.project import load_project
from mlops_assets.ml.gates import decide
from mlops_assets_tests.config.config_helpers import (
    environ_for,
    line_of,
    load_error,
    load_use_case,
    only_problem,
    write_use_case,
)

TERRIBLE = {"roc_auc": 0.31, "f1": 0.02}
CHAMPION = {"roc_auc": 0.85, "f1": 0.60}


def _gates(**values: Any) -> GateConfig:
    return GateConfig.model_validate({"primary_metric": "roc_auc", **values})


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"min_improvement": -0.02},
        {"thresholds": [{"metric": "roc_auc", "min": 0.0}]},  # no ROC AUC is below 0
        {"thresholds": [{"metric": "roc_auc", "max": 0.99}]},  # a ceiling rejects no worse model
        {"max_degradation": {"roc_auc": 1.0}},  # ROC AUC cannot lose more than 1
        {"mode": "dry_run"},
    ],
)
def test_gates_that_accept_any_model_are_found(values: dict[str, Any]) -> None:
    gates = _gates(**values)
    (problem,) = gate_problems(gates)
    assert problem.loc == ()
    assert "can never reject a worse model" in problem.message
    assert "allow_any_model" in problem.fix
    # what the gate code really decides with them: a terrible first model passes
    assert decide(TERRIBLE, None, gates).passed


@pytest.mark.parametrize(
    "values",
    [
        {"thresholds": [{"metric": "roc_auc", "min": 0.7}]},
        {"thresholds": [{"metric": "log_loss", "max": 0.6}], "primary_metric": "log_loss"},
        {"min_improvement": 0.001},
        {"max_degradation": {"f1": 0.05}},
        {"mode": "disabled"},  # never promotes anything
        {"allow_any_model": {"reason": "exploratory project: every model is reviewed by hand"}},
    ],
)
def test_gates_that_can_reject_or_are_waived_pass(values: dict[str, Any]) -> None:
    assert gate_problems(_gates(**values)) == []


def test_a_passing_gate_really_rejects_a_worse_model() -> None:
    gates = _gates(thresholds=[{"metric": "roc_auc", "min": 0.7}])
    assert not decide(TERRIBLE, None, gates).passed
    assert not decide(TERRIBLE, CHAMPION, gates).passed


def test_a_threshold_that_can_never_be_met_is_found() -> None:
    gates = _gates(thresholds=[{"metric": "f1", "min": 1.5}, {"metric": "roc_auc", "min": 0.7}])
    (problem,) = gate_problems(gates)
    assert problem.loc == ("thresholds", 0)
    assert "can never be met" in problem.message
    assert not decide({"roc_auc": 0.99, "f1": 0.99}, None, gates).passed


def test_a_waiver_needs_a_reason() -> None:
    with pytest.raises(ValueError, match="reason"):
        _gates(allow_any_model={})
    with pytest.raises(ValueError, match="pattern"):
        _gates(allow_any_model={"reason": "   "})


def test_the_use_case_refuses_gates_without_teeth(configs_copy: Path, data_dir: Path) -> None:
    data = load_use_case(configs_copy)
    gates = data["model"]["gates"]
    gates.update(thresholds=[], min_improvement=-0.01, max_degradation={})
    path = write_use_case(configs_copy, data)
    problem = only_problem(load_error(configs_copy, data_dir))
    assert problem.key_path == "model.gates"
    assert problem.line == line_of(path, "gates:")
    assert "min_improvement is -0.01" in problem.message

    gates["allow_any_model"] = {"reason": "shadow deployment, promotions are reviewed"}
    write_use_case(configs_copy, data)
    uc = load_project(configs_copy, environ=environ_for(data_dir)).use_case("churn")
    assert uc.model is not None and uc.model.gates.allow_any_model is not None
