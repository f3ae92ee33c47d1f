"""Every problem type end to end on small generated data, against a real local MLflow store.

Multiclass: three classes ("bronze", "silver", "gold") from a noisy linear score of the features;
regression: a noisy linear function. Each test trains, registers, evaluates (metrics checked
against scikit-learn on the in-memory pipeline, plots as run artifacts), gates, scores the
predictions table and computes the monitored performance metrics from it.
"""

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import polars as pl
import pytest
from sklearn import metrics as skm

from mlops_assets.assets.ml.inference import prediction_metadata
from mlops_assets.config.ml import GateConfig, ModelConfig
from mlops_assets.config.monitoring import DriftConfig, PerformanceConfig
from mlops_assets.errors import ConfigError
from mlops_assets.ml.batch import ScoringSpec, score_features
from mlops_assets.ml.evaluation import evaluate_model
from mlops_assets.ml.frames import feature_frame
from mlops_assets.ml.gates import decide
from mlops_assets.ml.inference import PREDICTION_COLUMNS, score
from mlops_assets.ml.model_store import ModelVersionInfo, log_and_register
from mlops_assets.ml.split import split_frame
from mlops_assets.ml.tracking import MlflowSettings, RunTags, start_run
from mlops_assets.ml.training import TrainingResult, train_model
from mlops_assets.monitoring.performance import compute_performance
from mlops_assets.monitoring.reference_profiles import build_reference_profiles

TAGS = RunTags(dagster_run_id="run-tasks", asset_key="tasks/model/evaluation")
CLASSES = ("bronze", "silver", "gold")


def _frame(n: int, seed: int, task: str) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(0, 1, n), rng.uniform(-2, 2, n)
    kind = rng.choice(["a", "b", "c"], n)
    effect = np.select([kind == "a", kind == "b"], [1.0, -0.5], 0.0)
    if task == "regression":
        label: Any = 50.0 + 8.0 * x1 - 5.0 * x2 + 6.0 * effect + rng.normal(0, 2.0, n)
    else:
        z = 1.5 * x1 + 0.8 * x2 + effect + rng.normal(0, 0.4, n)
        label = np.asarray(CLASSES)[np.digitize(z, np.quantile(z, [1 / 3, 2 / 3]))]
    start = datetime(2026, 1, 1)
    return pl.DataFrame(
        {
            "item_id": [f"i-{i:05d}" for i in range(n)],
            "observed_at": [start + timedelta(minutes=i) for i in range(n)],
            "x1": x1,
            "x2": x2,
            "kind": kind,
            "target": label,
        }
    )


def _config(task: str, estimator: str, gates: dict[str, Any]) -> ModelConfig:
    return ModelConfig.model_validate(
        {
            "name": f"{task}_model",
            "task": task,
            "label": "target",
            "entity_key": "item_id",
            "timestamp": "observed_at",
            "numeric_features": ["x1", "x2"],
            "categorical_features": ["kind"],
            "flavor": {"type": "sklearn", "estimator": estimator},
            "gates": gates,
        }
    )


MULTICLASS = _config(
    "multiclass",
    "sklearn.linear_model.LogisticRegression",
    {"thresholds": [{"metric": "accuracy", "min": 0.6}], "max_degradation": {"log_loss": 0.1}},
)
REGRESSION = _config(
    "regression",
    "sklearn.linear_model.LinearRegression",
    {
        "primary_metric": "rmse",
        "thresholds": [{"metric": "r2", "min": 0.8}, {"metric": "rmse", "max": 5.0}],
        "max_degradation": {"mae": 0.5, "r2": 0.02},
    },
)


def _train_and_register(
    config: ModelConfig, settings: MlflowSettings, name: str
) -> tuple[dict[str, pl.DataFrame], TrainingResult, ModelVersionInfo]:
    data = _frame(900, 3, config.task)
    splits = split_frame(data, "item_id", config.split)
    result = train_model(splits["train"], splits["validation"], config)
    with start_run(settings, "register", TAGS):
        info = log_and_register(result, config, settings, splits["train"], registered_name=name)
    return {str(k): v for k, v in splits.items()}, result, info


def _evaluate(config: ModelConfig, settings: MlflowSettings, uri: str, test: pl.DataFrame) -> Any:
    import mlflow

    with start_run(settings, "evaluate", TAGS) as run:
        result = evaluate_model(uri, test, config)
    client = mlflow.MlflowClient(settings.tracking_uri)
    logged = client.get_run(run.info.run_id).data.metrics
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "evaluation")}
    return result, logged, artifacts


def test_ml_tasks_multiclass_end_to_end(settings: MlflowSettings, model_name: str) -> None:
    config = MULTICLASS
    assert config.gates.primary_metric == "f1_macro"  # the task's default
    splits, trained, info = _train_and_register(config, settings, model_name)
    test = splits["test"]
    assert set(trained.validation_metrics) == {
        "accuracy",
        "f1_macro",
        "f1_weighted",
        "log_loss",
        "roc_auc_ovr",
    }
    result, logged, artifacts = _evaluate(config, settings, info.model_uri, test)
    # independent computation from the in-memory pipeline
    proba = trained.pipeline.predict_proba(feature_frame(test, config))
    classes = [str(c) for c in trained.pipeline.classes_]
    assert sorted(classes) == sorted(CLASSES)
    truth = test["target"].to_numpy()
    guess = np.asarray(classes)[proba.argmax(axis=1)]
    assert result.metrics["accuracy"] == pytest.approx(skm.accuracy_score(truth, guess))
    assert result.metrics["f1_macro"] == pytest.approx(skm.f1_score(truth, guess, average="macro"))
    assert result.metrics["log_loss"] == pytest.approx(skm.log_loss(truth, proba, labels=classes))
    assert result.metrics["roc_auc_ovr"] == pytest.approx(
        skm.roc_auc_score(truth, proba, multi_class="ovr", labels=classes)
    )
    assert result.metrics["accuracy"] > 0.6  # learnable: well above the 1/3 prior
    assert logged["test_f1_macro"] == pytest.approx(result.metrics["f1_macro"])
    assert set(result.plots) == {
        "evaluation/confusion_matrix.png",
        "evaluation/per_class_report.png",
        "evaluation/per_class_report.json",
    }
    assert artifacts == set(result.plots)

    predictions = score(
        test, info.model_uri, model_name, info.version, "champion", "item_id", "observed_at"
    )
    assert predictions.columns == ["item_id", "observed_at", *PREDICTION_COLUMNS]
    assert predictions.schema["prediction"] == pl.String
    assert predictions.schema["probability"] == pl.Float64
    assert predictions["prediction"].to_list() == guess.tolist()
    assert predictions["probability"].to_numpy() == pytest.approx(proba.max(axis=1))

    # the batch inference asset's scoring core: a class label is counted, never cast to a number
    spec = ScoringSpec(version=info, alias="champion", model=config, batch_size=100, what="test")
    scored, summary = score_features(test, spec)
    assert scored["prediction"].to_list() == guess.tolist()
    labels, counts = np.unique(guess, return_counts=True)
    assert summary.class_shares == pytest.approx(
        {str(c): n / test.height for c, n in zip(labels, counts, strict=True)}
    )
    assert list(summary.class_shares or {}) == sorted(labels.tolist())
    assert summary.mean_probability == pytest.approx(float(proba.max(axis=1).mean()))
    assert summary.positive_rate is None and summary.mean_prediction is None
    assert (summary.rows, summary.scoring_batches) == (test.height, -(-test.height // 100))
    shown = prediction_metadata(summary)
    assert set(shown) == {"mean_probability", "class_shares"}
    table = shown["class_shares"].value
    assert all(
        f"| {c} | {n / test.height:.2%} |" in table for c, n in zip(labels, counts, strict=True)
    )

    labelled = predictions.join(test.select("item_id", "target"), on="item_id")
    monitored = PerformanceConfig(
        metrics=["accuracy", "f1_macro", "f1_weighted"],
        max_degradation={"f1_macro": 0.05},
        min_labelled_rows=50,
    )
    perf = compute_performance(
        labelled, "target", "prediction", None, "multiclass", result.metrics, monitored
    )
    assert perf.status == "ok"
    assert perf.metrics["accuracy"] == pytest.approx(result.metrics["accuracy"])
    assert perf.degradation["f1_macro"] == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ConfigError, match="need every class's probability"):
        compute_performance(
            labelled,
            "target",
            "prediction",
            None,
            "multiclass",
            {},
            PerformanceConfig(metrics=["log_loss"], max_degradation={}, min_labelled_rows=1),
        )


def test_ml_tasks_regression_end_to_end(settings: MlflowSettings, model_name: str) -> None:
    config = REGRESSION
    splits, trained, info = _train_and_register(config, settings, model_name)
    test = splits["test"]
    result, logged, artifacts = _evaluate(config, settings, info.model_uri, test)
    y = test["target"].to_numpy()
    y_hat = trained.pipeline.predict(feature_frame(test, config))
    assert result.metrics["rmse"] == pytest.approx(skm.root_mean_squared_error(y, y_hat))
    assert result.metrics["mae"] == pytest.approx(skm.mean_absolute_error(y, y_hat))
    assert result.metrics["r2"] == pytest.approx(skm.r2_score(y, y_hat))
    assert result.metrics["mape"] == pytest.approx(skm.mean_absolute_percentage_error(y, y_hat))
    assert result.metrics["rmse"] < 3.0 and result.metrics["r2"] > 0.9  # noise sd is 2
    assert logged["test_rmse"] == pytest.approx(result.metrics["rmse"])
    assert (
        artifacts
        == set(result.plots)
        == {
            "evaluation/predicted_vs_actual.png",
            "evaluation/residuals.png",
        }
    )
    first = decide(result.metrics, None, config.gates)
    assert first.action == "promote", first.reasons

    predictions = score(
        test, info.model_uri, model_name, info.version, None, "item_id", "observed_at"
    )
    assert predictions.schema["prediction"] == pl.Float64
    assert predictions["probability"].null_count() == test.height
    assert predictions["prediction"].to_numpy() == pytest.approx(y_hat)
    empty = score(
        test.head(0), info.model_uri, model_name, info.version, None, "item_id", "observed_at"
    )
    assert empty.schema == predictions.schema  # stable columns, even without rows

    spec = ScoringSpec(version=info, alias=None, model=config, what="test")
    _, summary = score_features(test, spec)
    assert summary.mean_prediction == pytest.approx(float(y_hat.mean()))
    assert summary.mean_probability is None and summary.positive_rate is None
    assert summary.class_shares is None
    assert set(prediction_metadata(summary)) == {"mean_prediction"}
    _, nothing = score_features(test.head(0), spec)
    assert (nothing.rows, nothing.mean_prediction) == (0, None)
    assert prediction_metadata(nothing) == {}

    labelled = predictions.join(test.select("item_id", "target"), on="item_id")
    monitored = PerformanceConfig(
        metrics=["rmse", "mae", "r2", "mape"],
        max_degradation={"rmse": 0.1, "r2": 0.01},
        min_labelled_rows=50,
    )
    worse_baseline = {**result.metrics, "rmse": result.metrics["rmse"] - 1.0}
    perf = compute_performance(
        labelled, "target", "prediction", None, "regression", worse_baseline, monitored
    )
    assert perf.metrics["rmse"] == pytest.approx(result.metrics["rmse"])
    assert perf.degradation["rmse"] == pytest.approx(1.0)  # rmse rose by 1: positive = worse
    assert perf.degradation["r2"] == pytest.approx(0.0, abs=1e-12)
    assert perf.status == "degraded"
    assert any("rmse rose" in r for r in perf.reasons)


def test_ml_tasks_reference_profiles_describe_the_predictions_table() -> None:
    for config, numeric, categorical in (
        (MULTICLASS, ["probability"], ["prediction"]),
        (REGRESSION, ["prediction"], []),
    ):
        data = _frame(600, 5, config.task)
        splits = split_frame(data, "item_id", config.split)
        trained = train_model(splits["train"], splits["validation"], config)
        profiles = build_reference_profiles(
            trained.pipeline, splits["train"], splits["validation"], config, DriftConfig()
        )
        assert profiles.predictions.numeric == numeric
        assert profiles.predictions.categorical == categorical
        if categorical:
            seen = set(profiles.predictions.columns["prediction"].model_dump()["categories"])
            assert seen <= set(CLASSES) and len(seen) >= 2


def _gates(primary: str, **kw: Any) -> GateConfig:
    return GateConfig(primary_metric=primary, **kw)


@pytest.mark.parametrize(
    ("metric", "champion", "better", "worse"),
    [
        ("rmse", 10.0, 9.0, 11.0),  # lower is better
        ("mape", 0.2, 0.1, 0.3),
        ("r2", 0.8, 0.9, 0.7),  # higher is better
        ("f1_macro", 0.6, 0.7, 0.5),
        ("log_loss", 0.5, 0.4, 0.6),
    ],
)
def test_ml_tasks_gates_read_each_metric_in_its_direction(
    metric: str, champion: float, better: float, worse: float
) -> None:
    loss = abs(worse - champion)  # how much the worse challenger loses, in either direction
    gates = _gates(metric, min_improvement=0.05, max_degradation={metric: 2 * loss})
    improved = decide({metric: better}, {metric: champion}, gates)
    regressed = decide({metric: worse}, {metric: champion}, gates)
    assert improved.action == "promote", improved.reasons
    assert regressed.action == "reject"
    failed = {c.name for c in regressed.checks if not c.passed}
    assert failed == {"min_improvement"}  # within the allowance, short of the improvement
    strict = _gates(metric, min_improvement=-2 * loss, max_degradation={metric: loss / 2})
    beyond = decide({metric: worse}, {metric: champion}, strict)
    assert [c.name for c in beyond.checks if not c.passed] == ["max_degradation"]
