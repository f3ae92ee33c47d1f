"""Evaluate registered models on a held-out set; compare a challenger with the champion.

Each model is held to its *own* signature (a champion trained on an older feature list is still
evaluated correctly), while the label comes from the config, so both are judged on the same rows
and the same truth. Metrics and plots are logged to the active MLflow run, if any.
"""

from __future__ import annotations

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from mlops_assets.config.ml import ModelConfig
from mlops_assets.errors import EvaluationError, MLOpsError, RegistryError, SchemaMismatchError
from mlops_assets.ml import frames, plots
from mlops_assets.ml.inference import predict
from mlops_assets.ml.metrics import Predictions, compute_metrics
from mlops_assets.ml.model_store import load_pyfunc


class EvaluationResult(BaseModel):
    """A model's metrics on a held-out set."""

    model_config = ConfigDict(frozen=True)

    model_uri: str = Field(description="The evaluated model.")
    metrics: dict[str, float] = Field(description="Metric name -> value (canonical names).")
    n_rows: int = Field(description="Rows evaluated.")
    plots: list[str] = Field(default_factory=list, description="Logged plot artifact paths.")


class Comparison(BaseModel):
    """Challenger and champion evaluated on the same rows."""

    model_config = ConfigDict(frozen=True)

    challenger: EvaluationResult = Field(description="The candidate model.")
    champion: EvaluationResult | None = Field(description="The current champion, if any.")


def evaluate_model(
    model_uri: str,
    test: pl.DataFrame,
    config: ModelConfig,
    *,
    metric_prefix: str = "test_",
    plot_dir: str = "evaluation",
    keep: dict[str, Predictions] | None = None,
) -> EvaluationResult:
    """Score ``test`` with the model and compute the task's metrics (one predict call).

    With an active MLflow run, metrics are logged as ``<metric_prefix><name>`` and the task's
    plots under ``plot_dir`` (see :func:`mlops_assets.ml.plots.log_evaluation`).

    Raises:
        SchemaMismatchError: the label or the model's input columns are missing/incompatible.
        DataValidationError: null labels, a single class, or unhandled missing values.
        RegistryError: the model cannot be loaded.
        EvaluationError: the model failed to predict or produced unusable output.
    """
    import mlflow

    if config.label not in test.columns:
        raise SchemaMismatchError(
            f"the test data lacks the label column {config.label!r}",
            context={"available": test.columns},
            fix="evaluate on labelled rows",
        )
    y = frames.label_array(test, config, what="test")
    frames.check_two_classes(y, config, what="test")
    model = load_pyfunc(model_uri)
    try:
        predictions = predict(model, test, model_uri)
    except (SchemaMismatchError, RegistryError, EvaluationError):
        raise
    except MLOpsError as exc:
        raise EvaluationError(
            exc.message, context={**exc.context, "model_uri": model_uri}, fix=exc.fix
        ) from exc
    metrics = compute_metrics(config.task, y, predictions)
    if keep is not None:  # for the overlaid comparison plots
        keep[model_uri] = predictions
    paths: list[str] = []
    if mlflow.active_run() is not None:
        mlflow.log_metrics({f"{metric_prefix}{k}": v for k, v in metrics.items()})
        paths = plots.log_evaluation(config.task, y, predictions, model_uri, plot_dir)
    return EvaluationResult(model_uri=model_uri, metrics=metrics, n_rows=test.height, plots=paths)


def compare(
    challenger_uri: str,
    champion_uri: str | None,
    test: pl.DataFrame,
    config: ModelConfig,
) -> Comparison:
    """Evaluate the challenger and (if any) the champion on the same held-out rows.

    The challenger's metrics are logged as ``test_*`` (plots under ``evaluation/challenger``),
    the champion's as ``champion_test_*`` (plots under ``evaluation/champion``); with both,
    ROC and precision-recall curves overlaid under ``evaluation/comparison``.

    Raises:
        EvaluationError: the champion cannot be evaluated on this data (e.g. its features are
            gone), besides the errors of :func:`evaluate_model`.
    """
    import mlflow

    kept: dict[str, Predictions] = {}
    challenger = evaluate_model(
        challenger_uri,
        test,
        config,
        metric_prefix="test_",
        plot_dir="evaluation/challenger",
        keep=kept,
    )
    if champion_uri is None:
        return Comparison(challenger=challenger, champion=None)
    try:
        champion = evaluate_model(
            champion_uri,
            test,
            config,
            metric_prefix="champion_test_",
            plot_dir="evaluation/champion",
            keep=kept,
        )
    except (SchemaMismatchError, RegistryError) as exc:
        raise EvaluationError(
            f"the champion {champion_uri} cannot be evaluated on this test set: {exc.message}",
            context={**exc.context, "champion_uri": champion_uri},
            fix="if the feature set changed on purpose, compare without the champion "
            "(first-model rules) or retire the champion alias",
        ) from exc
    if mlflow.active_run() is not None and len(kept) == 2:
        named = dict(zip(("challenger", "champion"), kept.values(), strict=True))
        plots.log_comparison(config.task, frames.label_array(test, config, what="test"), named)
    return Comparison(challenger=challenger, champion=champion)
