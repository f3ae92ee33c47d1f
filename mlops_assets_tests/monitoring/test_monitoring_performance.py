"""Performance on labelled predictions against the training baseline."""

import numpy as np
import polars as pl
import pytest
from sklearn import metrics as skm

from mlops_assets.config.monitoring import PerformanceConfig
from mlops_assets.errors import ConfigError, MonitoringError, SchemaMismatchError
from mlops_assets.monitoring.performance import compute_performance

CONFIG = PerformanceConfig(
    metrics=["roc_auc", "f1", "precision", "recall", "accuracy", "log_loss"],
    max_degradation={"roc_auc": 0.05, "log_loss": 0.1},
    min_labelled_rows=100,
)


def scored(n: int, seed: int, noise: float) -> pl.DataFrame:
    """Labels and a probability whose quality falls as ``noise`` grows (some labels missing)."""
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.3
    logit = np.where(y, 1.5, -1.5) + rng.normal(0, noise, n)
    prob = 1 / (1 + np.exp(-logit))
    label = pl.Series("churn", np.where(y, "Yes", "No")).to_list()
    for i in range(0, n, 10):  # 10% not labelled yet
        label[i] = None
    return pl.DataFrame({"churn": label, "score": prob, "pred": np.where(prob >= 0.5, "Yes", "No")})


def test_metrics_equal_sklearn_on_labelled_rows_and_ok_against_baseline() -> None:
    df = scored(2_000, seed=1, noise=1.0)
    labelled = df.drop_nulls()
    y = labelled["churn"].to_numpy() == "Yes"
    prob = labelled["score"].to_numpy()
    baseline = {"roc_auc": skm.roc_auc_score(y, prob), "log_loss": skm.log_loss(y, prob)}
    result = compute_performance(
        df, "churn", "pred", "score", "classification", baseline, CONFIG, positive_label="Yes"
    )
    assert result.status == "ok" and not result.degraded
    assert result.n_labelled == 1_800
    assert result.metrics["roc_auc"] == pytest.approx(baseline["roc_auc"], rel=1e-12)
    assert result.metrics["f1"] == pytest.approx(skm.f1_score(y, prob >= 0.5), rel=1e-12)
    assert result.metrics["recall"] == pytest.approx(skm.recall_score(y, prob >= 0.5), rel=1e-12)
    assert result.degradation["roc_auc"] == pytest.approx(0.0, abs=1e-12)


def test_degradation_beyond_the_allowance_is_reported_with_numbers() -> None:
    good = scored(3_000, seed=2, noise=1.0).drop_nulls()
    y_good = good["churn"].to_numpy() == "Yes"
    baseline = {
        "roc_auc": skm.roc_auc_score(y_good, good["score"].to_numpy()),
        "log_loss": skm.log_loss(y_good, good["score"].to_numpy()),
        "f1": 0.9,  # f1 has no max_degradation: reported, never judged
    }
    worse = scored(3_000, seed=3, noise=4.0)
    result = compute_performance(
        worse, "churn", None, "score", "classification", baseline, CONFIG, positive_label="Yes"
    )
    assert result.status == "degraded"
    assert result.degradation["roc_auc"] > 0.05
    assert result.degradation["log_loss"] > 0.1
    assert result.degradation["f1"] == pytest.approx(0.9 - result.metrics["f1"])  # shown ...
    assert not any(r.startswith("f1") for r in result.reasons)  # ... never judged
    assert any(r.startswith("roc_auc fell from") and "0.0500 allowed" in r for r in result.reasons)
    assert any(r.startswith("log_loss rose from") for r in result.reasons)
    assert "| roc_auc |" in result.to_markdown()


def test_too_few_labels_gives_no_verdict() -> None:
    df = scored(100, seed=4, noise=1.0)  # 90 labelled < 100
    result = compute_performance(
        df, "churn", "pred", "score", "classification", {}, CONFIG, positive_label="Yes"
    )
    assert result.status == "insufficient_data" and result.metrics == {}
    assert "90 labelled rows" in result.reasons[0]


def test_single_class_window_skips_auc_with_a_reason() -> None:
    df = pl.DataFrame({"y": [0] * 150, "p": np.linspace(0.0, 0.4, 150), "hat": [0] * 150})
    result = compute_performance(df, "y", "hat", "p", "classification", {"roc_auc": 0.8}, CONFIG)
    assert "roc_auc" not in result.metrics
    assert result.metrics["accuracy"] == 1.0
    assert any("single class" in r for r in result.reasons)
    assert result.status == "ok"


def test_regression_metrics() -> None:
    rng = np.random.default_rng(5)
    y = rng.normal(10, 2, 500)
    pred = y + rng.normal(0, 1, 500)
    cfg = PerformanceConfig(metrics=["rmse", "mae", "r2"], max_degradation={"rmse": 0.2})
    df = pl.DataFrame({"y": y, "yhat": pred})
    result = compute_performance(df, "y", "yhat", None, "regression", {"rmse": 0.7}, cfg)
    assert result.metrics["rmse"] == pytest.approx(np.sqrt(np.mean((y - pred) ** 2)), rel=1e-12)
    assert result.metrics["mae"] == pytest.approx(np.mean(np.abs(y - pred)), rel=1e-12)
    assert result.status == "degraded"  # ~1.0 vs 0.7 baseline: +0.3 > 0.2


def test_misuse_is_explained() -> None:
    df = scored(300, seed=6, noise=1.0)
    with pytest.raises(MonitoringError, match="positive class"):
        compute_performance(df, "churn", "pred", "score", "classification", {}, CONFIG)
    with pytest.raises(ConfigError, match="need predicted probabilities"):
        compute_performance(
            df, "churn", "pred", None, "classification", {}, CONFIG, positive_label="Yes"
        )
    with pytest.raises(ConfigError, match="not computed for regression"):
        compute_performance(df, "churn", "pred", None, "regression", {}, CONFIG)
    with pytest.raises(SchemaMismatchError, match="lacks"):
        compute_performance(df, "label", "pred", "score", "classification", {}, CONFIG)


def test_regression_mape_and_r2_worsen_in_their_own_direction() -> None:
    rng = np.random.default_rng(7)
    y = rng.normal(100, 20, 400)
    pred = y + rng.normal(0, 10, 400)
    cfg = PerformanceConfig(
        metrics=["rmse", "r2", "mape"],
        max_degradation={"r2": 0.05, "mape": 0.5},
        min_labelled_rows=100,
    )
    df = pl.DataFrame({"y": y, "yhat": pred})
    base = {"r2": 0.95, "mape": 0.5}  # r2 was higher (better), mape was higher (worse)
    result = compute_performance(df, "y", "yhat", None, "regression", base, cfg)
    assert result.metrics["mape"] == pytest.approx(skm.mean_absolute_percentage_error(y, pred))
    assert result.metrics["r2"] == pytest.approx(skm.r2_score(y, pred))
    assert result.degradation["r2"] == pytest.approx(0.95 - result.metrics["r2"])  # a drop: > 0
    assert result.degradation["mape"] == pytest.approx(result.metrics["mape"] - 0.5)  # a fall: < 0
    assert result.degradation["mape"] < 0 < result.degradation["r2"]
    assert result.status == "degraded" and any("r2 fell" in r for r in result.reasons)


def test_multiclass_metrics_on_class_labels() -> None:
    rng = np.random.default_rng(8)
    classes = np.array(["a", "b", "c"])
    y = classes[rng.integers(0, 3, 600)]
    right = rng.random(600) < 0.7
    pred = np.where(right, y, classes[rng.integers(0, 3, 600)])
    cfg = PerformanceConfig(
        metrics=["accuracy", "f1_macro", "f1_weighted"],
        max_degradation={"f1_macro": 0.05},
        min_labelled_rows=100,
    )
    df = pl.DataFrame({"label": y, "prediction": pred, "probability": rng.random(600)})
    result = compute_performance(
        df, "label", "prediction", None, "multiclass", {"f1_macro": 0.95}, cfg
    )
    assert result.metrics["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert result.metrics["f1_macro"] == pytest.approx(skm.f1_score(y, pred, average="macro"))
    assert result.metrics["f1_weighted"] == pytest.approx(skm.f1_score(y, pred, average="weighted"))
    assert result.degradation["f1_macro"] == pytest.approx(0.95 - result.metrics["f1_macro"])
    assert result.status == "degraded"
    with pytest.raises(ConfigError, match="not computed for multiclass"):
        compute_performance(df, "label", "prediction", None, "multiclass", {}, CONFIG)
    needs_matrix = PerformanceConfig(metrics=["roc_auc_ovr"], max_degradation={})
    with pytest.raises(ConfigError, match="every class's probability"):
        compute_performance(
            df, "label", "prediction", "probability", "multiclass", {}, needs_matrix
        )


def _with_precision(n_tp: int, n_fp: int, n_fn: int, n_tn: int) -> pl.DataFrame:
    """Labelled rows whose hard predictions give exactly these confusion counts."""
    label = ["Yes"] * (n_tp + n_fn) + ["No"] * (n_fp + n_tn)
    pred = ["Yes"] * n_tp + ["No"] * n_fn + ["Yes"] * n_fp + ["No"] * n_tn
    return pl.DataFrame({"churn": label, "pred": pred})


def test_worsening_is_positive_for_every_metric_with_a_baseline_higher_is_better() -> None:
    """precision 0.70 -> 0.59 is a worsening of +0.11, even without a max_degradation for it."""
    cfg = PerformanceConfig(
        metrics=["precision", "accuracy"], max_degradation={"accuracy": 0.5}, min_labelled_rows=10
    )
    df = _with_precision(n_tp=59, n_fp=41, n_fn=20, n_tn=80)  # precision 59 / 100
    result = compute_performance(
        df, "churn", "pred", None, "binary", {"precision": 0.70, "accuracy": 0.5}, cfg,
        positive_label="Yes",
    )  # fmt: skip
    assert result.metrics["precision"] == pytest.approx(0.59)
    assert result.degradation["precision"] == pytest.approx(0.11)
    assert result.degradation["accuracy"] == pytest.approx(0.5 - 139 / 200)  # improved: < 0
    assert result.degradation["accuracy"] < 0
    assert result.status == "ok"  # precision has no allowance: shown, never judged
    table = result.to_markdown(cfg.max_degradation)
    assert "| precision | higher | 0.7 | 0.59 | +0.11 | - |" in table
    assert "| accuracy | higher | 0.5 | 0.695 | -0.195 | 0.5 |" in table
    assert "n/a" not in table


def test_worsening_is_positive_when_a_lower_is_better_metric_rises() -> None:
    y = np.arange(100, dtype=float)
    df = pl.DataFrame({"y": y, "yhat": y + 2.0})  # rmse exactly 2
    cfg = PerformanceConfig(
        metrics=["rmse", "r2"], max_degradation={"rmse": 0.5}, min_labelled_rows=10
    )
    result = compute_performance(df, "y", "yhat", None, "regression", {"rmse": 1.0}, cfg)
    assert result.metrics["rmse"] == pytest.approx(2.0)
    assert result.degradation == {"rmse": pytest.approx(1.0)}  # r2 has no baseline: not compared
    assert result.status == "degraded"
    assert "| rmse | lower | 1 | 2 | +1 | 0.5 |" in result.to_markdown(cfg.max_degradation)
    assert "| r2 | higher | n/a |" in result.to_markdown(cfg.max_degradation)
