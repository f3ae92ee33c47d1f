"""Promotion gates: a pure decision from a challenger's and a champion's metrics.

Checks, all evaluated whatever the mode, so the decision always explains itself:

* absolute thresholds (``min`` / ``max`` per metric), also required of a first model;
* with a champion: the primary metric must improve by at least ``min_improvement`` in its better
  direction, and no metric of ``max_degradation`` may worsen by more than its allowance.

Mode ``enabled`` promotes when every check passes and rejects otherwise; ``dry_run`` never
promotes but records ``would_promote``; ``disabled`` skips.
"""

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from mlops_assets.config.ml import GateConfig, greater_is_better


class GateCheck(BaseModel):
    """One check of a gate decision."""

    model_config = ConfigDict(frozen=True)

    name: Literal["threshold_min", "threshold_max", "min_improvement", "max_degradation"] = Field(
        description="Kind of check."
    )
    metric: str = Field(description="Metric checked.")
    passed: bool = Field(description="Whether the check passed.")
    challenger: float | None = Field(description="Challenger value (None if not computed).")
    champion: float | None = Field(default=None, description="Champion value, when compared.")
    limit: float = Field(description="The bound, improvement or allowance checked against.")
    message: str = Field(description="A full sentence with the numbers.")


class GateDecision(BaseModel):
    """The outcome of the gates for one challenger."""

    model_config = ConfigDict(frozen=True)

    mode: Literal["disabled", "dry_run", "enabled"] = Field(description="Gate mode applied.")
    passed: bool = Field(description="Every check passed.")
    action: Literal["promote", "reject", "skip"] = Field(description="What to do with aliases.")
    would_promote: bool = Field(description="Whether an enabled gate would promote.")
    first_model: bool = Field(description="There was no champion to compare with.")
    primary_metric: str = Field(description="The gate's primary metric.")
    reasons: list[str] = Field(description="Full sentences explaining the decision.")
    checks: list[GateCheck] = Field(description="Every check, passed or not.")


def _fmt(value: float) -> str:
    return f"{value:.4f}"


def _at_most(value: float, bound: float, *operands: float) -> bool:
    """``value <= bound``, forgiving the rounding of the float arithmetic that produced
    ``value`` from ``operands`` (0.82 - 0.81 is 0.00999...98, which must meet a bound of 0.01)."""
    scale = max([1.0, abs(bound), *(abs(x) for x in operands)])
    return value <= bound + 1e-12 * scale


def _missing(metric: str, kind: str) -> str:
    return f"The challenger has no value for {metric}, so the {kind} check cannot pass."


def _thresholds(challenger: dict[str, float], gates: GateConfig) -> list[GateCheck]:
    checks = []
    for threshold in gates.thresholds:
        value = challenger.get(threshold.metric)
        bounds = [("threshold_min", threshold.min), ("threshold_max", threshold.max)]
        for name, bound in bounds:
            if bound is None:
                continue
            word = "minimum" if name == "threshold_min" else "maximum"
            if value is None or math.isnan(value):
                ok, message = False, _missing(threshold.metric, word)
            elif name == "threshold_min":
                ok = _at_most(bound, value, value)
                verb = "meets" if ok else "is below"
                message = f"{threshold.metric} = {_fmt(value)} {verb} the minimum {_fmt(bound)}."
            else:
                ok = _at_most(value, bound, value)
                verb = "meets" if ok else "is above"
                message = f"{threshold.metric} = {_fmt(value)} {verb} the maximum {_fmt(bound)}."
            checks.append(
                GateCheck(
                    name=name,
                    metric=threshold.metric,
                    passed=ok,
                    challenger=value,
                    limit=bound,
                    message=message,
                )
            )
    return checks


def _versus_champion(
    challenger: dict[str, float], champion: dict[str, float], gates: GateConfig
) -> list[GateCheck]:
    checks = []
    metric = gates.primary_metric
    new, old = challenger.get(metric), champion.get(metric)
    if new is None or old is None or math.isnan(new) or math.isnan(old):
        ok, message = (
            False,
            (
                f"The primary metric {metric} is missing for the "
                f"{'challenger' if new is None or math.isnan(new) else 'champion'}, so the "
                "improvement check cannot pass."
            ),
        )
    else:
        gain = new - old if greater_is_better(metric) else old - new
        ok = _at_most(gates.min_improvement, gain, new, old)
        message = (
            f"{metric} {'improves' if gain >= 0 else 'worsens'} from {_fmt(old)} to {_fmt(new)} "
            f"({gain:+.4f} in its better direction), "
            f"{'meeting' if ok else 'short of'} the required improvement of "
            f"{gates.min_improvement:+.4f}."
        )
    checks.append(
        GateCheck(
            name="min_improvement",
            metric=metric,
            passed=ok,
            challenger=new,
            champion=old,
            limit=gates.min_improvement,
            message=message,
        )
    )
    for name, allowance in sorted(gates.max_degradation.items()):
        new, old = challenger.get(name), champion.get(name)
        if new is None or old is None or math.isnan(new) or math.isnan(old):
            ok, message = False, _missing(name, "degradation")
        else:
            loss = old - new if greater_is_better(name) else new - old
            ok = _at_most(loss, allowance, new, old)
            message = (
                f"{name} goes from {_fmt(old)} to {_fmt(new)}, a degradation of "
                f"{max(loss, 0.0):.4f}, {'within' if ok else 'beyond'} the allowed "
                f"{_fmt(allowance)}."
            )
        checks.append(
            GateCheck(
                name="max_degradation",
                metric=name,
                passed=ok,
                challenger=new,
                champion=old,
                limit=allowance,
                message=message,
            )
        )
    return checks


def decide(
    challenger: dict[str, float], champion: dict[str, float] | None, gates: GateConfig
) -> GateDecision:
    """Decide whether the challenger replaces the champion (pure: no I/O).

    Args:
        challenger: the challenger's held-out metrics.
        champion: the champion's metrics on the same rows, or None when there is no champion
            (then only the absolute thresholds apply: a first model must still pass them).
        gates: the gate configuration.
    """
    checks = _thresholds(challenger, gates)
    if champion is not None:
        checks += _versus_champion(challenger, champion, gates)
    passed = all(c.passed for c in checks)
    failed = [c for c in checks if not c.passed]
    reasons = [c.message for c in (failed or checks)]
    if champion is None:
        reasons.append(
            "There is no champion: the first model is promoted only if it passes the absolute "
            f"thresholds ({len(gates.thresholds)} configured)."
        )
    verdict = "passes all" if passed else f"fails {len(failed)} of"
    summary = f"The challenger {verdict} {len(checks)} gate check(s)."
    if gates.mode == "enabled":
        action: Literal["promote", "reject", "skip"] = "promote" if passed else "reject"
        tail = "it is promoted to champion." if passed else "it is rejected."
    elif gates.mode == "dry_run":
        action = "skip"
        would = "would be promoted" if passed else "would be rejected"
        tail = f"gates run in dry-run mode, so no alias moves (it {would})."
    else:
        action = "skip"
        tail = "gates are disabled, so no alias moves."
    reasons.insert(0, f"{summary[:-1]}; {tail}")
    return GateDecision(
        mode=gates.mode,
        passed=passed,
        action=action,
        would_promote=passed and gates.mode != "disabled",
        first_model=champion is None,
        primary_metric=gates.primary_metric,
        reasons=reasons,
        checks=checks,
    )
