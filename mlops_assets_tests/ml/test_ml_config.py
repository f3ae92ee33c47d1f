"""The model config: validation messages a user can act on, metric names, directions."""

from typing import Any

import pytest
from pydantic import ValidationError

from mlops_assets.config.ml import (
    BINARY_METRICS,
    CLASSIFICATION_METRICS,
    MULTICLASS_METRICS,
    REGRESSION_METRICS,
    GateConfig,
    LightGBMFlavor,
    MetricThreshold,
    ModelConfig,
    SearchConfig,
    SplitConfig,
    XGBoostFlavor,
    greater_is_better,
    metric_direction,
    normalize_metric,
    task_metrics,
    worsening,
)
from mlops_assets.errors import ConfigError
from mlops_assets_tests.ml.conftest import model_config


def test_ml_config_defaults_are_valid() -> None:
    config = model_config()
    assert config.split == SplitConfig(train=0.7, validation=0.15, test=0.15, seed=42)
    assert config.features == [
        "tenure_months",
        "monthly_charges",
        "support_calls",
        "contract",
        "region",
    ]
    assert config.gates.mode == "enabled"
    assert config.serving.port is None
    assert config.imputation.numeric == "error"


def test_ml_config_split_must_sum_to_one() -> None:
    with pytest.raises(ValidationError, match=r"sum to 1.*0\.7.*0\.2.*0\.2"):
        SplitConfig(train=0.7, validation=0.2, test=0.2)
    assert SplitConfig(train=0.8, validation=0.1, test=0.1).train == 0.8
    with pytest.raises(ValidationError, match="greater than 0"):
        SplitConfig(train=1.0, validation=0.0, test=0.0)


@pytest.mark.parametrize(
    ("name", "canonical"),
    [("auc", "roc_auc"), ("ROC_AUC", "roc_auc"), ("f1_score", "f1"), ("rmse", "rmse")],
)
def test_ml_config_metric_names_are_normalised(name: str, canonical: str) -> None:
    assert normalize_metric(name) == canonical
    assert MetricThreshold(metric=name, min=0.1).metric == canonical


def test_ml_config_unknown_metric_suggests_the_closest() -> None:
    with pytest.raises(ValidationError, match="Did you mean 'roc_auc'"):
        GateConfig(primary_metric="roc_acu")
    with pytest.raises(ConfigError, match="unknown metric 'accuracyy'") as info:
        greater_is_better("accuracyy")
    assert info.value.fix is not None and "accuracy" in info.value.fix


def test_ml_config_metric_directions() -> None:
    higher = {"roc_auc", "pr_auc", "f1", "accuracy", "precision", "recall", "r2"}
    higher |= {"f1_macro", "f1_weighted", "roc_auc_ovr"}
    lower = {"log_loss", "brier", "rmse", "mae", "mape"}
    every = set(BINARY_METRICS) | set(MULTICLASS_METRICS) | set(REGRESSION_METRICS)
    assert higher | lower == every
    assert all(metric_direction(m) == "higher" and greater_is_better(m) for m in higher)
    assert all(metric_direction(m) == "lower" and not greater_is_better(m) for m in lower)
    assert greater_is_better("auc")
    assert CLASSIFICATION_METRICS == BINARY_METRICS


@pytest.mark.parametrize(
    ("metric", "before", "after", "expected"),
    [
        ("roc_auc", 0.80, 0.75, 0.05),  # a drop of a higher-is-better metric is worse
        ("r2", 0.70, 0.90, -0.20),  # a rise is better: negative
        ("rmse", 100.0, 120.0, 20.0),  # a rise of a lower-is-better metric is worse
        ("log_loss", 0.40, 0.30, -0.10),
        ("mape", 0.10, 0.15, 0.05),
        ("f1_macro", 0.60, 0.50, 0.10),
    ],
)
def test_ml_config_worsening_is_positive_when_worse(
    metric: str, before: float, after: float, expected: float
) -> None:
    assert worsening(metric, before, after) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("task", "primary", "metric"),
    [
        ("binary", "roc_auc", "f1"),
        ("multiclass", "f1_macro", "accuracy"),
        ("regression", "rmse", "r2"),
    ],
)
def test_ml_config_task_defaults_the_primary_metric(task: str, primary: str, metric: str) -> None:
    gates = {"thresholds": [{"metric": metric, "min": 0.1}]}
    config = model_config(
        task=task, positive_label="Yes" if task == "binary" else None, gates=gates
    )
    assert (config.task, config.gates.primary_metric) == (task, primary)
    assert set(config.gates.metrics()) <= set(task_metrics(task))


def test_ml_config_classification_is_an_alias_of_binary() -> None:
    config = model_config(task="classification")
    assert config.task == "binary"
    assert task_metrics("classification") == BINARY_METRICS
    with pytest.raises(ValidationError, match="positive_label only applies to binary"):
        model_config(task="multiclass", positive_label="Yes", gates={"primary_metric": "accuracy"})
    with pytest.raises(
        ValidationError, match=r"metrics \['roc_auc'\] are not computed for multiclass"
    ):
        model_config(task="multiclass", positive_label=None)


def test_ml_config_threshold_needs_a_bound_in_order() -> None:
    with pytest.raises(ValidationError, match="needs `min`, `max` or both"):
        MetricThreshold(metric="f1")
    with pytest.raises(ValidationError, match=r"min 0\.9 > max 0\.1"):
        MetricThreshold(metric="f1", min=0.9, max=0.1)


def test_ml_config_max_degradation_must_be_non_negative() -> None:
    with pytest.raises(ValidationError, match="finite and >= 0"):
        GateConfig(primary_metric="f1", max_degradation={"f1": -0.1})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"numeric_features": ["tenure_months", "tenure_months"]}, "more than once"),
        ({"categorical_features": ["contract", "tenure_months"]}, "more than once"),
        ({"numeric_features": ["churn"]}, "label column 'churn' must not also be a feature"),
        ({"categorical_features": ["customer_id"]}, "entity_key column 'customer_id'"),
        ({"numeric_features": [], "categorical_features": []}, "at least one"),
        ({"name": ""}, "should match pattern"),
        ({"label": ""}, "at least 1 character"),
        ({"task": "regression", "positive_label": None}, "not computed for regression"),
        (
            {"search": {"type": "grid", "space": {"max_iter": []}, "metric": "f1"}},
            "must not be empty",
        ),
        (
            {"search": {"type": "grid", "space": {"max_iter": [5]}, "metric": "rmse"}},
            r"metrics \['rmse'\] are not computed for binary",
        ),
        ({"flavor": {"type": "torch"}}, "does not match any of the expected tags"),
        ({"unknown_key": 1}, "Extra inputs are not permitted"),
    ],
)
def test_ml_config_rejects_inconsistent_models(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        model_config(**overrides)


def test_ml_config_regression_cannot_have_positive_label() -> None:
    gates = {"primary_metric": "rmse"}
    with pytest.raises(
        ValidationError, match="positive_label only applies to binary classification"
    ):
        model_config(task="regression", positive_label="Yes", gates=gates, label="churn")
    config = model_config(task="regression", positive_label=None, gates=gates)
    assert config.gates.primary_metric == "rmse"


def test_ml_config_flavours_are_a_discriminated_union() -> None:
    assert isinstance(model_config(flavor={"type": "lightgbm"}).flavor, LightGBMFlavor)
    config = model_config(flavor={"type": "xgboost", "params": {"max_depth": 3}})
    assert isinstance(config.flavor, XGBoostFlavor)
    assert config.flavor.params == {"max_depth": 3}
    schema = ModelConfig.model_json_schema()
    assert schema["properties"]["flavor"]["discriminator"]["propertyName"] == "type"


def test_ml_config_param_values_keep_their_json_types() -> None:
    config = model_config(
        flavor={
            "type": "sklearn",
            "estimator": "sklearn.neural_network.MLPClassifier",
            "params": {"hidden_layer_sizes": [8, 4], "early_stopping": True, "alpha": 1e-3},
        }
    )
    params = config.flavor.params
    assert params["hidden_layer_sizes"] == [8, 4]
    assert params["early_stopping"] is True
    assert isinstance(params["alpha"], float)


def test_ml_config_search_keeps_its_space() -> None:
    search = SearchConfig(type="random", space={"max_depth": [2, 3, None]}, n_iter=2, metric="AUC")
    assert search.metric == "roc_auc"
    assert search.space["max_depth"] == [2, 3, None]
    with pytest.raises(ValidationError):
        SearchConfig(type="random", space={"max_depth": [2]}, n_iter=0, metric="f1")


def test_ml_config_every_field_is_documented() -> None:
    missing = [
        f"{model.__name__}.{name}"
        for model in (ModelConfig, GateConfig, SearchConfig, SplitConfig, MetricThreshold)
        for name, field in model.model_fields.items()
        if not field.description
    ]
    assert missing == []
