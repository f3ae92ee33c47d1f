"""Model performance on labelled production predictions, compared with the training baseline."""

import math
from typing import Any, Literal

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from mlops_assets.config.ml import Task, as_task, greater_is_better, task_metrics, worsening
from mlops_assets.config.monitoring import PerformanceConfig
from mlops_assets.errors import ConfigError, MonitoringError, SchemaMismatchError

_PROBABILITY_METRICS = {"roc_auc", "pr_auc", "log_loss", "brier"}
_MATRIX_METRICS = {"log_loss", "roc_auc_ovr"}


class PerformanceResult(BaseModel):
    """Metrics on the labelled rows of one window and the verdict against the baseline."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: Literal["ok", "degraded", "insufficient_data"] = Field(
        description="`degraded` when a metric worsened by more than its max_degradation."
    )
    n_labelled: int = Field(description="Rows with a label (and a prediction).")
    metrics: dict[str, float] = Field(description="Metrics computed on the labelled rows.")
    baseline: dict[str, float] = Field(description="Baseline metrics compared against.")
    degradation: dict[str, float] = Field(
        description="Worsening versus the baseline of every metric that has a baseline value, "
        "signed so that positive = worse whatever the metric's direction (a drop of roc_auc or "
        "r2, a rise of rmse or log_loss). Only metrics with a `max_degradation` can breach."
    )
    reasons: list[str] = Field(description="One sentence per breach or skipped comparison.")

    @property
    def degraded(self) -> bool:
        """Whether the verdict is `degraded`."""
        return self.status == "degraded"

    def to_markdown(self, allowed: dict[str, float] | None = None) -> str:
        """A Markdown table: metric, which direction is better, baseline, current, worsening.

        ``worsening`` is positive when the metric got worse (whatever its direction) and
        negative when it improved; ``allowed`` (the config's ``max_degradation``) adds the
        tolerated worsening per metric.
        """
        limits = allowed or {}
        lines = [
            "| metric | better | baseline | current | worsening (+ = worse) | allowed |",
            "| --- | :---: | ---: | ---: | ---: | ---: |",
        ]
        for name, value in self.metrics.items():
            base = self.baseline.get(name)
            worse = self.degradation.get(name)
            limit = limits.get(name)
            lines.append(
                f"| {name} | {'higher' if greater_is_better(name) else 'lower'} | "
                f"{'n/a' if base is None else f'{base:.4g}'} | {value:.4g} | "
                f"{'n/a' if worse is None else f'{worse:+.4g}'} | "
                f"{'-' if limit is None else f'{limit:.4g}'} |"
            )
        return "\n".join(lines + [""] + [f"- {r}" for r in self.reasons])


def compute_performance(
    predictions_with_labels: pl.DataFrame,
    label_col: str,
    prediction_col: str | None,
    probability_col: str | None,
    task: str,
    baseline_metrics: dict[str, float],
    config: PerformanceConfig,
    *,
    positive_label: str | int | bool | None = None,
    decision_threshold: float = 0.5,
) -> PerformanceResult:
    """Compute the configured metrics on rows that have a label, and compare with the baseline.

    Per task (``classification`` is read as ``binary``):

    * ``binary``: ``positive_label`` names the positive class (default ``1`` / ``True``; required
      for string labels). Without ``prediction_col`` the hard prediction is
      ``probability >= decision_threshold``.
    * ``multiclass``: ``prediction_col`` holds the predicted class label, compared with the label
      as strings. Only accuracy, f1_macro and f1_weighted: the predictions table keeps the
      predicted class's probability, not the full matrix log_loss and roc_auc_ovr need.
    * ``regression``: ``prediction_col`` (or ``probability_col``) holds the predicted number.

    ``degradation`` is :func:`mlops_assets.config.ml.worsening` of every metric with a baseline
    value: positive means worse than the baseline (a drop of roc_auc or precision, a rise of
    rmse); only the metrics of ``config.max_degradation`` can make the verdict ``degraded``.

    Raises:
        SchemaMismatchError: a named column is missing.
        ConfigError: a metric does not fit the task or needs a column that was not given.
    """
    kind = as_task(task)
    df = predictions_with_labels
    needed = [c for c in (label_col, prediction_col, probability_col) if c is not None]
    missing = [c for c in needed if c not in df.columns]
    if missing or len(needed) < 2:
        raise SchemaMismatchError(
            "Predictions frame lacks the label or prediction columns.",
            context={"missing": missing, "columns": df.columns[:30]},
            fix="Join labels to predictions first; pass prediction_col and/or probability_col.",
        )
    _check_metrics(config.metrics, kind, prediction_col, probability_col)
    labelled = df.select(needed).drop_nulls()
    baseline = {k: float(v) for k, v in baseline_metrics.items() if k in config.metrics}
    if labelled.height < config.min_labelled_rows:
        return PerformanceResult(
            status="insufficient_data",
            n_labelled=labelled.height,
            metrics={},
            baseline=baseline,
            degradation={},
            reasons=[
                f"Only {labelled.height} labelled rows; at least {config.min_labelled_rows} are "
                "needed for a verdict."
            ],
        )
    reasons: list[str] = []
    if kind == "regression":
        from mlops_assets.ml.metrics import regression_scores

        pred_col = prediction_col or probability_col
        assert pred_col is not None
        scores = regression_scores(
            labelled[label_col].cast(pl.Float64).to_numpy(),
            labelled[pred_col].cast(pl.Float64).to_numpy(),
        )
        metrics = {name: scores[name] for name in config.metrics}
    elif kind == "multiclass":
        from mlops_assets.ml.metrics import multiclass_scores

        assert prediction_col is not None
        scores = multiclass_scores(
            labelled[label_col].cast(pl.String).to_numpy(),
            labelled[prediction_col].cast(pl.String).to_numpy(),
            None,
            None,
        )
        metrics = {name: scores[name] for name in config.metrics}
    else:
        y_true = _binary_labels(labelled[label_col], positive_label)
        prob = labelled[probability_col].cast(pl.Float64).to_numpy() if probability_col else None
        if prediction_col is not None:
            y_pred = _binary_labels(labelled[prediction_col], positive_label)
        else:
            assert prob is not None
            y_pred = prob >= decision_threshold
        metrics = _classification(y_true, y_pred, prob, config.metrics, reasons)
    degradation = {
        name: worsening(name, baseline[name], value)
        for name, value in metrics.items()
        if name in baseline and not math.isnan(value) and not math.isnan(baseline[name])
    }
    breached = False
    for name, allowed in config.max_degradation.items():
        if name not in metrics or math.isnan(metrics[name]):
            continue
        if name not in degradation:
            reasons.append(f"{name} was not compared: the baseline has no value for it.")
            continue
        worse = degradation[name]
        if worse > allowed:
            breached = True
            verb = "fell" if greater_is_better(name) else "rose"
            reasons.append(
                f"{name} {verb} from {baseline[name]:.4f} to {metrics[name]:.4f} on "
                f"{labelled.height:,} labelled rows, a worsening of {worse:.4f} > the "
                f"{allowed:.4f} allowed."
            )
    return PerformanceResult(
        status="degraded" if breached else "ok",
        n_labelled=labelled.height,
        metrics=metrics,
        baseline=baseline,
        degradation=degradation,
        reasons=reasons,
    )


def _check_metrics(
    metrics: list[str], task: Task, prediction_col: str | None, probability_col: str | None
) -> None:
    allowed = task_metrics(task)
    wrong = [m for m in metrics if m not in allowed]
    if wrong:
        raise ConfigError(
            f"Metrics {wrong} are not computed for {task}.",
            context={"task": task, "metrics": metrics},
            fix=f"Set monitoring.performance.metrics to metrics of the model's task: "
            f"{', '.join(allowed)}.",
        )
    if task == "multiclass":
        needs = [m for m in metrics if m in _MATRIX_METRICS]
        if needs:
            raise ConfigError(
                f"Metrics {needs} need every class's probability, which the predictions table "
                "does not keep (only the predicted class's).",
                context={"metrics": metrics},
                fix="Monitor accuracy, f1_macro and/or f1_weighted for a multiclass model.",
            )
        if prediction_col is None:
            raise ConfigError(
                "A multiclass model is monitored on its predicted class labels.",
                context={"metrics": metrics},
                fix="Pass prediction_col.",
            )
    if task == "binary" and probability_col is None:
        needs = [m for m in metrics if m in _PROBABILITY_METRICS]
        if needs:
            raise ConfigError(
                f"Metrics {needs} need predicted probabilities.",
                context={"metrics": metrics},
                fix="Pass probability_col, or drop these metrics from the config.",
            )


def _binary_labels(series: pl.Series, positive: str | int | bool | None) -> Any:
    if positive is None:
        if series.dtype == pl.String:
            raise MonitoringError(
                "String labels need to be told which value is the positive class.",
                context={"column": series.name, "values": series.unique().head(5).to_list()},
                fix="Pass positive_label (the model config's `positive_label`, e.g. 'Yes').",
            )
        positive = True if series.dtype == pl.Boolean else 1
    if series.dtype != pl.String and isinstance(positive, str):
        return (series.cast(pl.String) == positive).to_numpy()
    return (series == positive).to_numpy()


def _classification(
    y_true: Any, y_pred: Any, prob: Any, wanted: list[str], reasons: list[str]
) -> dict[str, float]:
    from sklearn import metrics as skm

    out: dict[str, float] = {}
    both_classes = bool(y_true.any()) and not bool(y_true.all())
    for name in wanted:
        if name in ("roc_auc", "pr_auc") and not both_classes:
            reasons.append(f"{name} is undefined: the labelled rows hold a single class.")
            continue
        if name == "roc_auc":
            out[name] = float(skm.roc_auc_score(y_true, prob))
        elif name == "pr_auc":
            out[name] = float(skm.average_precision_score(y_true, prob))
        elif name == "log_loss":
            out[name] = float(skm.log_loss(y_true, np.clip(prob, 0.0, 1.0), labels=[False, True]))
        elif name == "brier":
            out[name] = float(skm.brier_score_loss(y_true, prob, pos_label=True))
        elif name == "accuracy":
            out[name] = float(skm.accuracy_score(y_true, y_pred))
        else:
            scorers = {"f1": skm.f1_score, "precision": skm.precision_score}
            scorers["recall"] = skm.recall_score
            out[name] = float(scorers[name](y_true, y_pred, zero_division=0))
    return out
