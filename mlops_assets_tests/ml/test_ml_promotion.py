"""Evaluation reports and champion decisions against a real SQLite MLflow registry."""

from datetime import UTC, datetime
from pathlib import Path

import narwhals as nw
import numpy as np
import polars as pl
import pytest
from sklearn.metrics import roc_auc_score

from mlops_assets.errors import PromotionError
from mlops_assets.ml.decisions import EvaluationReport
from mlops_assets.ml.frames import feature_frame
from mlops_assets.ml.gates import decide
from mlops_assets.ml.model_store import ModelVersionInfo, log_and_register
from mlops_assets.ml.promotion import (
    apply_promotion,
    decide_champion,
    evaluate_challenger,
    should_promote,
)
from mlops_assets.ml.registry import (
    CHAMPION,
    PREVIOUS_CHAMPION,
    PromotionResult,
    Registry,
    gate_metrics,
)
from mlops_assets.ml.tracking import MlflowSettings, RunTags, start_run
from mlops_assets.ml.training import TrainingResult
from mlops_assets_tests.ml.conftest import model_config

TAGS = RunTags(dagster_run_id="run-promotion", asset_key="churn/models/evaluation")


def _register(settings: MlflowSettings, result: TrainingResult, name: str) -> ModelVersionInfo:
    with start_run(settings, "train", TAGS):
        return log_and_register(
            result, model_config(), settings, pl.DataFrame(_example()), registered_name=name
        )


def _example() -> dict[str, list[object]]:
    return {
        "tenure_months": [3.0, 40.0],
        "monthly_charges": [99.5, 20.0],
        "support_calls": [4, 0],
        "contract": ["month", "two_year"],
        "region": ["north", "east"],
    }


def _roc_auc(result: TrainingResult, test: pl.DataFrame) -> float:
    """ROC AUC of the fitted pipeline on ``test``, computed here with scikit-learn."""
    y = (test["churn"] == "Yes").to_numpy()
    scores = np.asarray(result.pipeline.predict_proba(feature_frame(test, model_config())))
    return float(roc_auc_score(y, scores[:, 1]))


def _alias(registry: Registry, name: str, alias: str = CHAMPION) -> str | None:
    found = registry.alias_version(name, alias)
    return None if found is None else found.version


@pytest.mark.slow
def test_ml_promotion_first_model_weak_challenger_and_re_evaluated_champion(
    settings: MlflowSettings,
    churn: pl.DataFrame,
    churn_splits: dict[str, pl.DataFrame],
    good_result: TrainingResult,
    weak_result: TrainingResult,
    model_name: str,
    tmp_path: Path,
) -> None:
    import mlflow

    config = model_config()
    registry = Registry(settings, lock_dir=tmp_path)
    test = churn_splits["test"]
    # the training set arrives lazy, with a column no model reads
    training_set = nw.from_native(churn.with_columns(payload=pl.lit("x" * 100)).lazy())

    # 1. the first model: no champion, thresholds only, promoted
    first = _register(settings, good_result, model_name)
    report = evaluate_challenger(registry, first, training_set, config, TAGS)
    assert (report.model_name, report.challenger_version) == (model_name, first.version)
    assert report.champion_version is None and report.champion_metrics is None
    assert report.decision.first_model and report.decision.action == "promote"
    assert report.n_test == test.height
    assert report.challenger_metrics["roc_auc"] == pytest.approx(
        _roc_auc(good_result, test), abs=1e-12
    )
    # the decision is on the version, its metrics read back through the one reader
    assert gate_metrics(registry.get_version(model_name, first.version)) == (
        report.challenger_metrics
    )
    run = mlflow.MlflowClient(settings.tracking_uri).get_run(report.mlflow_run_id)
    assert run.data.tags["dagster.run_id"] == TAGS.dagster_run_id
    assert run.data.metrics["test_roc_auc"] == report.challenger_metrics["roc_auc"]
    state = apply_promotion(registry, report)
    assert (state.champion_version, state.promoted, state.previous_champion) == (
        first.version,
        True,
        None,
    )
    assert state.champion_uri == f"models:/{model_name}@champion"
    assert _alias(registry, model_name) == first.version

    # 2. a weak challenger: compared with the champion on the same rows, rejected, kept
    weak = _register(settings, weak_result, model_name)
    rejected = evaluate_challenger(registry, weak, training_set, config, TAGS)
    assert rejected.champion_version == first.version
    assert rejected.champion_metrics == report.challenger_metrics  # same rows, same model
    assert rejected.decision.action == "reject"
    kept = apply_promotion(registry, rejected)
    assert (kept.champion_version, kept.promoted, kept.previous_champion) == (
        first.version,
        False,
        first.version,
    )
    assert kept.reason.startswith("kept the champion (reject, mode enabled): ")
    assert _alias(registry, model_name) == first.version

    # 3. re-evaluating the champion itself compares it with nothing and moves nothing
    again = evaluate_challenger(registry, first, training_set, config, TAGS)
    assert again.champion_version is None and again.decision.action == "promote"
    assert not should_promote(again, first.version)
    same = apply_promotion(registry, again)
    assert (same.champion_version, same.promoted) == (first.version, False)
    assert same.reason.startswith(f"v{first.version} already is the champion: ")
    assert _alias(registry, model_name) == first.version


@pytest.mark.slow
def test_ml_promotion_refuses_when_the_champion_changed_since_evaluation(
    settings: MlflowSettings,
    churn: pl.DataFrame,
    good_result: TrainingResult,
    model_name: str,
    tmp_path: Path,
) -> None:
    config = model_config()
    registry = Registry(settings, lock_dir=tmp_path)
    first = _register(settings, good_result, model_name)
    apply_promotion(registry, evaluate_challenger(registry, first, churn, config, TAGS))
    second, third = (_register(settings, good_result, model_name) for _ in range(2))
    report = evaluate_challenger(registry, third, churn, config, TAGS)
    assert report.champion_version == first.version and report.decision.action == "promote"
    registry.promote(model_name, second.version, expected_champion=first.version)  # meanwhile
    with pytest.raises(PromotionError, match="changed since evaluation"):
        apply_promotion(registry, report)
    assert _alias(registry, model_name) == second.version
    assert _alias(registry, model_name, PREVIOUS_CHAMPION) == first.version


def _report(mode: str, challenger: float, champion: float | None) -> EvaluationReport:
    gates = model_config(
        gates={
            "mode": mode,
            "primary_metric": "roc_auc",
            "thresholds": [{"metric": "roc_auc", "min": 0.6}],
        }
    ).gates
    metrics = {"roc_auc": challenger}
    base = None if champion is None else {"roc_auc": champion}
    return EvaluationReport(
        model_name="m",
        challenger_version="3",
        champion_version=None if champion is None else "2",
        challenger_metrics=metrics,
        champion_metrics=base,
        n_test=10,
        decision=decide(metrics, base, gates),
        mlflow_run_id="r",
    )


@pytest.mark.parametrize(
    ("mode", "challenger", "champion", "reason"),
    [
        ("enabled", 0.7, 0.8, "kept the champion (reject, mode enabled): "),
        ("dry_run", 0.9, 0.8, "dry run: would promote (skip, mode dry_run): "),
        ("dry_run", 0.7, 0.8, "kept the champion (skip, mode dry_run): "),
        ("disabled", 0.9, 0.8, "kept the champion (skip, mode disabled): "),
    ],
)
def test_ml_promotion_decide_champion_keeps_it_unless_enabled_gates_pass(
    mode: str, challenger: float, champion: float, reason: str
) -> None:
    report = _report(mode, challenger, champion)
    assert not should_promote(report, "2")
    state = decide_champion(report, "2")
    assert (state.champion_version, state.promoted, state.previous_champion) == ("2", False, "2")
    assert state.champion_uri == "models:/m@champion"
    assert state.reason == reason + " ".join(report.decision.reasons)


def test_ml_promotion_decide_champion_after_a_promotion() -> None:
    report = _report("enabled", 0.9, 0.8)
    assert report.decision.action == "promote"
    assert should_promote(report, "2")
    assert not should_promote(report, "3")  # already the champion
    moved = PromotionResult(
        name="m", version="3", previous_champion="2", changed=True, promoted_at=datetime.now(UTC)
    )
    state = decide_champion(report, "2", moved)
    assert (state.champion_version, state.promoted, state.previous_champion) == ("3", True, "2")
    assert state.reason == " ".join(report.decision.reasons)


def test_ml_promotion_rejected_first_model_leaves_no_champion() -> None:
    report = _report("enabled", 0.55, None)
    assert report.decision.action == "reject" and report.decision.first_model
    state = decide_champion(report, None)
    assert (state.champion_version, state.champion_uri, state.promoted) == (None, None, False)
    assert state.previous_champion is None


@pytest.mark.slow
def test_ml_promotion_an_edited_report_cannot_move_the_champion(
    settings: MlflowSettings,
    churn: pl.DataFrame,
    good_result: TrainingResult,
    weak_result: TrainingResult,
    model_name: str,
    tmp_path: Path,
) -> None:
    """The gate decision recorded on the version in MLflow is what promotes, not local state."""
    config = model_config()
    registry = Registry(settings, lock_dir=tmp_path)
    training_set = nw.from_native(churn.lazy())
    first = _register(settings, good_result, model_name)
    apply_promotion(registry, evaluate_challenger(registry, first, training_set, config, TAGS))
    weak = _register(settings, weak_result, model_name)
    rejected = evaluate_challenger(registry, weak, training_set, config, TAGS)
    assert rejected.decision.action == "reject"
    # someone edits the stored evaluation to say "promote"
    forged = rejected.model_copy(
        update={
            "decision": rejected.decision.model_copy(
                update={"action": "promote", "passed": True, "would_promote": True}
            )
        }
    )
    assert should_promote(forged, first.version)
    with pytest.raises(PromotionError) as info:
        apply_promotion(registry, forged)
    assert "'reject'" in str(info.value) and info.value.fix
    assert _alias(registry, model_name) == first.version  # @champion never moved


@pytest.mark.slow
@pytest.mark.parametrize(
    "gates",
    [
        {
            "mode": "dry_run",
            "primary_metric": "roc_auc",
            "thresholds": [{"metric": "roc_auc", "min": 0.6}],
        },
        {"primary_metric": "roc_auc", "thresholds": [{"metric": "roc_auc", "min": 0.999}]},
    ],
    ids=["dry_run", "threshold_missed"],
)
def test_ml_promotion_re_evaluating_the_champion_keeps_it_approved(
    gates: dict[str, object],
    settings: MlflowSettings,
    churn: pl.DataFrame,
    good_result: TrainingResult,
    model_name: str,
    tmp_path: Path,
) -> None:
    """A re-evaluation of @champion that does not say promote must not revoke the recorded
    decision that approves it: batch scoring (require_champion) keeps working."""
    registry = Registry(settings, lock_dir=tmp_path)
    first = _register(settings, good_result, model_name)
    apply_promotion(registry, evaluate_challenger(registry, first, churn, model_config(), TAGS))
    champion = registry.require_champion(model_name, "score with")
    again = evaluate_challenger(registry, champion, churn, model_config(gates=gates), TAGS)
    assert again.champion_version is None and again.decision.action != "promote"
    state = apply_promotion(registry, again)
    assert (state.champion_version, state.promoted) == (first.version, False)
    assert registry.require_champion(model_name, "score with").version == first.version
    assert registry.get_version(model_name, first.version).tags["gate.action"] == "promote"
