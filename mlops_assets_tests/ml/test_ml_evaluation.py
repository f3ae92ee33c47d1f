"""Held-out evaluation of registered models, plots as run artifacts, challenger vs champion."""

import numpy as np
import polars as pl
import pytest
from sklearn import metrics as skm

from mlops_assets.errors import EvaluationError, SchemaMismatchError
from mlops_assets.ml.evaluation import compare, evaluate_model
from mlops_assets.ml.frames import feature_frame
from mlops_assets.ml.model_store import ModelVersionInfo, log_and_register
from mlops_assets.ml.tracking import MlflowSettings, RunTags, start_run
from mlops_assets.ml.training import TrainingResult, train_model
from mlops_assets_tests.ml.conftest import model_config

TAGS = RunTags(dagster_run_id="run-eval", asset_key="churn/model/evaluation")


def _register(
    result: TrainingResult, settings: MlflowSettings, name: str, train: pl.DataFrame, **kw: object
) -> ModelVersionInfo:
    config = kw.pop("config", model_config())
    with start_run(settings, "register", TAGS):
        return log_and_register(result, config, settings, train, registered_name=name)  # type: ignore[arg-type]


def test_ml_evaluation_metrics_match_sklearn_and_plots_are_logged(
    churn_splits: dict[str, pl.DataFrame],
    settings: MlflowSettings,
    good_result: TrainingResult,
    model_name: str,
) -> None:
    import mlflow

    config = model_config()
    test = churn_splits["test"]
    info = _register(good_result, settings, model_name, churn_splits["train"])
    with start_run(settings, "evaluate", TAGS) as run:
        result = evaluate_model(info.model_uri, test, config)
    # independent computation from the in-memory pipeline
    y = (test["churn"] == "Yes").cast(pl.Int8).to_numpy()
    proba = good_result.pipeline.predict_proba(feature_frame(test, config))[:, 1]
    assert result.n_rows == test.height
    assert result.metrics["roc_auc"] == pytest.approx(skm.roc_auc_score(y, proba))
    assert result.metrics["log_loss"] == pytest.approx(skm.log_loss(y, proba))
    assert result.metrics["f1"] == pytest.approx(skm.f1_score(y, proba > 0.5))
    assert result.metrics["brier"] == pytest.approx(skm.brier_score_loss(y, proba))
    client = mlflow.MlflowClient(settings.tracking_uri)
    logged = client.get_run(run.info.run_id).data.metrics
    assert logged["test_roc_auc"] == pytest.approx(result.metrics["roc_auc"])
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "evaluation")}
    assert (
        set(result.plots)
        == artifacts
        == {
            "evaluation/roc_curve.png",
            "evaluation/precision_recall_curve.png",
            "evaluation/confusion_matrix.png",
        }
    )


def test_ml_evaluation_compare_uses_the_same_rows_for_both(
    churn_splits: dict[str, pl.DataFrame],
    settings: MlflowSettings,
    good_result: TrainingResult,
    weak_result: TrainingResult,
    model_name: str,
) -> None:
    import mlflow

    train, test = churn_splits["train"], churn_splits["test"]
    champion = _register(weak_result, settings, model_name, train)
    challenger = _register(good_result, settings, model_name, train)
    with start_run(settings, "compare", TAGS) as run:
        comparison = compare(challenger.model_uri, champion.model_uri, test, model_config())
    assert comparison.champion is not None
    assert comparison.challenger.n_rows == comparison.champion.n_rows == test.height
    # the prior-only model has no ranking power at all: AUC is exactly 0.5
    assert comparison.champion.metrics["roc_auc"] == pytest.approx(0.5)
    assert comparison.challenger.metrics["roc_auc"] > 0.7
    logged = mlflow.MlflowClient(settings.tracking_uri).get_run(run.info.run_id).data.metrics
    assert logged["champion_test_roc_auc"] == pytest.approx(0.5)
    assert logged["test_roc_auc"] == pytest.approx(comparison.challenger.metrics["roc_auc"])
    alone = compare(challenger.model_uri, None, test, model_config())
    assert alone.champion is None
    assert alone.challenger.metrics == comparison.challenger.metrics
    assert alone.challenger.plots == []  # no active run: nothing logged


def test_ml_evaluation_champion_with_other_features_cannot_be_compared(
    churn_splits: dict[str, pl.DataFrame],
    settings: MlflowSettings,
    good_result: TrainingResult,
    model_name: str,
) -> None:
    rng = np.random.default_rng(1)
    with_extra = {
        k: v.with_columns(extra=pl.Series(rng.normal(size=v.height)))
        for k, v in churn_splits.items()
    }
    config = model_config(numeric_features=["tenure_months", "monthly_charges", "extra"])
    old = train_model(with_extra["train"], with_extra["validation"], config)
    champion = _register(old, settings, model_name, with_extra["train"], config=config)
    challenger = _register(good_result, settings, model_name, churn_splits["train"])
    with pytest.raises(EvaluationError, match="cannot be evaluated on this test set") as info:
        compare(challenger.model_uri, champion.model_uri, churn_splits["test"], model_config())
    assert "extra: missing (expected double)" in str(info.value)


def test_ml_evaluation_needs_the_label(
    churn_splits: dict[str, pl.DataFrame],
    settings: MlflowSettings,
    good_result: TrainingResult,
    model_name: str,
) -> None:
    info = _register(good_result, settings, model_name, churn_splits["train"])
    with pytest.raises(SchemaMismatchError, match="lacks the label column 'churn'"):
        evaluate_model(info.model_uri, churn_splits["test"].drop("churn"), model_config())


def test_ml_evaluation_regression_metrics_and_plots(
    churn_splits: dict[str, pl.DataFrame], settings: MlflowSettings, model_name: str
) -> None:
    config = model_config(
        task="regression",
        positive_label=None,
        label="monthly_charges",
        numeric_features=["tenure_months", "support_calls"],
        flavor={"type": "sklearn", "estimator": "sklearn.linear_model.Ridge"},
        gates={"primary_metric": "rmse"},
    )
    result = train_model(churn_splits["train"], churn_splits["validation"], config)
    info = _register(result, settings, model_name, churn_splits["train"], config=config)
    test = churn_splits["test"]
    with start_run(settings, "evaluate", TAGS):
        evaluation = evaluate_model(info.model_uri, test, config)
    y_hat = result.pipeline.predict(feature_frame(test, config))
    y = test["monthly_charges"].to_numpy()
    assert evaluation.metrics["rmse"] == pytest.approx(skm.root_mean_squared_error(y, y_hat))
    assert evaluation.metrics["r2"] == pytest.approx(skm.r2_score(y, y_hat))
    assert evaluation.plots == ["evaluation/predicted_vs_actual.png", "evaluation/residuals.png"]
