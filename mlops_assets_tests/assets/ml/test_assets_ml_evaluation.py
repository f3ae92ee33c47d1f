"""Evaluation and promotion: challenger vs @champion on the same rows, gate modes, weak models."""

import json
from pathlib import Path

import dagster as dg
import pytest

from mlops_assets_tests.assets.ml.conftest import WEAK_PARAMS, Retrained, retrain, weak_run_config
from mlops_assets_tests.assets.ml.lifecycle_helpers import (
    CHAMPION_KEY,
    EVALUATION_KEY,
    MODEL,
    MODEL_KEY,
    TrainedBase,
    check_results,
    copy_base,
    copy_data_dir,
    defs_for,
    metadata,
    run_job,
    step_error,
)
from mlops_assets_tests.assets.ml.registry_helpers import (
    alias_version,
    client,
    held_out,
    latest_version,
    load_model,
    model_config,
    roc_auc,
)


def _state(data_dir: Path, name: str) -> dict[str, object]:
    """A JSON state file written by the state IO manager (evaluation, champion)."""
    path = data_dir / "state" / "churn" / "models" / f"{name}.json"
    loaded: dict[str, object] = json.loads(path.read_text())
    return loaded


@pytest.fixture(scope="module")
def weak_challenger(
    trained_base: TrainedBase, tmp_path_factory: pytest.TempPathFactory
) -> Retrained:
    """The training job with the launchpad params override that makes the model useless."""
    data_dir = copy_base(trained_base, tmp_path_factory.mktemp("weak"))
    return retrain(
        data_dir, rebuild_training_set=True, run_config=weak_run_config("weak on purpose")
    )


def test_launchpad_params_override_changes_the_estimator(weak_challenger: Retrained) -> None:
    config = model_config()
    data_dir = weak_challenger.data_dir
    version = client(data_dir).get_model_version(MODEL, "2")
    assert version.run_id is not None
    run = client(data_dir).get_run(version.run_id)
    expected = {**config.flavor.params, **WEAK_PARAMS}
    for name, value in expected.items():
        assert run.data.params[name] == str(value)
    assert run.data.tags["mlops.reason"] == "weak on purpose"
    assert json.loads(metadata(weak_challenger.result, MODEL_KEY)["params"]) == expected
    # the estimator inside the registered model really has them
    estimator = load_model(data_dir, "2").get_raw_model()  # type: ignore[no-untyped-call]
    estimator = estimator.named_steps["model"]
    for name, value in WEAK_PARAMS.items():
        assert getattr(estimator, name) == value


def test_weak_challenger_is_rejected_and_the_champion_stays(weak_challenger: Retrained) -> None:
    data_dir = weak_challenger.data_dir
    evaluation = weak_challenger.evaluation
    assert evaluation["challenger_version"] == 2
    assert evaluation["champion_version"] == "1"
    assert evaluation["decision"] == "reject"
    gate = check_results(weak_challenger.result, EVALUATION_KEY)["promotion_gate"]
    assert not gate.passed
    assert gate.severity.value == "WARN"
    # the decision and its reasons are on the model version ...
    version = client(data_dir).get_model_version(MODEL, "2")
    assert version.tags["gate.action"] == "reject"
    assert version.tags["gate.passed"] == "false"
    # a constant model: worse ROC AUC and no positive prediction at all (F1 0)
    assert "roc_auc worsens" in version.tags["gate.reasons"]
    assert "f1 goes from" in version.tags["gate.reasons"]
    description = version.description or ""
    assert "Gate decision" in description and "reject" in description
    # ... and in the champion state, while @champion still points at v1
    champion = _state(data_dir, "champion")
    assert champion["champion_version"] == "1"
    assert champion["promoted"] is False
    assert str(champion["reason"]).startswith("kept the champion (reject, mode enabled)")
    assert weak_challenger.champion["promoted"] is False
    assert alias_version(data_dir) == "1"
    assert alias_version(data_dir, "challenger") == "1"  # still the last promoted candidate


def test_challenger_and_champion_are_scored_on_the_same_held_out_rows(
    weak_challenger: Retrained,
) -> None:
    data_dir = weak_challenger.data_dir
    report = _state(data_dir, "evaluation")
    test = held_out(data_dir)  # the rebuilt training set, days 1-10
    assert report["n_test"] == test.height
    challenger = report["challenger_metrics"]
    champion = report["champion_metrics"]
    assert isinstance(challenger, dict) and isinstance(champion, dict)
    assert challenger["roc_auc"] == pytest.approx(roc_auc(data_dir, "2", test), abs=1e-9)
    assert champion["roc_auc"] == pytest.approx(roc_auc(data_dir, "1", test), abs=1e-9)
    assert challenger["roc_auc"] == pytest.approx(0.5)  # the constant model


def test_retrained_challenger_is_compared_with_the_champion_and_promoted(
    promoted_copy: Retrained,
) -> None:
    data_dir = promoted_copy.data_dir
    evaluation = promoted_copy.evaluation
    assert evaluation["challenger_version"] == 2
    assert evaluation["champion_version"] == "1"
    assert evaluation["decision"] == "promote"
    report = _state(data_dir, "evaluation")
    # same rows, same seed, same parameters: the challenger ties the champion exactly
    assert report["challenger_metrics"] == report["champion_metrics"]
    assert alias_version(data_dir) == "2"
    assert alias_version(data_dir, "previous_champion") == "1"
    champion = _state(data_dir, "champion")
    assert champion["champion_version"] == "2"
    assert champion["previous_champion"] == "1"
    assert champion["promoted"] is True


def test_re_evaluating_the_current_champion_keeps_it(
    promoted_copy: Retrained, tmp_path: Path
) -> None:
    data_dir = copy_data_dir(promoted_copy.data_dir, tmp_path)
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_job(
            defs_for(data_dir),
            "churn_training",
            instance,
            asset_selection=[EVALUATION_KEY, CHAMPION_KEY],
        )
    assert result.success, step_error(result)
    assert alias_version(data_dir) == "2"
    champion = metadata(result, CHAMPION_KEY)
    assert champion["champion_version"] == "2"
    assert champion["promoted"] is False
    assert str(champion["reason"]).startswith("v2 already is the champion")


@pytest.mark.parametrize(
    ("mode", "would_promote", "reason_start"),
    [
        ("dry_run", "true", "dry run: would promote (skip, mode dry_run)"),
        ("disabled", "false", "kept the champion (skip, mode disabled)"),
    ],
)
def test_gate_modes_record_the_decision_without_moving_aliases(
    trained_base: TrainedBase, tmp_path: Path, mode: str, would_promote: str, reason_start: str
) -> None:
    data_dir = copy_base(trained_base, tmp_path)
    # a retrain on the stored rows ties the champion: it would pass every gate check
    retrained = retrain(data_dir, env={"MLOPS_GATE_MODE": mode})
    assert retrained.evaluation["gate_mode"] == mode
    assert retrained.evaluation["gate_passed"] is True
    assert retrained.evaluation["decision"] == "skip"
    assert latest_version(data_dir) == "2"
    assert alias_version(data_dir) == "1"
    assert alias_version(data_dir, "challenger") == "1"  # not moved to v2
    tags = client(data_dir).get_model_version(MODEL, "2").tags
    assert tags["gate.mode"] == mode
    assert tags["gate.action"] == "skip"
    assert tags["gate.would_promote"] == would_promote
    champion = _state(data_dir, "champion")
    assert champion["champion_version"] == "1"
    assert champion["promoted"] is False
    assert str(champion["reason"]).startswith(reason_start)


def test_first_model_failing_the_thresholds_is_not_promoted(no_champion_copy: Retrained) -> None:
    data_dir = no_champion_copy.data_dir
    config = model_config()
    evaluation = no_champion_copy.evaluation
    assert evaluation["challenger_version"] == 1
    assert evaluation["champion_version"] == "none"
    assert evaluation["decision"] == "reject"
    (threshold,) = config.gates.thresholds
    assert threshold.min is not None
    assert evaluation[f"test_{threshold.metric}"] < threshold.min
    tags = client(data_dir).get_model_version(MODEL, "1").tags
    assert tags["gate.first_model"] == "true"
    assert f"is below the minimum {threshold.min:.4f}" in tags["gate.reasons"]
    assert alias_version(data_dir) is None
    champion = _state(data_dir, "champion")
    assert champion["champion_version"] is None
    assert champion["champion_uri"] is None
