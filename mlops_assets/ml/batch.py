"""Batch scoring of a feature table by a registered model version.

Only the columns scoring needs (entity key, timestamp, the configured features and the model's
own inputs) are collected on the driver; the training contract is enforced before the model is
loaded, and the model's signature while scoring. The model is loaded ONCE per call, however many
batches the rows are scored in (:data:`MODEL_LOADS` counts the loads, per model URI).
"""

from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from mlops_assets.config.ml import ModelConfig, Task
from mlops_assets.ml.model_store import ModelVersionInfo

if TYPE_CHECKING:
    from mlflow.pyfunc import PyFuncModel

MODEL_LOADS: Counter[str] = Counter()
"""How many times this module loaded each model URI (the cost batching must not multiply)."""


def _load(model_uri: str) -> "PyFuncModel":
    from mlops_assets.ml.model_store import load_pyfunc

    model = load_pyfunc(model_uri)
    MODEL_LOADS[model_uri] += 1
    return model


def batch_bounds(rows: int, batch_size: int) -> list[tuple[int, int]]:
    """``(offset, length)`` of each scoring call over ``rows`` rows (0: one call for all)."""
    size = batch_size or max(rows, 1)
    return [(start, min(size, rows - start)) for start in range(0, rows, size)] or [(0, 0)]


def score_batch(
    features: object,
    version: ModelVersionInfo,
    config: ModelConfig,
    *,
    alias: str | None,
    what: str,
    batch_size: int = 0,
) -> pl.DataFrame:
    """Predictions for every row of ``features`` (see :func:`mlops_assets.ml.inference.score`).

    Args:
        features: any narwhals-supported frame (Polars, Spark, narwhals).
        version: the registered version to score with.
        alias: the alias ``version`` was resolved through (recorded on every row), if any.
        what: the frame's role in error messages, e.g. ``"feature partition 2026-01-03"``.
        batch_size: rows per predict call (:func:`batch_bounds`); 0: one call for all. The
            model is loaded once either way, and every row carries the same ``scored_at``.

    Raises:
        DataValidationError: a feature has missing values the config does not impute (`imputation:
            error`); a column the upstream stopped sending comes back all null from its Delta
            partition and would otherwise be scored silently.
        SchemaMismatchError: key, timestamp or model input columns are missing or incompatible.
        RegistryError, ModelError: the model cannot be loaded or failed to predict.
    """
    from mlops_assets.ml.columns import collect_columns, scoring_columns
    from mlops_assets.ml.frames import check_missing_values
    from mlops_assets.ml.inference import score

    frame = collect_columns(features, scoring_columns(config, version.model_uri))
    if set(config.features) <= set(frame.columns):  # missing ones: named by the signature check
        check_missing_values(frame, config, what=what)
    model = _load(version.model_uri)
    scored_at = datetime.now(UTC)
    return pl.concat(
        [
            score(
                frame.slice(start, length),
                version.model_uri,
                version.name,
                version.version,
                alias,
                config.entity_key,
                config.timestamp,
                model=model,
                scored_at=scored_at,
            )
            for start, length in batch_bounds(frame.height, batch_size)
        ]
    )


class ScoringSpec(BaseModel):
    """One batch scoring, as the Dagster process resolved it (the same wherever it runs).

    The version is resolved (alias or explicit version) before the work is handed on, so a
    remote job scores exactly the version the asset chose even if the alias moves meanwhile.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    version: ModelVersionInfo = Field(description="The registered version that scores.")
    alias: str | None = Field(description="The alias it was resolved through, if any.")
    model: ModelConfig = Field(description="The use case's model config (columns, imputation).")
    batch_size: int = Field(default=0, ge=0, description="Rows per predict call; 0: all.")
    what: str = Field(description="The frame's role in error messages.")


class ScoringSummary(BaseModel):
    """What a batch scoring reports (the asset's metadata, wherever the rows were scored).

    The figures that describe the predictions depend on the task: a binary model's positive
    rate and mean P(positive), a multiclass model's share of rows per predicted class and mean
    probability of the predicted class, a regression model's mean prediction. The others are
    None (and left out of the metadata), as they are when nothing was scored.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    rows: int = Field(description="Rows scored (one prediction per input row).")
    model_version: int = Field(description="The version that scored them.")
    scoring_batches: int = Field(description="Predict calls made.")
    mean_probability: float | None = Field(
        default=None,
        description="Mean of `probability`: P(positive) (binary), the predicted class's "
        "probability (multiclass); None for regression or no rows.",
    )
    positive_rate: float | None = Field(
        default=None, description="Share of rows predicted positive (binary; None otherwise)."
    )
    class_shares: dict[str, float] | None = Field(
        default=None,
        description="Share of rows per predicted class, by class (multiclass; None otherwise).",
    )
    mean_prediction: float | None = Field(
        default=None, description="Mean predicted value (regression; None otherwise)."
    )


def summarize_predictions(
    scored: pl.DataFrame, task: Task, *, model_version: int, scoring_batches: int
) -> ScoringSummary:
    """The :class:`ScoringSummary` of a predictions frame (:func:`score`'s columns) of ``task``.

    A multiclass ``prediction`` is a class label (text): it is counted per class, never cast
    to a number.
    """
    rows = scored.height
    summary = ScoringSummary(
        rows=rows, model_version=model_version, scoring_batches=scoring_batches
    )
    if not rows:
        return summary
    if task == "regression":
        mean = scored["prediction"].cast(pl.Float64).mean()
        return summary.model_copy(update={"mean_prediction": _number(mean)})
    probability = _number(scored["probability"].mean())
    if task == "binary":
        positive = _number(scored["prediction"].cast(pl.Float64).mean())
        return summary.model_copy(
            update={"mean_probability": probability, "positive_rate": positive}
        )
    counts = scored["prediction"].cast(pl.String).fill_null("null").value_counts(sort=False)
    shares = {
        str(label): int(n) / rows
        for label, n in sorted(counts.iter_rows(), key=lambda row: str(row[0]))
    }
    return summary.model_copy(update={"mean_probability": probability, "class_shares": shares})


def _number(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def score_features(features: object, spec: ScoringSpec) -> tuple[pl.DataFrame, ScoringSummary]:
    """Score every row of ``features`` (any narwhals-supported frame) with ``spec.version``:
    the predictions (:func:`score`'s columns) and their summary.

    The one scoring core of the batch inference asset: the Dagster process calls it on the
    frame the IO manager loaded, and the ``score`` step of a Databricks job on the partition it
    reads (:mod:`mlops_assets.databricks.steps`). The model is loaded once
    (:data:`MODEL_LOADS`).
    """
    scored = score_batch(
        features,
        spec.version,
        spec.model,
        alias=spec.alias,
        what=spec.what,
        batch_size=spec.batch_size,
    )
    summary = summarize_predictions(
        scored,
        _predicted_task(scored, spec.model.task),
        model_version=int(spec.version.version),
        scoring_batches=len(batch_bounds(scored.height, spec.batch_size)),
    )
    return scored, summary


def _predicted_task(scored: pl.DataFrame, configured: Task) -> Task:
    """The task the predictions are of: ``prediction``'s dtype says it (:func:`score` casts it
    per the model's own task), the configured one when the dtype is ambiguous."""
    dtype = scored.schema["prediction"]
    if dtype == pl.String:
        return "multiclass"
    if dtype == pl.Int64:
        return "binary"
    if dtype == pl.Float64:
        return "regression"
    return configured
