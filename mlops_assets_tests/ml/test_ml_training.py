"""Training end to end against a real SQLite MLflow store, and every typed failure."""

import sys

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import accuracy_score, roc_auc_score

from mlops_assets.config.ml import ModelConfig
from mlops_assets.errors import (
    ConfigError,
    DataValidationError,
    SchemaMismatchError,
    TrainingError,
)
from mlops_assets.ml.estimators import build_pipeline
from mlops_assets.ml.tracking import MlflowSettings, RunTags, start_run
from mlops_assets.ml.training import train_model
from mlops_assets_tests.ml.conftest import model_config

TAGS = RunTags(dagster_run_id="run-1", asset_key="churn/model/trained", partition_key="2024-01-01")


def _truth(df: pl.DataFrame) -> np.ndarray:
    return (df["churn"] == "Yes").cast(pl.Int8).to_numpy()


def test_ml_training_logs_params_and_metrics_readable_back(
    churn_splits: dict[str, pl.DataFrame], settings: MlflowSettings
) -> None:
    import mlflow

    config = model_config()
    train, validation = churn_splits["train"], churn_splits["validation"]
    with start_run(settings, "train", TAGS) as run:
        result = train_model(train, validation, config)
    assert result.run_id == run.info.run_id
    assert result.n_train == train.height and result.n_validation == validation.height
    # the logged metrics are the ones computed independently from the fitted pipeline
    x_val = validation.select(config.features).to_pandas()
    proba = result.pipeline.predict_proba(x_val)[:, 1]
    expected_auc = roc_auc_score(_truth(validation), proba)
    expected_acc = accuracy_score(_truth(validation), result.pipeline.predict(x_val))
    assert result.validation_metrics["roc_auc"] == pytest.approx(expected_auc)
    assert result.validation_metrics["accuracy"] == pytest.approx(expected_acc)
    assert expected_auc > 0.7  # the synthetic signal is learnable
    logged = mlflow.MlflowClient(settings.tracking_uri).get_run(run.info.run_id)
    assert logged.data.metrics["val_roc_auc"] == pytest.approx(expected_auc)
    assert logged.data.params["max_iter"] == "60"
    assert logged.data.params["random_state"] == str(config.split.seed)  # seeded by default
    assert logged.data.params["mlops.estimator"] == config.flavor.estimator  # type: ignore[union-attr]
    assert logged.data.params["mlops.train_rows"] == str(train.height)
    assert logged.data.tags["dagster.run_id"] == "run-1"
    assert logged.data.tags["dagster.partition"] == "2024-01-01"
    assert logged.info.status == "FINISHED"


def test_ml_training_search_creates_nested_runs_and_keeps_the_best(
    churn_splits: dict[str, pl.DataFrame], settings: MlflowSettings
) -> None:
    import mlflow

    config = model_config(
        search={
            "type": "grid",
            "space": {"max_depth": [1, 3], "learning_rate": [0.01, 0.2]},
            "metric": "log_loss",
        }
    )
    with start_run(settings, "search", TAGS) as parent:
        result = train_model(churn_splits["train"], churn_splits["validation"], config)
    client = mlflow.MlflowClient(settings.tracking_uri)
    children = client.search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
    )
    assert len(children) == len(result.trials) == 4
    logged_loss = {c.info.run_id: c.data.metrics["val_log_loss"] for c in children}
    best_run = min(logged_loss, key=lambda run_id: logged_loss[run_id])  # lower is better
    best = next(t for t in result.trials if t.run_id == best_run)
    assert result.params["max_depth"] == best.params["max_depth"]
    assert result.params["learning_rate"] == best.params["learning_rate"]
    assert result.validation_metrics["log_loss"] == pytest.approx(logged_loss[best_run])
    parent_run = client.get_run(parent.info.run_id)
    assert parent_run.data.tags["mlops.search.best_run_id"] == best_run
    assert {c.data.params["max_depth"] for c in children} == {"1", "3"}


def test_ml_training_random_search_caps_trials_at_the_grid_size(
    churn_splits: dict[str, pl.DataFrame],
) -> None:
    config = model_config(
        search={"type": "random", "space": {"max_depth": [2, 3]}, "n_iter": 8, "metric": "f1"}
    )
    result = train_model(churn_splits["train"], churn_splits["validation"], config)
    assert result.run_id is None  # no active run: nothing logged, still trained
    assert sorted(t.params["max_depth"] for t in result.trials) == [2, 3]  # type: ignore[type-var]


def test_ml_training_missing_label_and_features_are_listed(
    churn_splits: dict[str, pl.DataFrame],
) -> None:
    train = churn_splits["train"].drop("churn", "contract", "support_calls")
    with pytest.raises(SchemaMismatchError) as info:
        train_model(train, churn_splits["validation"], model_config())
    message = str(info.value)
    assert "lacks 3 column(s)" in message
    assert "churn (label)" in message
    assert "support_calls (feature)" in message and "contract (feature)" in message


def test_ml_training_single_class_is_a_data_error(
    churn_splits: dict[str, pl.DataFrame],
) -> None:
    train = churn_splits["train"].with_columns(churn=pl.lit("No"))
    with pytest.raises(DataValidationError, match="single class") as info:
        train_model(train, churn_splits["validation"], model_config())
    assert "positive_label 'Yes' never occurs" in str(info.value)


def test_ml_training_nan_features_are_named_with_counts(
    churn_splits: dict[str, pl.DataFrame],
) -> None:
    train = (
        churn_splits["train"]
        .with_row_index()
        .with_columns(
            tenure_months=pl.when(pl.col("index") < 3)
            .then(None)
            .otherwise(pl.col("tenure_months")),
            monthly_charges=pl.when(pl.col("index") < 5)
            .then(float("nan"))
            .otherwise(pl.col("monthly_charges")),
        )
    )
    with pytest.raises(DataValidationError) as info:
        train_model(train, churn_splits["validation"], model_config())
    message = str(info.value)
    assert "tenure_months: 3 null" in message
    assert "monthly_charges: 5 NaN" in message
    assert "imputation.numeric" in (info.value.fix or "")
    # an explicit imputation policy trains on the same data, imputing inside the pipeline
    config = model_config(imputation={"numeric": "median"})
    result = train_model(train, churn_splits["validation"], config)
    assert result.validation_metrics["roc_auc"] > 0.7


def test_ml_training_null_categories_become_their_own_category(
    churn_splits: dict[str, pl.DataFrame],
) -> None:
    train = (
        churn_splits["train"]
        .with_row_index()
        .with_columns(
            region=pl.when(pl.col("index") % 10 == 0).then(None).otherwise(pl.col("region"))
        )
    )
    result = train_model(train, churn_splits["validation"], model_config())
    encoder = result.pipeline.named_steps["preprocess"].named_transformers_["categorical"]
    assert "__missing__" in list(encoder.named_steps["onehot"].categories_[1])
    with pytest.raises(DataValidationError, match="region: 140 null"):
        train_model(
            train, churn_splits["validation"], model_config(imputation={"categorical": "error"})
        )


def test_ml_training_estimator_failure_is_wrapped(
    churn_splits: dict[str, pl.DataFrame],
) -> None:
    config = model_config()
    with pytest.raises(
        TrainingError, match=r"fitting sklearn\.ensemble\.HistGradientBoosting"
    ) as info:
        train_model(
            churn_splits["train"], churn_splits["validation"], config, {"learning_rate": -1.0}
        )
    assert info.value.__cause__ is not None
    assert "learning_rate" in str(info.value)


def test_ml_training_bad_import_path_suggests_the_estimator() -> None:
    config = model_config(
        flavor={"type": "sklearn", "estimator": "sklearn.ensemble.HistGradientBoostingClassifer"}
    )
    with pytest.raises(ConfigError, match="has no estimator") as info:
        _build(config)
    assert "HistGradientBoostingClassifier" in (info.value.fix or "")
    config = model_config(flavor={"type": "sklearn", "estimator": "sklearn.ensembl.RandomForest"})
    with pytest.raises(ConfigError, match=r"cannot import module 'sklearn\.ensembl'"):
        _build(config)


def _build(config: ModelConfig) -> None:
    build_pipeline(config, dict(config.flavor.params))


def test_ml_training_unknown_param_and_wrong_task_are_config_errors() -> None:
    flavor = {**model_config().flavor.model_dump(), "params": {"max_iters": 3}}
    with pytest.raises(ConfigError, match=r"max_iters \(did you mean 'max_iter'\?\)"):
        _build(model_config(flavor=flavor))
    regressor = {"type": "sklearn", "estimator": "sklearn.linear_model.Ridge"}
    with pytest.raises(ConfigError, match="is not a classifier"):
        _build(model_config(flavor=regressor))
    no_proba = {"type": "sklearn", "estimator": "sklearn.svm.LinearSVC"}
    with pytest.raises(ConfigError, match="has no predict_proba"):
        _build(model_config(flavor=no_proba))


@pytest.mark.parametrize("flavor", ["lightgbm", "xgboost"])
def test_ml_training_boosting_flavours_train(
    churn_splits: dict[str, pl.DataFrame], flavor: str
) -> None:
    config = model_config(flavor={"type": flavor, "params": {"n_estimators": 30}})
    result = train_model(churn_splits["train"], churn_splits["validation"], config)
    assert result.estimator.startswith(f"{flavor}.")
    assert result.validation_metrics["roc_auc"] > 0.7


def test_ml_training_missing_boosting_extra_says_how_to_install(
    churn_splits: dict[str, pl.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "lightgbm", None)  # makes `import lightgbm` fail
    config = model_config(flavor={"type": "lightgbm"})
    with pytest.raises(ConfigError, match="needs 'lightgbm'") as info:
        train_model(churn_splits["train"], churn_splits["validation"], config)
    assert "uv sync --extra boosting" in (info.value.fix or "")


def test_ml_training_regression(churn_splits: dict[str, pl.DataFrame]) -> None:
    config = model_config(
        task="regression",
        positive_label=None,
        label="monthly_charges",
        numeric_features=["tenure_months", "support_calls"],
        flavor={"type": "sklearn", "estimator": "sklearn.linear_model.Ridge"},
        gates={"primary_metric": "rmse"},
    )
    result = train_model(churn_splits["train"], churn_splits["validation"], config)
    assert set(result.validation_metrics) == {"rmse", "mae", "r2", "mape"}
    spread = float(churn_splits["validation"]["monthly_charges"].std())  # type: ignore[arg-type]
    assert 0 < result.validation_metrics["rmse"] < 1.5 * spread
