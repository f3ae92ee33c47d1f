"""Evaluation plots, logged as PNG artifacts of the active MLflow run.

Per task: binary: ROC curve, precision-recall curve, confusion matrix; multiclass: confusion
matrix, per-class precision/recall/F1 (also logged as ``per_class_report.json``); regression:
predicted versus actual, residual histogram.

When a challenger is compared with the champion, :func:`log_comparison` also logs one ROC and
one precision-recall figure with both models overlaid (under ``evaluation/comparison``), and the
challenger's confusion matrix beside them, so one picture answers "is the new model better".

Figures are built on :class:`matplotlib.figure.Figure` directly (no pyplot state), so nothing
leaks between calls and no display is needed.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from mlops_assets.config.ml import Task
from mlops_assets.ml.metrics import Predictions

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _figure() -> tuple[Figure, Any]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 5), layout="constrained")
    return fig, fig.subplots()


def _title(ax: Any, kind: str, model: str) -> None:
    ax.set_title(textwrap.fill(f"{kind}: {model}", width=60), fontsize=9)


def classification_figures(
    y_true: npt.NDArray[Any], predictions: Predictions, title: str
) -> dict[str, Figure]:
    """ROC curve, precision-recall curve and confusion matrix."""
    from sklearn.metrics import ConfusionMatrixDisplay, PrecisionRecallDisplay, RocCurveDisplay

    assert predictions.probability is not None
    figures: dict[str, Figure] = {}
    fig, ax = _figure()
    RocCurveDisplay.from_predictions(y_true, predictions.probability, ax=ax, name=title)
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1)
    _title(ax, "ROC curve", title)
    figures["roc_curve.png"] = fig
    fig, ax = _figure()
    PrecisionRecallDisplay.from_predictions(y_true, predictions.probability, ax=ax, name=title)
    _title(ax, "Precision-recall", title)
    figures["precision_recall_curve.png"] = fig
    fig, ax = _figure()
    ConfusionMatrixDisplay.from_predictions(
        y_true, predictions.prediction, labels=[0, 1], ax=ax, colorbar=False
    )
    _title(ax, "Confusion matrix", title)
    figures["confusion_matrix.png"] = fig
    return figures


def per_class_report(y_true: npt.NDArray[Any], predictions: Predictions) -> dict[str, Any]:
    """scikit-learn's classification report (precision, recall, F1, support per class)."""
    from sklearn.metrics import classification_report

    truth = [str(v) for v in y_true]
    labels = sorted(set(predictions.classes or ()) | set(truth))
    report: dict[str, Any] = classification_report(
        truth,
        [str(v) for v in predictions.prediction],
        labels=labels,
        output_dict=True,
        zero_division=0,
    )
    return report


def multiclass_figures(
    y_true: npt.NDArray[Any], predictions: Predictions, title: str
) -> dict[str, Figure]:
    """Confusion matrix over every class, and precision/recall/F1 per class."""
    from sklearn.metrics import ConfusionMatrixDisplay

    truth = np.asarray([str(v) for v in y_true], dtype=object)
    labels = sorted(set(predictions.classes or ()) | set(truth.tolist()))
    figures: dict[str, Figure] = {}
    fig, ax = _figure()
    ConfusionMatrixDisplay.from_predictions(
        truth,
        np.asarray([str(v) for v in predictions.prediction], dtype=object),
        labels=labels,
        ax=ax,
        colorbar=False,
        xticks_rotation="vertical",
    )
    _title(ax, "Confusion matrix", title)
    figures["confusion_matrix.png"] = fig
    report = per_class_report(y_true, predictions)
    fig, ax = _figure()
    positions = np.arange(len(labels))
    for offset, measure in zip(
        (-0.27, 0.0, 0.27), ("precision", "recall", "f1-score"), strict=True
    ):
        heights = [float(report[label][measure]) for label in labels]
        ax.bar(positions + offset, heights, width=0.27, label=measure)
    ax.set_xticks(positions, labels, rotation=90 if len(labels) > 8 else 0)
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8)
    _title(ax, "Per-class report", title)
    figures["per_class_report.png"] = fig
    return figures


def regression_figures(
    y_true: npt.NDArray[Any], predictions: Predictions, title: str
) -> dict[str, Figure]:
    """Predicted versus actual, and the residual distribution."""
    y_hat = predictions.prediction
    figures: dict[str, Figure] = {}
    fig, ax = _figure()
    ax.scatter(y_true, y_hat, s=6, alpha=0.5)
    lo, hi = float(np.min([y_true.min(), y_hat.min()])), float(np.max([y_true.max(), y_hat.max()]))
    ax.plot([lo, hi], [lo, hi], linestyle="--", color="grey", linewidth=1)
    ax.set_xlabel("actual")
    ax.set_ylabel("predicted")
    _title(ax, "Predicted vs actual", title)
    figures["predicted_vs_actual.png"] = fig
    fig, ax = _figure()
    ax.hist(y_hat - y_true, bins=40)
    ax.set_xlabel("residual (predicted - actual)")
    _title(ax, "Residuals", title)
    figures["residuals.png"] = fig
    return figures


COMPARISON_DIR = "evaluation/comparison"
"""Artifact folder of the challenger-versus-champion figures."""


def comparison_figures(
    y_true: npt.NDArray[Any], models: dict[str, Predictions]
) -> dict[str, Figure]:
    """ROC and precision-recall curves of several binary models on the same rows, overlaid
    (each labelled with its AUC / average precision), and the first model's confusion matrix."""
    from sklearn.metrics import ConfusionMatrixDisplay, PrecisionRecallDisplay, RocCurveDisplay

    scored = {name: p for name, p in models.items() if p.probability is not None}
    figures: dict[str, Figure] = {}
    fig, ax = _figure()
    for name, predictions in scored.items():
        RocCurveDisplay.from_predictions(y_true, predictions.probability, ax=ax, name=name)
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1)
    _title(ax, "ROC curve", " vs ".join(scored))
    figures["roc_curve.png"] = fig
    fig, ax = _figure()
    for name, predictions in scored.items():
        PrecisionRecallDisplay.from_predictions(y_true, predictions.probability, ax=ax, name=name)
    _title(ax, "Precision-recall", " vs ".join(scored))
    figures["precision_recall_curve.png"] = fig
    first, predictions = next(iter(models.items()))
    fig, ax = _figure()
    ConfusionMatrixDisplay.from_predictions(
        y_true, predictions.prediction, labels=[0, 1], ax=ax, colorbar=False
    )
    _title(ax, "Confusion matrix", first)
    figures["confusion_matrix.png"] = fig
    return figures


def log_comparison(
    task: Task, y_true: npt.NDArray[Any], models: dict[str, Predictions]
) -> list[str]:
    """Log :func:`comparison_figures` under :data:`COMPARISON_DIR` (binary tasks; others have
    no overlaid curves). Returns the artifact paths."""
    if task != "binary" or not models:
        return []
    return log_figures(comparison_figures(y_true, models), COMPARISON_DIR)


def log_figures(figures: dict[str, Figure], artifact_dir: str) -> list[str]:
    """Log figures to the active MLflow run; returns their artifact paths."""
    import mlflow

    paths = []
    for file_name, fig in figures.items():
        path = f"{artifact_dir}/{file_name}"
        mlflow.log_figure(fig, path)
        paths.append(path)
    return paths


def log_evaluation(
    task: Task, y_true: npt.NDArray[Any], predictions: Predictions, title: str, artifact_dir: str
) -> list[str]:
    """Log the task's evaluation plots (and the multiclass per-class report as JSON)."""
    import mlflow

    if task == "binary":
        return log_figures(classification_figures(y_true, predictions, title), artifact_dir)
    if task == "regression":
        return log_figures(regression_figures(y_true, predictions, title), artifact_dir)
    paths = log_figures(multiclass_figures(y_true, predictions, title), artifact_dir)
    report_path = f"{artifact_dir}/per_class_report.json"
    mlflow.log_dict(per_class_report(y_true, predictions), report_path)
    return [*paths, report_path]
