"""Reading the MLflow registry of a data root, and scoring held-out rows independently."""

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import polars as pl
from mlflow import MlflowClient

from mlops_assets.config.ml import ModelConfig
from mlops_assets.config.project import local_environment
from mlops_assets.ml.split import split_frame
from mlops_assets_tests.assets.ml.lifecycle_helpers import (
    MODEL,
    TRAINING_SET_KEY,
    USE_CASE,
    project_for,
    read_lake,
)

if TYPE_CHECKING:
    from mlflow.pyfunc import PyFuncModel


def tracking_uri(data_dir: Path) -> str:
    """The SQLite tracking store of a data root."""
    return local_environment(project_for(data_dir)).tracking_uri


def client(data_dir: Path) -> MlflowClient:
    """An MLflow client on a data root's store (no global state)."""
    uri = tracking_uri(data_dir)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def alias_version(data_dir: Path, alias: str = "champion") -> str | None:
    """The version an alias of the churn model points at, read from the registry itself."""
    aliases = client(data_dir).get_registered_model(MODEL).aliases or {}
    version = aliases.get(alias)
    return None if version is None else str(version)


def latest_version(data_dir: Path) -> str:
    """The newest registered version of the churn model."""
    versions = client(data_dir).search_model_versions(f"name = '{MODEL}'")
    return str(max(int(v.version) for v in versions))


def model_config() -> ModelConfig:
    """The churn model's configuration."""
    config = project_for(Path("/nonexistent")).use_case(USE_CASE).model
    assert config is not None
    return config


def held_out(data_dir: Path) -> pl.DataFrame:
    """The test split of the stored training set (the rows the gates are evaluated on)."""
    config = model_config()
    return split_frame(read_lake(data_dir, TRAINING_SET_KEY), config.entity_key, config.split)[
        "test"
    ]


def load_model(data_dir: Path, version: str) -> "PyFuncModel":
    """Load a registered version of the churn model from a data root's registry."""
    import mlflow

    uri = tracking_uri(data_dir)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    model: PyFuncModel = mlflow.pyfunc.load_model(f"models:/{MODEL}/{version}")
    return model


def churn_probability(model: "PyFuncModel", frame: pl.DataFrame) -> npt.NDArray[np.float64]:
    """P(churn) of each row, computed here from the raw feature columns."""
    config = model_config()
    features = frame.select(
        *[pl.col(c).cast(pl.Float64) for c in config.numeric_features],
        *[pl.col(c).cast(pl.String) for c in config.categorical_features],
    ).to_pandas()
    return np.asarray(model.predict(features), dtype=np.float64)[:, 1]


def roc_auc(data_dir: Path, version: str, frame: pl.DataFrame) -> float:
    """ROC AUC of a version on ``frame``, computed with scikit-learn directly."""
    from sklearn.metrics import roc_auc_score

    y = (frame["churn"] == model_config().positive_label).to_numpy()
    return float(roc_auc_score(y, churn_probability(load_model(data_dir, version), frame)))
