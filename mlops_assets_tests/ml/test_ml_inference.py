"""Batch scoring held to the model signature, one vectorised predict call."""

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from mlops_assets.errors import SchemaMismatchError
from mlops_assets.ml.frames import feature_frame
from mlops_assets.ml.inference import enforce_signature, score
from mlops_assets.ml.model_store import ModelVersionInfo, log_and_register
from mlops_assets.ml.tracking import MlflowSettings, RunTags, configure, start_run
from mlops_assets.ml.training import TrainingResult, train_model
from mlops_assets_tests.ml.conftest import model_config

TAGS = RunTags(dagster_run_id="run-inference", asset_key="churn/predictions")


@pytest.fixture(scope="module")
def inference_settings(sqlite_store: tuple[str, Path]) -> MlflowSettings:
    uri, artifacts = sqlite_store
    return MlflowSettings(
        tracking_uri=uri,
        experiment_name="inference",
        artifact_location=(artifacts / "inference").as_uri(),
    )


@pytest.fixture(scope="module")
def classifier(
    inference_settings: MlflowSettings,
    good_result: TrainingResult,
    churn_splits: dict[str, pl.DataFrame],
) -> ModelVersionInfo:
    with start_run(inference_settings, "register", TAGS):
        return log_and_register(
            good_result,
            model_config(),
            inference_settings,
            churn_splits["train"],
            registered_name="inference_classifier",
        )


def test_ml_inference_scores_every_row_with_provenance(
    classifier: ModelVersionInfo,
    inference_settings: MlflowSettings,
    good_result: TrainingResult,
    churn_splits: dict[str, pl.DataFrame],
) -> None:
    configure(inference_settings)
    test = churn_splits["test"]
    before = datetime.now(UTC)
    out = score(
        test,
        "models:/inference_classifier/1",
        "inference_classifier",
        "1",
        "champion",
        "customer_id",
        "observed_at",
    )
    assert out.columns == [
        "customer_id",
        "observed_at",
        "prediction",
        "probability",
        "model_name",
        "model_version",
        "model_alias",
        "scored_at",
    ]
    assert out.height == test.height
    assert out["customer_id"].to_list() == test["customer_id"].to_list()
    expected = good_result.pipeline.predict_proba(feature_frame(test, model_config()))[:, 1]
    np.testing.assert_allclose(out["probability"].to_numpy(), expected)
    assert out["prediction"].dtype == pl.Int64
    assert (out["prediction"].to_numpy() == (expected > 0.5)).all()
    assert set(out["model_version"]) == {"1"} and set(out["model_alias"]) == {"champion"}
    assert out["scored_at"].n_unique() == 1
    assert before <= out["scored_at"][0] <= datetime.now(UTC)


def test_ml_inference_enforce_signature_applies_safe_casts_only(
    classifier: ModelVersionInfo,
    inference_settings: MlflowSettings,
    churn_splits: dict[str, pl.DataFrame],
) -> None:
    configure(inference_settings)
    rows = (
        churn_splits["test"]
        .head(20)
        .with_columns(
            pl.col("tenure_months").round().cast(pl.Int32),  # int -> double is safe
            pl.col("contract").cast(pl.Categorical),  # categorical -> string is safe
        )
    )
    held = enforce_signature(rows, classifier.model_uri)
    assert held.schema == pl.Schema(
        {
            "tenure_months": pl.Float64,
            "monthly_charges": pl.Float64,
            "support_calls": pl.Float64,
            "contract": pl.String,
            "region": pl.String,
        }
    )  # extra columns (id, timestamp, label) dropped, features in signature order
    assert held["contract"].to_list() == rows["contract"].cast(pl.String).to_list()


def test_ml_inference_schema_mismatch_names_each_column(
    classifier: ModelVersionInfo,
    inference_settings: MlflowSettings,
    churn_splits: dict[str, pl.DataFrame],
) -> None:
    configure(inference_settings)
    bad = (
        churn_splits["test"]
        .drop("region", "support_calls")
        .with_columns(pl.col("monthly_charges").cast(pl.String))
    )
    with pytest.raises(SchemaMismatchError) as info:
        enforce_signature(bad, classifier.model_uri)
    problems = info.value.context["problems"]
    assert problems == [
        "monthly_charges: expected double, got String",
        "support_calls: missing (expected double)",
        "region: missing (expected string)",
    ]
    with pytest.raises(SchemaMismatchError, match="region: missing"):
        score(bad, classifier.model_uri, "m", "1", None, "customer_id", "observed_at")
    with pytest.raises(SchemaMismatchError, match=r"lacks column\(s\) \['observed_at'\]"):
        score(
            churn_splits["test"].drop("observed_at"),
            classifier.model_uri,
            "m",
            "1",
            None,
            "customer_id",
            "observed_at",
        )


def test_ml_inference_regression_has_null_probability_and_empty_input_works(
    inference_settings: MlflowSettings, churn_splits: dict[str, pl.DataFrame]
) -> None:
    config = model_config(
        name="inference_regressor",
        task="regression",
        positive_label=None,
        label="monthly_charges",
        numeric_features=["tenure_months", "support_calls"],
        flavor={"type": "sklearn", "estimator": "sklearn.linear_model.Ridge"},
        gates={"primary_metric": "rmse"},
    )
    result = train_model(churn_splits["train"], churn_splits["validation"], config)
    with start_run(inference_settings, "regressor", TAGS):
        info = log_and_register(result, config, inference_settings, churn_splits["train"])
    test = churn_splits["test"]
    out = score(test, info.model_uri, info.name, info.version, None, "customer_id", "observed_at")
    assert out["probability"].null_count() == test.height
    assert out["model_alias"].null_count() == test.height
    np.testing.assert_allclose(
        out["prediction"].to_numpy(), result.pipeline.predict(feature_frame(test, config))
    )
    empty = score(
        test.head(0), info.model_uri, info.name, info.version, None, "customer_id", "observed_at"
    )
    assert empty.height == 0 and empty.columns == out.columns
