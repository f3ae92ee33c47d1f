"""The retraining policy: a pure decision from monitoring verdicts, clocks and counters.

Retrain when the configured triggers were violated in at least N of the last M windows (and,
if required, in the latest one), unless a guard blocks it: the cooldown since the last
retrain, too few new rows, or the cap of retrains per period. Every decision carries one
sentence with the numbers behind it, shown as the sensor's run or skip reason.
"""

from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from mlops_assets.config.monitoring import RetrainingPolicy
from mlops_assets.errors import MonitoringError
from mlops_assets.monitoring.performance import PerformanceResult
from mlops_assets.monitoring.schema import DriftResult

Blocker = Literal["cooldown", "min_new_rows", "max_retrains"]


class WindowVerdict(BaseModel):
    """The monitoring verdict of one window (e.g. one daily partition)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    window: str = Field(description="Window key, e.g. the partition date `2026-03-01`.")
    drift_detected: bool = Field(description="Dataset drift was detected.")
    performance_degraded: bool | None = Field(
        default=None, description="Performance degraded; None when labels were insufficient."
    )
    drift_share: float = Field(default=0.0, description="Share of drifted columns.")
    n_rows: int = Field(default=0, description="Rows monitored in the window.")
    model_version: str | None = Field(
        default=None,
        description="The champion version the window was judged against (None: not recorded).",
    )

    @classmethod
    def from_results(
        cls, window: str, drift: DriftResult | None, performance: PerformanceResult | None = None
    ) -> "WindowVerdict":
        """Summarise a window's drift and performance results (no verdict counts as clean)."""
        degraded: bool | None = None
        if performance is not None and performance.status != "insufficient_data":
            degraded = performance.status == "degraded"
        return cls(
            window=window,
            drift_detected=drift is not None and drift.status == "drift",
            performance_degraded=degraded,
            drift_share=drift.drift_share if drift is not None else 0.0,
            n_rows=drift.n_current if drift is not None else 0,
        )


class RetrainDecision(BaseModel):
    """Whether to retrain now, and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    retrain: bool = Field(description="Start a retraining run now.")
    reason: str = Field(description="A full sentence with the numbers behind the decision.")
    violations_in_window: int = Field(description="Violated windows among the last M.")
    windows_considered: list[str] = Field(description="The last M window keys, oldest first.")
    violated_windows: list[str] = Field(description="Violated windows among them.")
    triggered_by: list[Literal["drift", "performance"]] = Field(
        description="Triggers violated in the considered windows."
    )
    blocked_by: list[Blocker] = Field(description="Guards that stopped a warranted retrain.")
    next_allowed_at: datetime | None = Field(
        default=None, description="When the cooldown ends, if it blocks."
    )


def decide_retraining(
    history: list[WindowVerdict],
    policy: RetrainingPolicy,
    now: datetime,
    last_retrain_at: datetime | None,
    retrains_in_period: int,
    new_rows: int,
) -> RetrainDecision:
    """Decide whether to retrain, from window verdicts in chronological order (oldest first).

    ``retrains_in_period`` counts retrains in the last ``max_retrains_period_days``;
    ``new_rows`` counts rows that arrived since the last training.

    Raises:
        MonitoringError: a window appears twice, or a datetime has no timezone.
    """
    for label, moment in (("now", now), ("last_retrain_at", last_retrain_at)):
        if moment is not None and moment.utcoffset() is None:
            raise MonitoringError(
                f"`{label}` must be timezone-aware.",
                context={label: moment.isoformat()},
                fix="Use datetime.now(timezone.utc) and store timestamps with their timezone.",
            )
    keys = [w.window for w in history]
    if len(set(keys)) != len(keys):
        raise MonitoringError(
            "A monitoring window appears more than once in the history.",
            context={"duplicates": sorted({k for k in keys if keys.count(k) > 1})},
            fix="Pass one verdict per window (the latest evaluation of each partition).",
        )
    recent, unmonitored = _recent_windows(history, policy.window_count)
    fired: list[tuple[str, list[Literal["drift", "performance"]]]] = []
    for w in recent:
        kinds: list[Literal["drift", "performance"]] = []
        if "drift" in policy.triggers and w.drift_detected:
            kinds.append("drift")
        if "performance" in policy.triggers and w.performance_degraded is True:
            kinds.append("performance")
        if kinds:
            fired.append((w.window, kinds))
    violated = [k for k, _ in fired]
    triggered: list[Literal["drift", "performance"]] = sorted(
        {t for _, kinds in fired for t in kinds}
    )

    def decision(
        retrain: bool,
        reason: str,
        blocked_by: list[Blocker] | None = None,
        next_allowed_at: datetime | None = None,
    ) -> RetrainDecision:
        return RetrainDecision(
            retrain=retrain,
            reason=reason,
            violations_in_window=len(violated),
            windows_considered=[w.window for w in recent],
            violated_windows=violated,
            triggered_by=triggered,
            blocked_by=blocked_by or [],
            next_allowed_at=next_allowed_at,
        )

    n, m = policy.violations_required, policy.window_count
    triggers = " or ".join(policy.triggers)
    if not recent:
        return decision(False, "No monitoring window has been evaluated yet.")
    span = f"{recent[0].window}..{recent[-1].window}" if len(recent) > 1 else recent[0].window
    count = f"{len(violated)} of the last {len(recent)} windows ({span})"
    if unmonitored:
        count += (
            f"; {unmonitored} day(s) of the last {m} had no verdict for this champion and count "
            "as clean"
        )
    if len(violated) < n:
        reason = f"No retrain: {triggers} violated in {count}; {n} of {m} are required."
        return decision(False, reason)
    if policy.require_latest and (not violated or violated[-1] != recent[-1].window):
        reason = (
            f"No retrain: {triggers} violated in {count}, but the latest window "
            f"{recent[-1].window} is clean and the policy requires it to be violated."
        )
        return decision(False, reason)
    blocked: list[Blocker] = []
    why: list[str] = []
    next_allowed: datetime | None = None
    if last_retrain_at is not None and policy.cooldown_hours > 0:
        elapsed_h = (now - last_retrain_at).total_seconds() / 3600
        if elapsed_h < policy.cooldown_hours:
            blocked.append("cooldown")
            next_allowed = last_retrain_at + timedelta(hours=policy.cooldown_hours)
            why.append(
                f"the last retrain was {elapsed_h:.1f} h ago, within the "
                f"{policy.cooldown_hours:g} h cooldown (next allowed at "
                f"{next_allowed.isoformat(timespec='minutes')})"
            )
    if new_rows < policy.min_new_rows:
        blocked.append("min_new_rows")
        why.append(f"only {new_rows:,} new rows arrived, {policy.min_new_rows:,} are required")
    if retrains_in_period >= policy.max_retrains:
        blocked.append("max_retrains")
        why.append(
            f"{retrains_in_period} retrains already ran in the last "
            f"{policy.max_retrains_period_days} days (cap {policy.max_retrains})"
        )
    fired_text = f"{' and '.join(triggered)} violated in {count}"
    if blocked:
        reason = f"Retrain warranted ({fired_text}) but blocked: {'; '.join(why)}."
        return decision(False, reason, blocked, next_allowed)
    reason = (
        f"Retrain: {fired_text}, meeting the {n}-of-{m} policy; {new_rows:,} new rows and "
        f"{retrains_in_period} of {policy.max_retrains} retrains used in the period."
    )
    return decision(True, reason)


def _recent_windows(history: list[WindowVerdict], count: int) -> tuple[list[WindowVerdict], int]:
    """The windows the policy weighs, and how many days of its range have none.

    Only windows judged against the latest window's champion count: verdicts about a replaced
    champion were evidence against that model, and one of them may already have caused the
    retrain that replaced it. Daily windows (ISO dates) are the ``count`` days ending at the
    latest window, so a violation from before a pause in monitoring is not "recent"; a day in
    that range without a window counts as clean (the second number, from the first window of
    this champion on). Other window keys: the last ``count`` windows.
    """
    if not history:
        return [], 0
    latest = history[-1]
    current = [
        w
        for w in history
        if latest.model_version is None or w.model_version in (None, latest.model_version)
    ]
    try:
        last_day = date.fromisoformat(latest.window)
        days = {date.fromisoformat(w.window): w for w in current}
    except ValueError:
        return current[-count:], 0
    first_day = max(last_day - timedelta(days=count - 1), min(days))
    recent = [w for d, w in sorted(days.items()) if first_day <= d <= last_day]
    return recent, (last_day - first_day).days + 1 - len(recent)
