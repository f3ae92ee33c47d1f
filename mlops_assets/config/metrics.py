"""Tasks and metrics: the canonical names, the metrics of each task and the direction of each.

:func:`metric_direction` is the single place that knows in which direction a metric improves, and
:func:`worsening` the single place that turns a change into "how much worse" (positive = worse).

Tasks: ``binary`` (the label becomes 0/1; ``classification`` is accepted as an alias),
``multiclass`` (labels compared as strings) and ``regression`` (a numeric label).
"""

import difflib
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator

from mlops_assets.errors import ConfigError

Task = Literal["binary", "multiclass", "regression"]
"""What a model predicts: one of two classes, one of several classes, or a number."""
TASK_ALIASES: dict[str, Task] = {"classification": "binary"}
"""Older spellings of a task, accepted in YAML and normalised."""
Direction = Literal["higher", "lower"]
"""Which way a metric improves."""

# Per canonical metric name: which direction is better.
_DIRECTION: dict[str, Direction] = {
    "roc_auc": "higher",
    "pr_auc": "higher",
    "f1": "higher",
    "accuracy": "higher",
    "precision": "higher",
    "recall": "higher",
    "log_loss": "lower",
    "brier": "lower",
    "f1_macro": "higher",
    "f1_weighted": "higher",
    "roc_auc_ovr": "higher",
    "rmse": "lower",
    "mae": "lower",
    "r2": "higher",
    "mape": "lower",
}
BINARY_METRICS: tuple[str, ...] = (
    "roc_auc",
    "pr_auc",
    "f1",
    "precision",
    "recall",
    "accuracy",
    "log_loss",
    "brier",
)
"""Metrics computed for binary classification models, in reporting order."""
CLASSIFICATION_METRICS = BINARY_METRICS
"""Former name of :data:`BINARY_METRICS`."""
MULTICLASS_METRICS: tuple[str, ...] = (
    "accuracy",
    "f1_macro",
    "f1_weighted",
    "log_loss",
    "roc_auc_ovr",
)
"""Metrics computed for multiclass models, in reporting order."""
REGRESSION_METRICS: tuple[str, ...] = ("rmse", "mae", "r2", "mape")
"""Metrics computed for regression models, in reporting order (``mape`` is a fraction)."""
DEFAULT_PRIMARY_METRIC: dict[Task, str] = {
    "binary": "roc_auc",
    "multiclass": "f1_macro",
    "regression": "rmse",
}
"""The gates' primary metric when the config does not name one."""
_METRIC_ALIASES = {
    "auc": "roc_auc",
    "average_precision": "pr_auc",
    "f1_score": "f1",
    "brier_score": "brier",
    "logloss": "log_loss",
    "macro_f1": "f1_macro",
    "weighted_f1": "f1_weighted",
    "auc_ovr": "roc_auc_ovr",
}


def normalize_task(value: object) -> object:
    """``classification`` -> ``binary``; anything else unchanged (validated by the Literal)."""
    if isinstance(value, str):
        key = value.strip().lower()
        return TASK_ALIASES.get(key, key)
    return value


TaskName = Annotated[Task, BeforeValidator(normalize_task)]
"""A task, with :data:`TASK_ALIASES` accepted."""


def as_task(value: str) -> Task:
    """A task from its name or alias (``"classification"`` -> ``"binary"``).

    Raises:
        ConfigError: the name is not a task.
    """
    task = normalize_task(value)
    if task == "binary" or task == "multiclass" or task == "regression":
        return task
    raise ConfigError(
        f"unknown task {value!r}",
        context={"task": value},
        fix="use binary, multiclass or regression",
    )


def normalize_metric(name: str) -> str:
    """Return the canonical spelling of a metric name (``"AUC"`` -> ``"roc_auc"``).

    Raises:
        ValueError: the name is not a known metric (the message suggests the closest one).
    """
    key = name.strip().lower()
    key = _METRIC_ALIASES.get(key, key)
    if key not in _DIRECTION:
        known = sorted(_DIRECTION)
        close = difflib.get_close_matches(key, known + sorted(_METRIC_ALIASES), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown metric {name!r}.{hint} Known metrics: {', '.join(known)}.")
    return key


def metric_direction(metric: str) -> Direction:
    """``"higher"`` when a larger value of ``metric`` is better (roc_auc, r2), else ``"lower"``.

    Raises:
        ConfigError: the metric is unknown.
    """
    try:
        return _DIRECTION[normalize_metric(metric)]
    except ValueError as exc:
        raise ConfigError(
            str(exc),
            context={"metric": metric},
            fix=f"use one of: {', '.join(sorted(_DIRECTION))}",
        ) from exc


def greater_is_better(metric: str) -> bool:
    """Whether a larger value of ``metric`` means a better model (``roc_auc``: yes, ``rmse``: no).

    Raises:
        ConfigError: the metric is unknown.
    """
    return metric_direction(metric) == "higher"


def worsening(metric: str, before: float, after: float) -> float:
    """How much worse ``after`` is than ``before``, signed so that positive = worse.

    ``roc_auc`` 0.80 -> 0.75 gives +0.05; ``rmse`` 100 -> 120 gives +20; an improvement is
    negative. Gates (``max_degradation``, ``min_improvement`` = ``-worsening``) and the
    performance monitor all use it.
    """
    change = after - before
    return -change if greater_is_better(metric) else change


def task_metrics(task: str) -> tuple[str, ...]:
    """The metric names computed for a task (aliases such as ``classification`` accepted)."""
    resolved = as_task(task)
    if resolved == "binary":
        return BINARY_METRICS
    return MULTICLASS_METRICS if resolved == "multiclass" else REGRESSION_METRICS


MetricName = Annotated[str, AfterValidator(normalize_metric)]
"""A metric name, validated and normalised to its canonical spelling."""
