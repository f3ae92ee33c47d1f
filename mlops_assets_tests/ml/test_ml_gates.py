"""Gate decisions, from real held-out metrics of real models and from edge-case numbers."""

import re
from pathlib import Path

import polars as pl
import pytest

from mlops_assets.config.ml import GateConfig
from mlops_assets.ml.evaluation import evaluate_model
from mlops_assets.ml.gates import decide
from mlops_assets.ml.model_store import log_and_register
from mlops_assets.ml.tracking import MlflowSettings, RunTags, start_run
from mlops_assets.ml.training import TrainingResult
from mlops_assets_tests.ml.conftest import model_config

TAGS = RunTags(dagster_run_id="run-gates", asset_key="churn/model/gates")


@pytest.fixture(scope="module")
def real_metrics(
    churn_splits: dict[str, pl.DataFrame],
    sqlite_store: tuple[str, Path],
    good_result: TrainingResult,
    weak_result: TrainingResult,
) -> dict[str, dict[str, float]]:
    """Held-out metrics of a registered gradient-boosting model and of a prior-only model."""
    uri, artifacts = sqlite_store
    settings = MlflowSettings(
        tracking_uri=uri, experiment_name="gates", artifact_location=(artifacts / "gates").as_uri()
    )
    model_name = "gates_model"
    metrics = {}
    for label, result in (("good", good_result), ("weak", weak_result)):
        config = model_config()
        with start_run(settings, label, TAGS):
            info = log_and_register(
                result, config, settings, churn_splits["train"], registered_name=model_name
            )
            metrics[label] = evaluate_model(info.model_uri, churn_splits["test"], config).metrics
    return metrics


def _gates(**kw: object) -> GateConfig:
    return GateConfig.model_validate(
        {"primary_metric": "roc_auc", "thresholds": [{"metric": "roc_auc", "min": 0.6}], **kw}
    )


def test_ml_gates_good_challenger_replaces_weak_champion(
    real_metrics: dict[str, dict[str, float]],
) -> None:
    good, weak = real_metrics["good"], real_metrics["weak"]
    decision = decide(good, weak, _gates(max_degradation={"log_loss": 0.0}))
    assert decision.passed and decision.action == "promote" and decision.would_promote
    improvement = next(c for c in decision.checks if c.name == "min_improvement")
    assert improvement.challenger == good["roc_auc"] and improvement.champion == weak["roc_auc"]
    assert f"from {weak['roc_auc']:.4f} to {good['roc_auc']:.4f}" in improvement.message


def test_ml_gates_weak_challenger_is_rejected_with_reasons(
    real_metrics: dict[str, dict[str, float]],
) -> None:
    good, weak = real_metrics["good"], real_metrics["weak"]
    decision = decide(weak, good, _gates(max_degradation={"accuracy": 0.01}))
    assert not decision.passed and decision.action == "reject" and not decision.would_promote
    failed = {c.name for c in decision.checks if not c.passed}
    assert failed == {"threshold_min", "min_improvement", "max_degradation"}
    assert f"roc_auc = {weak['roc_auc']:.4f} is below the minimum 0.6000." in decision.reasons
    for reason in decision.reasons:  # full sentences with numbers
        assert reason.endswith(".") and re.search(r"\d", reason)


def test_ml_gates_first_model_must_pass_the_thresholds(
    real_metrics: dict[str, dict[str, float]],
) -> None:
    first_good = decide(real_metrics["good"], None, _gates())
    assert first_good.first_model and first_good.action == "promote"
    assert [c.name for c in first_good.checks] == ["threshold_min"]
    first_weak = decide(real_metrics["weak"], None, _gates())
    assert first_weak.first_model and first_weak.action == "reject"
    assert any("There is no champion" in r for r in first_weak.reasons)


def test_ml_gates_dry_run_and_disabled_never_promote(
    real_metrics: dict[str, dict[str, float]],
) -> None:
    good, weak = real_metrics["good"], real_metrics["weak"]
    dry = decide(good, weak, _gates(mode="dry_run"))
    assert (dry.passed, dry.action, dry.would_promote) == (True, "skip", True)
    assert "would be promoted" in dry.reasons[0]
    dry_reject = decide(weak, good, _gates(mode="dry_run"))
    assert (dry_reject.action, dry_reject.would_promote) == ("skip", False)
    assert "would be rejected" in dry_reject.reasons[0]
    disabled = decide(good, weak, _gates(mode="disabled"))
    assert (disabled.action, disabled.would_promote) == ("skip", False)
    assert "disabled" in disabled.reasons[0]


def test_ml_gates_directions_and_tolerances() -> None:
    gates = GateConfig(
        primary_metric="log_loss", min_improvement=0.01, max_degradation={"f1": 0.02}
    )
    # log_loss is lower-is-better: 0.50 -> 0.48 is an improvement of 0.02 >= 0.01
    better = decide({"log_loss": 0.48, "f1": 0.70}, {"log_loss": 0.50, "f1": 0.71}, gates)
    assert better.action == "promote"
    # improvement of only 0.005, and f1 dropping by 0.03 > 0.02
    worse = decide({"log_loss": 0.495, "f1": 0.68}, {"log_loss": 0.50, "f1": 0.71}, gates)
    assert [c.passed for c in worse.checks] == [False, False]
    tolerant = GateConfig(primary_metric="roc_auc", min_improvement=-0.01)
    assert decide({"roc_auc": 0.795}, {"roc_auc": 0.80}, tolerant).action == "promote"


def test_ml_gates_missing_or_nan_metrics_fail_safely() -> None:
    gates = GateConfig.model_validate(
        {"primary_metric": "roc_auc", "thresholds": [{"metric": "f1", "min": 0.1, "max": 0.9}]}
    )
    decision = decide({"roc_auc": float("nan")}, {"roc_auc": 0.7}, gates)
    assert decision.action == "reject"
    assert all(not c.passed for c in decision.checks)
    assert len(decision.checks) == 3  # f1 min, f1 max, improvement
    assert "no value for f1" in decision.checks[0].message


def test_ml_gates_exactly_meeting_a_margin_passes_despite_float_rounding() -> None:
    """0.82 - 0.81 is 0.00999...98 in floats: one point of accuracy on 100 rows must still meet
    a required improvement (and a degradation allowance) of exactly 0.01."""
    at_81, at_82, at_80 = 81 / 100, 82 / 100, 80 / 100  # what accuracy_score returns
    improve = GateConfig(primary_metric="accuracy", min_improvement=0.01)
    better = decide({"accuracy": at_82}, {"accuracy": at_81}, improve)
    assert better.action == "promote", better.reasons
    assert "meeting the required improvement of +0.0100" in better.checks[0].message
    allow = GateConfig(
        primary_metric="roc_auc", min_improvement=-1.0, max_degradation={"accuracy": 0.01}
    )
    worse = decide({"roc_auc": 0.8, "accuracy": at_80}, {"roc_auc": 0.8, "accuracy": at_81}, allow)
    assert worse.action == "promote", worse.reasons
    assert "within the allowed 0.0100" in worse.checks[1].message
    # a real shortfall is still refused, on large-valued (regression) metrics too
    assert decide({"accuracy": 0.8199}, {"accuracy": at_81}, improve).action == "reject"
    rmse = GateConfig(primary_metric="rmse", min_improvement=0.01)
    assert decide({"rmse": 1000.0}, {"rmse": 1000.01}, rmse).action == "promote"
    assert decide({"rmse": 1000.0}, {"rmse": 1000.0099}, rmse).action == "reject"
