"""Logging and registering real models, and loading them back (skops trusted types included)."""

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
import sklearn

from mlops_assets.errors import RegistryError, SchemaMismatchError
from mlops_assets.ml.frames import feature_frame
from mlops_assets.ml.model_store import load_pyfunc, log_and_register
from mlops_assets.ml.tracking import MlflowSettings, RunTags, start_run
from mlops_assets.ml.training import TrainingResult, train_model
from mlops_assets_tests.ml.conftest import model_config

TAGS = RunTags(dagster_run_id="run-store", asset_key="churn/model/registered")


@pytest.mark.parametrize(
    "flavor",
    [
        {"type": "sklearn", "estimator": "sklearn.ensemble.HistGradientBoostingClassifier"},
        {
            "type": "sklearn",
            "estimator": "sklearn.ensemble.RandomForestClassifier",
            "params": {"n_estimators": 25, "max_depth": 6},
        },
        {"type": "lightgbm", "params": {"n_estimators": 25}},
    ],
    ids=["hist_gradient_boosting", "random_forest", "lightgbm"],
)
def test_ml_model_store_tree_models_log_and_load_back(
    churn_splits: dict[str, pl.DataFrame],
    settings: MlflowSettings,
    model_name: str,
    flavor: dict[str, object],
) -> None:
    from mlflow.models import Model

    config = model_config(flavor=flavor)
    train, test = churn_splits["train"], churn_splits["test"]
    with start_run(settings, "train", TAGS) as run:
        result = train_model(train, churn_splits["validation"], config)
        info = log_and_register(result, config, settings, train, registered_name=model_name)
    assert (info.name, info.version) == (model_name, "1")
    assert info.model_uri == f"models:/{model_name}/1"
    assert info.run_id == run.info.run_id
    assert info.logged_model_uri is not None and info.logged_model_uri.startswith("models:/m-")
    assert info.tags["mlops.task"] == "binary"

    loaded = load_pyfunc(info.model_uri)
    features = feature_frame(test, config)  # the model's input contract: doubles and strings
    served = np.asarray(loaded.predict(features))
    np.testing.assert_allclose(served, result.pipeline.predict_proba(features))

    sklearn_conf = Model.load(info.model_uri).flavors["sklearn"]
    assert sklearn_conf["serialization_format"] == "skops"  # the safe format, not pickle
    assert sklearn_conf["skops_trusted_types"]  # exactly the types this model contains


def test_ml_model_store_signature_example_and_pins(
    churn_splits: dict[str, pl.DataFrame],
    settings: MlflowSettings,
    model_name: str,
    good_result: TrainingResult,
    tmp_path: Path,
) -> None:
    import mlflow
    from mlflow.models import Model

    config = model_config()
    reference = tmp_path / "reference.json"
    reference.write_text('{"rows": 3}')
    with start_run(settings, "register", TAGS):
        info = log_and_register(
            good_result,
            config,
            settings,
            churn_splits["train"],
            artifacts={"reference_profile": reference},
            registered_name=model_name,
        )
    model = Model.load(info.model_uri)
    assert model.signature is not None
    inputs = {spec.name: spec.type.name for spec in model.signature.inputs.inputs}
    assert inputs == {
        "tenure_months": "double",
        "monthly_charges": "double",
        "support_calls": "double",
        "contract": "string",
        "region": "string",
    }
    example: Any = model.load_input_example(info.model_uri)
    assert list(example.columns) == config.features and len(example) == 5
    assert model.metadata is not None
    assert model.metadata["mlops"]["task"] == "binary"

    requirements = Path(mlflow.pyfunc.get_model_dependencies(info.model_uri)).read_text()
    assert f"scikit-learn=={sklearn.__version__}" in requirements
    assert f"mlflow=={mlflow.__version__}" in requirements

    uri = info.tags["mlops.artifact.reference_profile"]
    downloaded = Path(mlflow.artifacts.download_artifacts(uri, dst_path=str(tmp_path / "dl")))
    assert downloaded.read_text() == '{"rows": 3}'


def test_ml_model_store_resumes_the_training_run_when_none_is_active(
    churn_splits: dict[str, pl.DataFrame], settings: MlflowSettings, model_name: str
) -> None:
    import mlflow

    config = model_config()
    with start_run(settings, "train", TAGS) as run:
        result = train_model(churn_splits["train"], churn_splits["validation"], config)
    assert mlflow.active_run() is None
    info = log_and_register(
        result, config, settings, churn_splits["train"], registered_name=model_name
    )
    assert info.run_id == run.info.run_id
    assert mlflow.active_run() is None


def test_ml_model_store_refuses_without_a_run_or_with_a_bad_example(
    churn_splits: dict[str, pl.DataFrame],
    settings: MlflowSettings,
    good_result: TrainingResult,
    model_name: str,
) -> None:
    config = model_config()
    with pytest.raises(RegistryError, match="needs an MLflow run"):
        log_and_register(good_result, config, settings, churn_splits["train"])
    with (
        start_run(settings, "register", TAGS),
        pytest.raises(SchemaMismatchError, match=r"input example data lacks 1 column\(s\)"),
    ):
        log_and_register(
            good_result,
            config,
            settings,
            churn_splits["train"].drop("region"),
            registered_name=model_name,
        )


def test_ml_model_store_load_of_unknown_model_is_a_registry_error(
    settings: MlflowSettings,
) -> None:
    from mlops_assets.ml.tracking import configure

    configure(settings)
    with pytest.raises(RegistryError, match="could not load model 'models:/no_such_model/1'"):
        load_pyfunc("models:/no_such_model/1")
