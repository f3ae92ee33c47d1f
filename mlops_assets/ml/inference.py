"""Batch inference: hold data to the model's signature, then score every row in one call."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import polars as pl

from mlops_assets.config.ml import Task
from mlops_assets.errors import MLOpsError, ModelError, RegistryError, SchemaMismatchError
from mlops_assets.ml.metrics import Predictions, interpret_output
from mlops_assets.ml.model_store import (
    load_pyfunc,
    model_classes,
    model_task,
)

if TYPE_CHECKING:
    import pandas as pd
    from mlflow.pyfunc import PyFuncModel
    from mlflow.types import Schema

PREDICTION_COLUMNS = (
    "prediction",
    "probability",
    "model_name",
    "model_version",
    "model_alias",
    "scored_at",
)
"""The columns :func:`score` adds after the entity key and timestamp, the same for every task.

``prediction``: ``Int64`` 0/1 (binary), ``String`` class label (multiclass), ``Float64``
(regression). ``probability``: ``Float64`` P(positive class) (binary), probability of the
predicted class (multiclass), always null (regression).
"""
PREDICTION_DTYPES: dict[Task, pl.DataType] = {
    "binary": pl.Int64(),
    "multiclass": pl.String(),
    "regression": pl.Float64(),
}
"""The dtype of the ``prediction`` column per task."""

# MLflow column type -> (target Polars dtype, predicate: may a column of this dtype be cast?)
_TARGETS: dict[str, tuple[pl.DataType, Any]] = {
    "double": (pl.Float64(), lambda d: d.is_numeric() or d == pl.Boolean),
    "float": (pl.Float32(), lambda d: d.is_numeric() or d == pl.Boolean),
    "long": (pl.Int64(), lambda d: d.is_integer() or d == pl.Boolean),
    "integer": (pl.Int32(), lambda d: d.is_integer() or d == pl.Boolean),
    "boolean": (pl.Boolean(), lambda d: d == pl.Boolean),
    "string": (
        pl.String(),
        lambda d: (
            d in (pl.String, pl.Categorical)
            or isinstance(d, pl.Enum)
            or d.is_integer()
            or d == pl.Boolean
        ),
    ),
    "binary": (pl.Binary(), lambda d: d in (pl.Binary, pl.String)),
    "datetime": (pl.Datetime("ns"), lambda d: d in (pl.Date, pl.Datetime)),
}


def input_schema(model_uri: str) -> Schema | None:
    """The input schema of a logged model's signature (None if it has none)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from mlops_assets.ml.mlflow_retry import call_with_retry

    try:
        info = call_with_retry(
            f"reading the signature of {model_uri}",
            lambda: mlflow.models.get_model_info(model_uri),
            target=mlflow.get_registry_uri(),
            context={"model_uri": model_uri},
        )
    except (MlflowException, OSError) as exc:
        raise RegistryError(
            f"could not read the signature of {model_uri!r}: {exc}",
            context={"model_uri": model_uri},
            fix="check the model URI and the tracking/registry URI",
        ) from exc
    return None if info.signature is None else info.signature.inputs


def _enforce(df: pl.DataFrame, schema: Schema | None, model_uri: str) -> pl.DataFrame:
    if schema is None or not schema.has_input_names():
        return df
    problems: list[str] = []
    exprs: list[pl.Expr] = []
    for spec in schema.inputs:
        name = spec.name
        expected = getattr(spec.type, "name", str(spec.type))
        if name not in df.columns:
            if getattr(spec, "required", True):
                problems.append(f"{name}: missing (expected {expected})")
            continue
        target = _TARGETS.get(expected)
        got = df.schema[name]
        if target is None or not target[1](got):
            problems.append(f"{name}: expected {expected}, got {got}")
            continue
        exprs.append(pl.col(name).cast(target[0], strict=True))
    if problems:
        raise SchemaMismatchError(
            f"the data does not match the signature of {model_uri}: " + "; ".join(problems),
            context={"model_uri": model_uri, "problems": problems},
            fix="provide the columns with compatible types (safe casts such as int -> double "
            "are applied automatically)",
        )
    try:
        return df.select(exprs)
    except pl.exceptions.InvalidOperationError as exc:
        raise SchemaMismatchError(
            f"values do not fit the signature of {model_uri}: {exc}",
            context={"model_uri": model_uri},
            fix="check for out-of-range integers",
        ) from exc


def enforce_signature(df: pl.DataFrame, model_uri: str) -> pl.DataFrame:
    """Select and cast ``df``'s columns to the model's input signature.

    Safe casts (integer -> double, boolean -> double, categorical -> string, ...) are applied;
    extra columns are dropped.

    Raises:
        SchemaMismatchError: one entry per missing or incompatible column, expected vs got.
    """
    return _enforce(df, input_schema(model_uri), model_uri)


def model_input(df: pl.DataFrame, model: PyFuncModel, model_uri: str) -> pd.DataFrame:
    """``df`` held to the loaded model's signature, as the pandas frame pyfunc expects."""
    signature = model.metadata.signature
    schema = None if signature is None else signature.inputs
    return _enforce(df, schema, model_uri).to_pandas()


def predict(model: PyFuncModel, df: pl.DataFrame, model_uri: str) -> Predictions:
    """One vectorised predict call; outputs interpreted by the task stored with the model."""
    features = model_input(df, model, model_uri)
    try:
        raw = model.predict(features)
    except MLOpsError:
        raise
    except Exception as exc:  # whatever the model raises
        raise ModelError(
            f"model {model_uri} failed to predict {df.height} rows: {type(exc).__name__}: {exc}",
            context={"model_uri": model_uri, "rows": df.height},
            fix="check the input data (missing values the model cannot handle?)",
        ) from exc
    return interpret_output(raw, output_task(model, raw), df.height, model_classes(model))


def output_task(model: PyFuncModel, raw: Any = None) -> Task:
    """The task stored with the model; without one (not logged by log_and_register), what the
    output's shape says: ``(n, 2)`` binary, else regression."""
    task = model_task(model)
    if task is not None:
        return task
    shape: tuple[int, ...] = tuple(getattr(raw, "shape", ()))
    return "binary" if len(shape) == 2 and shape[1] == 2 else "regression"


def score(
    df: pl.DataFrame,
    model_uri: str,
    model_name: str,
    version: str,
    alias: str | None,
    entity_key: str,
    timestamp: str,
    *,
    model: PyFuncModel | None = None,
    scored_at: datetime | None = None,
) -> pl.DataFrame:
    """Score every row: entity key, timestamp, then :data:`PREDICTION_COLUMNS`.

    ``model``: the model of ``model_uri`` already loaded (scoring in batches loads it once);
    loaded here when None. ``scored_at``: the instant recorded on every row (default: now).

    ``prediction`` and ``probability`` follow the model's task (see :data:`PREDICTION_COLUMNS`);
    their dtypes are the same whether or not ``df`` has rows. ``scored_at`` is the same UTC
    instant for the whole batch.

    Raises:
        SchemaMismatchError: key/timestamp or model input columns are missing or incompatible.
        RegistryError: the model cannot be loaded.
        ModelError: the model failed to predict.
    """
    missing = [c for c in (entity_key, timestamp) if c not in df.columns]
    if missing:
        raise SchemaMismatchError(
            f"the data to score lacks column(s) {missing}",
            context={"missing": missing, "available": df.columns},
            fix="pass the entity key and timestamp columns along with the features",
        )
    if model is None:
        model = load_pyfunc(model_uri)
    if df.height:
        out = predict(model, df, model_uri)
        task: Task = (
            "regression"
            if out.probability is None
            else "binary"
            if out.probabilities is None
            else "multiclass"
        )
        prediction = pl.Series("prediction", out.prediction.tolist())
        probability = (
            pl.Series("probability", out.probability, dtype=pl.Float64)
            if out.probability is not None
            else pl.repeat(None, df.height, dtype=pl.Float64, eager=True).alias("probability")
        )
    else:
        model_input(df, model, model_uri)  # still validate the columns
        task = output_task(model)
        prediction = pl.Series("prediction", [])
        probability = pl.Series("probability", [], dtype=pl.Float64)
    prediction = prediction.cast(PREDICTION_DTYPES[task])
    return df.select(entity_key, timestamp).with_columns(
        prediction,
        probability,
        pl.lit(model_name, dtype=pl.String).alias("model_name"),
        pl.lit(str(version), dtype=pl.String).alias("model_version"),
        pl.lit(alias, dtype=pl.String).alias("model_alias"),
        pl.lit(scored_at or datetime.now(UTC), dtype=pl.Datetime("us", "UTC")).alias("scored_at"),
    )
