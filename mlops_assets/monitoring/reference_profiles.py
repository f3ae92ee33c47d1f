"""The drift references of a model, built once at training time and stored with its version.

Two profiles (see :mod:`mlops_assets.monitoring.profile`):

- ``reference_profile``: the model inputs of the training rows (data drift of the features);
- ``prediction_profile``: the model's outputs on the validation rows, under the predictions
  table's column names (the distribution to expect in production): binary: ``probability``
  (numeric, P(positive)); multiclass: ``prediction`` (categorical, the predicted class) and
  ``probability`` (numeric, the predicted class's probability); regression: ``prediction``
  (numeric).

They are plain Pydantic objects until the model is logged; :func:`saved_profiles` writes them to
a temporary folder for exactly as long as the logging needs the files.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from mlops_assets.config.ml import ModelConfig
from mlops_assets.config.monitoring import DriftConfig
from mlops_assets.monitoring.profile import ReferenceProfile, build_profile, save_profile

REFERENCE_PROFILE = "reference_profile"
"""Artifact name of the input profile stored with a model version."""
PREDICTION_PROFILE = "prediction_profile"
"""Artifact name of the prediction profile stored with a model version."""


class ReferenceProfiles(BaseModel):
    """The two drift references of one trained model."""

    model_config = ConfigDict(frozen=True)

    inputs: ReferenceProfile = Field(description="Model inputs on the training rows.")
    predictions: ReferenceProfile = Field(description="Model outputs on the validation rows.")

    def by_artifact(self) -> dict[str, ReferenceProfile]:
        """The profiles under the artifact names they are stored with."""
        return {REFERENCE_PROFILE: self.inputs, PREDICTION_PROFILE: self.predictions}


def prediction_columns(config: ModelConfig) -> tuple[list[str], list[str]]:
    """The predictions-table columns the prediction profile describes: (numeric, categorical)."""
    if config.task == "binary":
        return ["probability"], []
    if config.task == "multiclass":
        return ["probability"], ["prediction"]
    return ["prediction"], []


def prediction_column(config: ModelConfig) -> str:
    """The main predictions-table column the prediction profile describes."""
    return "probability" if config.task == "binary" else "prediction"


def build_reference_profiles(
    pipeline: Any,
    train: pl.DataFrame,
    validation: pl.DataFrame,
    config: ModelConfig,
    drift: DriftConfig,
) -> ReferenceProfiles:
    """Profile the training inputs and ``pipeline``'s outputs on the validation rows.

    Args:
        pipeline: the fitted scikit-learn pipeline (``predict_proba`` for a classifier,
            ``predict`` for a regressor), fed exactly as in training.

    Raises:
        SchemaMismatchError: a feature column is missing or not numeric when said so.
        InsufficientDataError: the training or validation rows are empty.
    """
    from mlops_assets.ml.frames import feature_frame

    inputs = build_profile(
        train,
        numeric=list(config.numeric_features),
        categorical=list(config.categorical_features),
        config=drift,
        seed=config.split.seed,
    )
    from mlops_assets.ml.metrics import interpret_output
    from mlops_assets.ml.training import pipeline_classes

    features = feature_frame(validation, config)
    raw = pipeline.predict(features) if config.task == "regression" else None
    if raw is None:
        raw = pipeline.predict_proba(features)
    out = interpret_output(raw, config.task, len(features), pipeline_classes(pipeline))
    outputs = {"prediction": out.prediction, "probability": out.probability}
    numeric, categorical = prediction_columns(config)
    predictions = pl.DataFrame(
        [pl.Series(c, outputs[c], dtype=pl.Float64) for c in numeric]
        + [pl.Series(c, [str(v) for v in out.prediction], dtype=pl.String) for c in categorical]
    )
    return ReferenceProfiles(
        inputs=inputs,
        predictions=build_profile(
            predictions,
            numeric=numeric,
            categorical=categorical,
            config=drift,
            seed=config.split.seed,
        ),
    )


@contextmanager
def saved_profiles(profiles: ReferenceProfiles) -> Iterator[dict[str, Path]]:
    """The profiles as JSON files (by artifact name) in a folder removed when the block exits."""
    with TemporaryDirectory(prefix="mlops-profile-") as folder:
        yield {
            name: save_profile(profile, Path(folder) / f"{name}.json")
            for name, profile in profiles.by_artifact().items()
        }
