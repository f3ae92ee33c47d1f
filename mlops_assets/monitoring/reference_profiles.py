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

Window counts and sums (over the entity's last N days) depend on how much history precedes a
row: in the first N days of the data they are computed over a shorter history, so a count grows
day after day until the window is full. Production rows always have a full window,
so those features are profiled on the training rows whose window lay entirely inside the data
(:func:`complete_history_rows`, :func:`with_complete_history`); otherwise every clean day would
look drifted on them.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import narwhals as nw
import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from mlops_assets.config.ml import ModelConfig
from mlops_assets.config.monitoring import DriftConfig
from mlops_assets.config.tables import WindowFeature
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.engines.frames import lazy, to_polars
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


HISTORY_AGGREGATES = frozenset({"count", "sum"})
"""Window aggregates that grow with the history behind a row (a mean, min or max over fewer
observations is noisier but centred the same: profiled on every row like other features)."""


class HistoryWindows(BaseModel):
    """The model's window features and the column that dates each training row."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    timestamp: str = Field(description="Time column of the training set (the label time).")
    windows: dict[str, int] = Field(description="Window feature -> its window in days.")


def history_windows(uc: UseCaseConfig) -> HistoryWindows | None:
    """The window counts and sums the use case's model reads (None: it reads none)."""
    if uc.model is None or uc.training_set is None:
        return None
    table = uc.feature_table(uc.training_set.feature_table)
    used = set(uc.model.features)
    windows = {
        f.name: f.window_days
        for f in table.features
        if isinstance(f, WindowFeature) and f.agg in HISTORY_AGGREGATES and f.name in used
    }
    if not windows:
        return None
    return HistoryWindows(timestamp=uc.training_set.label_timestamp, windows=windows)


def complete_history_rows(training_set: object, history: HistoryWindows | None) -> pl.DataFrame:
    """The window columns of the training rows dated at least the widest window after the first
    row: their windows lay entirely inside the data. Filtered on the frame's own engine; only
    those columns reach the driver. Empty when there is nothing to profile this way."""
    if history is None:
        return pl.DataFrame()
    frame = lazy(training_set)
    names = set(frame.collect_schema().names())
    columns = [c for c in history.windows if c in names]
    if not columns or history.timestamp not in names:
        return pl.DataFrame()
    start = to_polars(frame.select(nw.col(history.timestamp).min())).item()
    if start is None:
        return pl.DataFrame()
    cutoff = start + timedelta(days=max(history.windows[c] for c in columns))
    return to_polars(frame.filter(nw.col(history.timestamp) >= cutoff).select(*columns))


def with_complete_history(
    profile: ReferenceProfile, rows: pl.DataFrame, config: DriftConfig, seed: int
) -> ReferenceProfile:
    """``profile`` with the columns of ``rows`` re-profiled on those rows.

    With fewer than ``config.min_rows`` such rows (a training period shorter than the window,
    e.g. a few-day demo) the columns keep their all-rows statistics and are listed in
    ``incomplete_history``: their drift is shown but not counted (a reference and a day with
    different history lengths cannot be compared fairly). The Evidently sample of re-profiled
    columns is redrawn from ``rows`` at the sample's length, so the report frame stays square.
    """
    columns = [c for c in rows.columns if c in profile.columns]
    if not columns:
        return profile
    if rows.height < config.min_rows:
        return profile.model_copy(update={"incomplete_history": columns})
    numeric = [c for c in columns if profile.columns[c].kind == "numeric"]
    categorical = [c for c in columns if c not in numeric]
    part = build_profile(rows, numeric, categorical, config, seed)
    length = profile.report_frame().height
    rng = np.random.default_rng([seed, length])
    picks = rng.choice(part.report_frame().height, size=length, replace=True).tolist()
    return profile.model_copy(
        update={
            "columns": {c: part.columns.get(c, p) for c, p in profile.columns.items()},
            "report_numeric": {
                c: [part.report_numeric[c][i] for i in picks] if c in part.report_numeric else v
                for c, v in profile.report_numeric.items()
            },
            "report_categorical": {
                c: [part.report_categorical[c][i] for i in picks]
                if c in part.report_categorical
                else v
                for c, v in profile.report_categorical.items()
            },
            "complete_history": {c: rows.height for c in columns},
        }
    )


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
    complete_history: pl.DataFrame | None = None,
) -> ReferenceProfiles:
    """Profile the training inputs and ``pipeline``'s outputs on the validation rows.

    Args:
        pipeline: the fitted scikit-learn pipeline (``predict_proba`` for a classifier,
            ``predict`` for a regressor), fed exactly as in training.
        complete_history: window features on the training rows whose window was complete
            (:func:`complete_history_rows`); those columns are profiled on these rows.

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
    if complete_history is not None:
        inputs = with_complete_history(inputs, complete_history, drift, config.split.seed)
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
