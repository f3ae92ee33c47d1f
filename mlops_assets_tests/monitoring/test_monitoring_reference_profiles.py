"""The drift references of a trained model: its inputs on training rows, outputs on validation."""

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from mlops_assets.config.monitoring import DriftConfig
from mlops_assets.ml.frames import feature_frame
from mlops_assets.ml.split import split_frame
from mlops_assets.ml.training import train_model
from mlops_assets.monitoring.profile import load_profile
from mlops_assets.monitoring.reference_profiles import (
    PREDICTION_PROFILE,
    REFERENCE_PROFILE,
    build_reference_profiles,
    prediction_column,
    saved_profiles,
)
from mlops_assets_tests.ml.conftest import CATEGORICAL, NUMERIC, make_churn_frame, model_config

DRIFT = DriftConfig(reference_sample_size=2_000, report_sample_size=300)
REGRESSION: dict[str, Any] = {
    "task": "regression",
    "label": "monthly_charges",
    "positive_label": None,
    "numeric_features": ["tenure_months", "support_calls"],
    "flavor": {
        "type": "sklearn",
        "estimator": "sklearn.ensemble.HistGradientBoostingRegressor",
        "params": {"max_iter": 30},
    },
    "gates": {"primary_metric": "rmse"},
}


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_reference_profiles_describe_training_inputs_and_validation_outputs(task: str) -> None:
    config = model_config(**REGRESSION) if task == "regression" else model_config()
    splits = split_frame(make_churn_frame(1_500, seed=4), config.entity_key, config.split)
    train, validation = splits["train"], splits["validation"]
    result = train_model(train, validation, config)

    profiles = build_reference_profiles(result.pipeline, train, validation, config, DRIFT)

    inputs = profiles.inputs
    assert inputs.numeric == list(config.numeric_features)
    assert inputs.categorical == list(config.categorical_features)
    assert inputs.n_rows == train.height
    tenure = inputs.columns["tenure_months"]
    assert tenure.kind == "numeric"
    assert tenure.mean == pytest.approx(train["tenure_months"].mean(), rel=1e-12)
    column = prediction_column(config)
    assert column == ("probability" if task == "classification" else "prediction")
    predictions = profiles.predictions
    assert predictions.numeric == [column] and predictions.categorical == []
    assert predictions.n_rows == validation.height
    features = feature_frame(validation, config)
    outputs = (
        result.pipeline.predict_proba(features)[:, 1]
        if task == "classification"
        else result.pipeline.predict(features)
    )
    profile = predictions.columns[column]
    assert profile.kind == "numeric"
    assert profile.mean == pytest.approx(float(np.mean(outputs)), rel=1e-9)
    assert (profile.min, profile.max) == pytest.approx((outputs.min(), outputs.max()))


def test_saved_profiles_exist_only_inside_the_block(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where TemporaryDirectory goes
    config = model_config()
    splits = split_frame(make_churn_frame(800, seed=5), config.entity_key, config.split)
    result = train_model(splits["train"], splits["validation"], config)
    profiles = build_reference_profiles(
        result.pipeline, splits["train"], splits["validation"], config, DRIFT
    )
    with saved_profiles(profiles) as files:
        assert set(files) == {REFERENCE_PROFILE, PREDICTION_PROFILE}
        assert load_profile(files[REFERENCE_PROFILE]) == profiles.inputs
        assert load_profile(files[PREDICTION_PROFILE]) == profiles.predictions
        folder = files[REFERENCE_PROFILE].parent
        assert folder.parent == tmp_path and folder.name.startswith("mlops-profile-")
    assert not folder.exists()
    assert list(tmp_path.iterdir()) == []


def test_numeric_and_categorical_features_are_profiled_from_the_configured_lists() -> None:
    config = model_config()
    train = make_churn_frame(300, seed=6).with_columns(extra=pl.lit(1.0))
    validation = make_churn_frame(100, seed=7, prefix="val")
    result = train_model(train, validation, config)
    inputs = build_reference_profiles(result.pipeline, train, validation, config, DRIFT).inputs
    assert list(inputs.columns) == [*NUMERIC, *CATEGORICAL]  # no label, key or extra column
