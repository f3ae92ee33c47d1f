"""Promotion gates that cannot do their job, found when the config loads.

A gate must be able to reject a worse model. It cannot when no threshold puts a floor under a
metric (then any first model is promoted, however bad), ``min_improvement`` is not positive and no
``max_degradation`` limits a loss. Such gates are an error unless the config says so on purpose
with ``allow_any_model: {reason: ...}``. Bounds that no value of the metric can break (a minimum
ROC AUC of 0) or meet (a minimum ROC AUC above 1) are found too.
"""

import math

from mlops_assets.config.ml import GateConfig, MetricThreshold, greater_is_better
from mlops_assets.config.problems import Problem

# The values each metric can take.
METRIC_RANGES: dict[str, tuple[float, float]] = {
    "roc_auc": (0.0, 1.0),
    "pr_auc": (0.0, 1.0),
    "f1": (0.0, 1.0),
    "accuracy": (0.0, 1.0),
    "precision": (0.0, 1.0),
    "recall": (0.0, 1.0),
    "brier": (0.0, 1.0),
    "log_loss": (0.0, math.inf),
    "rmse": (0.0, math.inf),
    "mae": (0.0, math.inf),
    "r2": (-math.inf, 1.0),
    "f1_macro": (0.0, 1.0),
    "f1_weighted": (0.0, 1.0),
    "roc_auc_ovr": (0.0, 1.0),
    "mape": (0.0, math.inf),
}


def rejects_worse(threshold: MetricThreshold) -> bool:
    """Whether the threshold can reject a model for being bad on its metric (a floor on a metric
    where larger is better, a ceiling on one where smaller is better, inside its range)."""
    low, high = METRIC_RANGES[threshold.metric]
    if greater_is_better(threshold.metric):
        return threshold.min is not None and threshold.min > low
    return threshold.max is not None and threshold.max < high


def _unreachable(threshold: MetricThreshold) -> str | None:
    low, high = METRIC_RANGES[threshold.metric]
    if threshold.min is not None and threshold.min > high:
        return f"a minimum of {threshold.min} for {threshold.metric}, which is at most {high}"
    if threshold.max is not None and threshold.max < low:
        return f"a maximum of {threshold.max} for {threshold.metric}, which is at least {low}"
    return None


def gate_problems(gates: GateConfig) -> list[Problem]:
    """Problems of ``gates`` (locations relative to the `gates` mapping)."""
    problems = []
    for i, threshold in enumerate(gates.thresholds):
        reason = _unreachable(threshold)
        if reason is not None:
            problems.append(
                Problem(
                    ("thresholds", i),
                    f"this threshold can never be met ({reason}): every model would be rejected",
                    "use a bound inside the metric's range",
                )
            )
    if gates.mode == "disabled" or gates.allow_any_model is not None:
        return problems
    floors = [t for t in gates.thresholds if rejects_worse(t)]
    limits = [
        m
        for m, allowance in gates.max_degradation.items()
        if allowance < METRIC_RANGES[m][1] - METRIC_RANGES[m][0]
    ]
    if not floors and gates.min_improvement <= 0 and not limits:
        problems.append(
            Problem(
                (),
                "these gates can never reject a worse model: no threshold sets a floor on a "
                "metric (so any first model is promoted, however bad), min_improvement is "
                f"{gates.min_improvement:g} (not positive) and no max_degradation limits a loss",
                "add e.g. `thresholds: [{metric: roc_auc, min: 0.7}]`, a positive "
                "`min_improvement` or a `max_degradation`; or, if any model may really be "
                'promoted, say why: `allow_any_model: {reason: "..."}`',
            )
        )
    return problems
