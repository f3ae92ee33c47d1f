"""Model outputs and the metrics computed from them, identical in training and evaluation.

A classification model (binary) outputs ``predict_proba``: an ``(n, 2)`` array whose second column
is the positive-class probability; the predicted class is ``probability > 0.5``, exactly what
scikit-learn's ``predict`` returns for a binary classifier. A regression model outputs ``(n,)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from mlops_assets.config.ml import task_metrics
from mlops_assets.errors import EvaluationError

Task = Literal["classification", "regression"]


@dataclass(frozen=True)
class Predictions:
    """Vectorised model outputs: the prediction and, for classification, P(positive class)."""

    prediction: npt.NDArray[Any]
    probability: npt.NDArray[np.float64] | None


def interpret_output(raw: Any, task: Task, n_rows: int) -> Predictions:
    """Turn a model's raw output (``predict_proba`` matrix or regression vector) into predictions.

    Raises:
        EvaluationError: the output's shape does not fit the task.
    """
    values = np.asarray(raw.to_numpy() if hasattr(raw, "to_numpy") else raw)
    if task == "classification":
        if values.ndim != 2 or values.shape != (n_rows, 2):
            raise EvaluationError(
                f"a binary classifier must output class probabilities of shape ({n_rows}, 2), "
                f"got {values.shape}",
                context={"shape": values.shape},
                fix="log the model with log_and_register (it serves predict_proba)",
            )
        probability = values[:, 1].astype(np.float64)
        return Predictions((probability > 0.5).astype(np.int8), probability)
    flat = values.reshape(-1) if values.ndim == 2 and values.shape[1] == 1 else values
    if flat.shape != (n_rows,):
        raise EvaluationError(
            f"a regressor must output one value per row ({n_rows},), got {values.shape}",
            context={"shape": values.shape},
            fix="check that the model is a regressor",
        )
    return Predictions(flat.astype(np.float64), None)


def compute_metrics(
    task: Task, y_true: npt.NDArray[Any], predictions: Predictions
) -> dict[str, float]:
    """Every metric of the task (see :func:`mlops_assets.config.ml.task_metrics`)."""
    from sklearn import metrics as m

    if task == "regression":
        y_hat = predictions.prediction
        values = {
            "rmse": m.root_mean_squared_error(y_true, y_hat),
            "mae": m.mean_absolute_error(y_true, y_hat),
            "r2": m.r2_score(y_true, y_hat),
        }
    else:
        proba = predictions.probability
        assert proba is not None
        y_hat = predictions.prediction
        two_classes = np.unique(y_true).size == 2
        values = {
            "roc_auc": m.roc_auc_score(y_true, proba) if two_classes else float("nan"),
            "pr_auc": m.average_precision_score(y_true, proba) if two_classes else float("nan"),
            "f1": m.f1_score(y_true, y_hat, zero_division=0),
            "precision": m.precision_score(y_true, y_hat, zero_division=0),
            "recall": m.recall_score(y_true, y_hat, zero_division=0),
            "accuracy": m.accuracy_score(y_true, y_hat),
            "log_loss": m.log_loss(y_true, proba, labels=[0, 1]),
            "brier": m.brier_score_loss(y_true, proba, pos_label=1),
        }
    return {name: float(values[name]) for name in task_metrics(task)}
