"""Train a model from config: validate the data, fit the pipeline, log to MLflow, search optionally.

Everything is logged to the *active* MLflow run when there is one (see
:func:`mlops_assets.ml.tracking.start_run`); each search trial is a nested run. Without an active
run, training still works and logs nothing.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy.typing as npt
import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from mlops_assets.config.ml import ModelConfig, ParamValue, SearchConfig, greater_is_better
from mlops_assets.errors import MLOpsError, TrainingError
from mlops_assets.ml import frames
from mlops_assets.ml.estimators import build_pipeline, estimator_path
from mlops_assets.ml.metrics import compute_metrics, interpret_output

if TYPE_CHECKING:
    import pandas as pd
    from sklearn.pipeline import Pipeline


class TrialResult(BaseModel):
    """One hyper-parameter search trial."""

    model_config = ConfigDict(frozen=True)

    index: int = Field(description="Trial number, from 0.")
    run_id: str | None = Field(description="Nested MLflow run id (None without an active run).")
    params: dict[str, ParamValue] = Field(description="Estimator parameters of the trial.")
    metrics: dict[str, float] = Field(description="Validation metrics of the trial.")
    fit_seconds: float = Field(description="Wall time of the fit.")


@dataclass(frozen=True)
class TrainingResult:
    """A fitted pipeline and what is known about it."""

    pipeline: Pipeline
    """Preprocessing + estimator, fitted on the training rows."""
    params: dict[str, ParamValue]
    """Estimator parameters actually used (configured, overridden, searched, defaulted)."""
    validation_metrics: dict[str, float]
    """Metrics on the validation rows."""
    trials: list[TrialResult]
    """Search trials (empty without a search)."""
    run_id: str | None
    """MLflow run the training was logged to."""
    estimator: str
    """Import path of the estimator class."""
    n_train: int
    n_validation: int


@dataclass(frozen=True)
class _Prepared:
    x_train: pd.DataFrame
    y_train: npt.NDArray[Any]
    x_val: pd.DataFrame
    y_val: npt.NDArray[Any]


def _prepare(train: pl.DataFrame, validation: pl.DataFrame, config: ModelConfig) -> _Prepared:
    arrays = []
    for what, df in (("training", train), ("validation", validation)):
        frames.check_columns(df, config, need_label=True, what=what)
        frames.check_missing_values(df, config, what=what)
        y = frames.label_array(df, config, what=what)
        frames.check_two_classes(y, config, what=what)
        arrays.append((frames.feature_frame(df, config), y))
    (x_train, y_train), (x_val, y_val) = arrays
    return _Prepared(x_train, y_train, x_val, y_val)


def _fit(config: ModelConfig, params: dict[str, ParamValue], data: _Prepared) -> Pipeline:
    pipeline = build_pipeline(config, params)
    try:
        pipeline.fit(data.x_train, data.y_train)
    except MLOpsError:
        raise
    except Exception as exc:  # the estimator's own failure, whatever its type
        raise TrainingError(
            f"fitting {estimator_path(config)} failed: {type(exc).__name__}: {exc}",
            context={"model": config.name, "params": params, "rows": len(data.y_train)},
            fix="check the estimator parameters and the training data",
        ) from exc
    return pipeline


def _validation_metrics(
    pipeline: Pipeline, config: ModelConfig, data: _Prepared
) -> dict[str, float]:
    if config.task == "regression":
        raw = pipeline.predict(data.x_val)
    else:
        raw = pipeline.predict_proba(data.x_val)
    outputs = interpret_output(raw, config.task, len(data.y_val), pipeline_classes(pipeline))
    return compute_metrics(config.task, data.y_val, outputs)


def pipeline_classes(pipeline: Pipeline) -> list[str] | None:
    """The class labels of a fitted classifier, as strings, in ``predict_proba`` column order."""
    classes = getattr(pipeline, "classes_", None)
    return None if classes is None else [str(c) for c in classes]


def _used_params(pipeline: Pipeline, explicit: dict[str, ParamValue]) -> dict[str, ParamValue]:
    actual = pipeline.named_steps["model"].get_params(deep=False)
    keys = set(explicit) | ({"random_state"} & set(actual))
    return {k: actual[k] for k in sorted(keys)}


def _candidates(search: SearchConfig, seed: int) -> list[dict[str, Any]]:
    from sklearn.model_selection import ParameterGrid, ParameterSampler

    grid = ParameterGrid(search.space)
    if search.type == "grid":
        return list(grid)
    n_iter = min(search.n_iter, len(grid))
    return list(ParameterSampler(search.space, n_iter=n_iter, random_state=seed))


def _sort_key(metric: str, value: float) -> float:
    """Larger is better after this transform; NaN ranks last."""
    if math.isnan(value):
        return -math.inf
    return value if greater_is_better(metric) else -value


def _search(
    config: ModelConfig, base: dict[str, ParamValue], search: SearchConfig, data: _Prepared
) -> tuple[Pipeline, dict[str, ParamValue], dict[str, float], list[TrialResult]]:
    import mlflow

    trials: list[TrialResult] = []
    best: tuple[float, int, Pipeline] | None = None
    logging = mlflow.active_run() is not None
    for index, candidate in enumerate(_candidates(search, config.split.seed)):
        params: dict[str, ParamValue] = {**base, **candidate}
        start = time.perf_counter()
        run_id = None
        if logging:
            with mlflow.start_run(run_name=f"trial-{index:02d}", nested=True) as run:
                run_id = run.info.run_id
                mlflow.set_tag("mlops.trial", str(index))
                pipeline = _fit(config, params, data)
                metrics = _validation_metrics(pipeline, config, data)
                mlflow.log_params({k: str(v) for k, v in _used_params(pipeline, params).items()})
                mlflow.log_metrics({f"val_{k}": v for k, v in metrics.items()})
        else:
            pipeline = _fit(config, params, data)
            metrics = _validation_metrics(pipeline, config, data)
        seconds = time.perf_counter() - start
        trial = TrialResult(
            index=index, run_id=run_id, params=params, metrics=metrics, fit_seconds=seconds
        )
        trials.append(trial)
        score = _sort_key(search.metric, metrics[search.metric])
        if best is None or score > best[0]:
            best = (score, index, pipeline)
    if best is None:  # the config validation guarantees at least one candidate
        raise TrainingError("the search produced no trial", context={"model": config.name})
    _, chosen_index, pipeline = best
    chosen = trials[chosen_index]
    if logging:
        mlflow.set_tags(
            {
                "mlops.search.type": search.type,
                "mlops.search.metric": search.metric,
                "mlops.search.best_trial": str(chosen.index),
                "mlops.search.best_run_id": str(chosen.run_id),
            }
        )
    return pipeline, _used_params(pipeline, chosen.params), dict(chosen.metrics), trials


def train_model(
    train: pl.DataFrame,
    validation: pl.DataFrame,
    config: ModelConfig,
    params_override: dict[str, ParamValue] | None = None,
) -> TrainingResult:
    """Validate the data, fit the configured pipeline (searching if configured), log to MLflow.

    Args:
        train: training rows (label + features; other columns are ignored).
        validation: validation rows, used for metrics and to pick the best search trial.
        config: the model config.
        params_override: estimator parameters that override ``flavor.params``.

    Raises:
        SchemaMismatchError: the label or feature columns are missing or mistyped.
        DataValidationError: null labels, a single class, or missing feature values that the
            imputation policy does not handle.
        ConfigError: the estimator cannot be imported or rejects its parameters.
        TrainingError: the estimator failed while fitting.
    """
    import mlflow

    data = _prepare(train, validation, config)
    base: dict[str, ParamValue] = {**config.flavor.params, **(params_override or {})}
    trials: list[TrialResult] = []
    if config.search is not None:
        pipeline, params, metrics, trials = _search(config, base, config.search, data)
    else:
        pipeline = _fit(config, base, data)
        params = _used_params(pipeline, base)
        metrics = _validation_metrics(pipeline, config, data)
    run = mlflow.active_run()
    if run is not None:
        mlflow.log_params(
            {
                **{k: str(v) for k, v in params.items()},
                "mlops.estimator": estimator_path(config),
                "mlops.flavor": config.flavor.type,
                "mlops.train_rows": str(len(data.y_train)),
                "mlops.validation_rows": str(len(data.y_val)),
                "mlops.split_seed": str(config.split.seed),
            }
        )
        mlflow.log_metrics({f"val_{k}": v for k, v in metrics.items()})
        mlflow.set_tag("mlops.model_name", config.name)
    return TrainingResult(
        pipeline=pipeline,
        params=params,
        validation_metrics=metrics,
        trials=trials,
        run_id=None if run is None else run.info.run_id,
        estimator=estimator_path(config),
        n_train=len(data.y_train),
        n_validation=len(data.y_val),
    )
