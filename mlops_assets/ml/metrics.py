"""Model outputs and the metrics computed from them, identical in training and evaluation.

Per task (see :class:`Predictions`):

* ``binary``: the model serves ``predict_proba``, an ``(n, 2)`` array whose second column is the
  positive-class probability; the predicted class is ``probability > 0.5``, exactly what
  scikit-learn's ``predict`` returns for a binary classifier.
* ``multiclass``: ``predict_proba`` gives ``(n, k)`` over the model's classes (their labels, as
  strings, are stored with the model); the prediction is the most probable class label and the
  probability is that class's.
* ``regression``: ``(n,)`` numbers; no probability.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from mlops_assets.config.ml import Task, task_metrics
from mlops_assets.errors import EvaluationError


@dataclass(frozen=True)
class Predictions:
    """Vectorised model outputs.

    ``prediction``: 0/1 (binary), the class label as a string (multiclass) or a float
    (regression). ``probability``: P(positive class) (binary), the probability of the predicted
    class (multiclass), None (regression). ``probabilities`` and ``classes``: the full
    ``(n, k)`` matrix and its column labels (multiclass only).
    """

    prediction: npt.NDArray[Any]
    probability: npt.NDArray[np.float64] | None
    probabilities: npt.NDArray[np.float64] | None = None
    classes: tuple[str, ...] | None = None


def _shape_error(message: str, values: npt.NDArray[Any], fix: str) -> EvaluationError:
    return EvaluationError(message, context={"shape": values.shape}, fix=fix)


def interpret_output(
    raw: Any, task: Task, n_rows: int, classes: list[str] | tuple[str, ...] | None = None
) -> Predictions:
    """Turn a model's raw output (``predict_proba`` matrix or regression vector) into predictions.

    Args:
        classes: multiclass only: the labels of the probability columns, in order.

    Raises:
        EvaluationError: the output's shape does not fit the task, or a multiclass model's
            classes are unknown.
    """
    values = np.asarray(raw.to_numpy() if hasattr(raw, "to_numpy") else raw)
    if task == "binary":
        if values.ndim != 2 or values.shape != (n_rows, 2):
            raise _shape_error(
                f"a binary classifier must output class probabilities of shape ({n_rows}, 2), "
                f"got {values.shape}",
                values,
                "log the model with log_and_register (it serves predict_proba)",
            )
        probability = values[:, 1].astype(np.float64)
        return Predictions((probability > 0.5).astype(np.int8), probability)
    if task == "multiclass":
        if classes is None:
            raise EvaluationError(
                "a multiclass model's class labels are unknown",
                context={"shape": values.shape},
                fix="log the model with log_and_register (it stores the classes with the model)",
            )
        labels = tuple(str(c) for c in classes)
        if values.ndim != 2 or values.shape != (n_rows, len(labels)):
            raise _shape_error(
                f"a multiclass model over {len(labels)} classes must output probabilities of "
                f"shape ({n_rows}, {len(labels)}), got {values.shape}",
                values,
                "log the model with log_and_register (it serves predict_proba)",
            )
        matrix = values.astype(np.float64)
        best = matrix.argmax(axis=1) if n_rows else np.zeros(0, dtype=np.int64)
        prediction = np.asarray(labels, dtype=object)[best]
        probability = matrix[np.arange(n_rows), best] if n_rows else np.zeros(0)
        return Predictions(prediction, probability, matrix, labels)
    flat = values.reshape(-1) if values.ndim == 2 and values.shape[1] == 1 else values
    if flat.shape != (n_rows,):
        raise _shape_error(
            f"a regressor must output one value per row ({n_rows},), got {values.shape}",
            values,
            "check that the model is a regressor",
        )
    return Predictions(flat.astype(np.float64), None)


def _binary(y_true: npt.NDArray[Any], predictions: Predictions) -> dict[str, Any]:
    from sklearn import metrics as m

    proba = predictions.probability
    assert proba is not None
    y_hat = predictions.prediction
    two_classes = np.unique(y_true).size == 2
    return {
        "roc_auc": m.roc_auc_score(y_true, proba) if two_classes else float("nan"),
        "pr_auc": m.average_precision_score(y_true, proba) if two_classes else float("nan"),
        "f1": m.f1_score(y_true, y_hat, zero_division=0),
        "precision": m.precision_score(y_true, y_hat, zero_division=0),
        "recall": m.recall_score(y_true, y_hat, zero_division=0),
        "accuracy": m.accuracy_score(y_true, y_hat),
        "log_loss": m.log_loss(y_true, proba, labels=[0, 1]),
        "brier": m.brier_score_loss(y_true, proba, pos_label=1),
    }


def multiclass_scores(
    y_true: npt.NDArray[Any],
    y_pred: npt.NDArray[Any],
    matrix: npt.NDArray[np.float64] | None,
    classes: tuple[str, ...] | None,
) -> dict[str, float]:
    """Accuracy and F1 from the labels; log_loss and one-vs-rest ROC AUC when the full matrix is
    known (NaN when a true label is not one of the model's classes or, for the AUC, when a class
    is absent from the rows)."""
    from sklearn import metrics as m

    truth = np.asarray([str(v) for v in y_true], dtype=object)
    guess = np.asarray([str(v) for v in y_pred], dtype=object)
    out = {
        "accuracy": float(m.accuracy_score(truth, guess)),
        "f1_macro": float(m.f1_score(truth, guess, average="macro", zero_division=0)),
        "f1_weighted": float(m.f1_score(truth, guess, average="weighted", zero_division=0)),
    }
    if matrix is None or classes is None:
        return out
    known = set(classes)
    all_known = all(t in known for t in truth)
    out["log_loss"] = (
        float(m.log_loss(truth, matrix, labels=list(classes))) if all_known else float("nan")
    )
    every_class = all_known and set(truth) == known and len(known) > 2
    out["roc_auc_ovr"] = (
        float(m.roc_auc_score(truth, matrix, multi_class="ovr", labels=list(classes)))
        if every_class
        else float("nan")
    )
    return out


def regression_scores(y_true: npt.NDArray[Any], y_hat: npt.NDArray[Any]) -> dict[str, float]:
    """rmse, mae, r2 and mape (a fraction: 0.1 = 10 %; rows whose truth is 0 are skipped)."""
    from sklearn import metrics as m

    truth = np.asarray(y_true, dtype=np.float64)
    guess = np.asarray(y_hat, dtype=np.float64)
    nonzero = truth != 0
    mape = (
        float(np.mean(np.abs((guess[nonzero] - truth[nonzero]) / truth[nonzero])))
        if nonzero.any()
        else float("nan")
    )
    return {
        "rmse": float(m.root_mean_squared_error(truth, guess)),
        "mae": float(m.mean_absolute_error(truth, guess)),
        "r2": float(m.r2_score(truth, guess)) if len(truth) > 1 else float("nan"),
        "mape": mape,
    }


def compute_metrics(
    task: Task, y_true: npt.NDArray[Any], predictions: Predictions
) -> dict[str, float]:
    """Every metric of the task (see :func:`mlops_assets.config.ml.task_metrics`)."""
    if task == "regression":
        values: dict[str, Any] = regression_scores(y_true, predictions.prediction)
    elif task == "multiclass":
        values = multiclass_scores(
            y_true, predictions.prediction, predictions.probabilities, predictions.classes
        )
    else:
        values = _binary(y_true, predictions)
    return {name: float(values.get(name, float("nan"))) for name in task_metrics(task)}
