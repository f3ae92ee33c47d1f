"""Model performance on labelled production predictions, compared with the training baseline."""

import math
from typing import Any, Literal

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from mlops_assets.config.ml import greater_is_better
from mlops_assets.config.monitoring import PerformanceConfig
from mlops_assets.errors import ConfigError, MonitoringError, SchemaMismatchError

_PROBABILITY_METRICS = {"roc_auc", "pr_auc", "log_loss", "brier"}
_REGRESSION = {"rmse", "mae", "r2"}


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
        description="Worsening versus the baseline per compared metric (positive = worse)."
    )
    reasons: list[str] = Field(description="One sentence per breach or skipped comparison.")

    @property
    def degraded(self) -> bool:
        """Whether the verdict is `degraded`."""
        return self.status == "degraded"

    def to_markdown(self) -> str:
        """A Markdown table: metric, baseline, current, change."""
        lines = ["| metric | baseline | current | worsening |", "| --- | ---: | ---: | ---: |"]
        for name, value in self.metrics.items():
            base = self.baseline.get(name)
            worse = self.degradation.get(name)
            lines.append(
                f"| {name} | {'n/a' if base is None else f'{base:.4f}'} | {value:.4f} | "
                f"{'n/a' if worse is None else f'{worse:+.4f}'} |"
            )
        return "\n".join(lines + [""] + [f"- {r}" for r in self.reasons])


def compute_performance(
    predictions_with_labels: pl.DataFrame,
    label_col: str,
    prediction_col: str | None,
    probability_col: str | None,
    task: Literal["classification", "regression"],
    baseline_metrics: dict[str, float],
    config: PerformanceConfig,
    *,
    positive_label: str | int | bool | None = None,
    decision_threshold: float = 0.5,
) -> PerformanceResult:
    """Compute the configured metrics on rows that have a label, and compare with the baseline.

    Classification is binary: ``positive_label`` names the positive class (default ``1`` /
    ``True``; required for string labels). Without ``prediction_col`` the hard prediction is
    ``probability >= decision_threshold``.

    Raises:
        SchemaMismatchError: a named column is missing.
        ConfigError: a metric does not fit the task or needs a probability column.
    """
    df = predictions_with_labels
    needed = [c for c in (label_col, prediction_col, probability_col) if c is not None]
    missing = [c for c in needed if c not in df.columns]
    if missing or len(needed) < 2:
        raise SchemaMismatchError(
            "Predictions frame lacks the label or prediction columns.",
            context={"missing": missing, "columns": df.columns[:30]},
            fix="Join labels to predictions first; pass prediction_col and/or probability_col.",
        )
    _check_metrics(config.metrics, task, probability_col)
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
    if task == "regression":
        y = labelled[label_col].cast(pl.Float64).to_numpy()
        pred_col = prediction_col or probability_col
        assert pred_col is not None
        metrics = _regression(y, labelled[pred_col].cast(pl.Float64).to_numpy(), config.metrics)
    else:
        y_true = _binary_labels(labelled[label_col], positive_label)
        prob = labelled[probability_col].cast(pl.Float64).to_numpy() if probability_col else None
        if prediction_col is not None:
            y_pred = _binary_labels(labelled[prediction_col], positive_label)
        else:
            assert prob is not None
            y_pred = prob >= decision_threshold
        metrics = _classification(y_true, y_pred, prob, config.metrics, reasons)
    degradation: dict[str, float] = {}
    breached = False
    for name, allowed in config.max_degradation.items():
        if name not in metrics:
            continue
        if name not in baseline:
            reasons.append(f"{name} was not compared: the baseline has no value for it.")
            continue
        worse = baseline[name] - metrics[name]
        worse = worse if greater_is_better(name) else -worse
        degradation[name] = worse
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


def _check_metrics(metrics: list[str], task: str, probability_col: str | None) -> None:
    wrong = [m for m in metrics if (m in _REGRESSION) != (task == "regression")]
    if wrong:
        raise ConfigError(
            f"Metrics {wrong} are not computed for {task}.",
            context={"task": task, "metrics": metrics},
            fix="Set monitoring.performance.metrics to metrics of the model's task.",
        )
    if task == "classification" and probability_col is None:
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


def _regression(y: Any, pred: Any, wanted: list[str]) -> dict[str, float]:
    from sklearn import metrics as skm

    out: dict[str, float] = {}
    for name in wanted:
        if name == "rmse":
            out[name] = math.sqrt(float(skm.mean_squared_error(y, pred)))
        elif name == "mae":
            out[name] = float(skm.mean_absolute_error(y, pred))
        else:
            out[name] = float(skm.r2_score(y, pred))
    return out
