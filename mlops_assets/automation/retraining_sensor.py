"""Drift- and performance-triggered retraining, decided by the typed policy on every tick.

The sensor reads the monitoring tables (one row per daily window), turns the last windows into
verdicts, and asks :func:`decide_retraining`. Windows are business time (partition dates), so the
policy's cooldown and period limits mean the same thing in a backfill, a simulation and live.

Idempotence: the run key is ``retrain:<latest window>``, so the same evidence can never start two
retrainings, and the cursor (last retrain window and history) survives daemon restarts. A
verdict that arrives after its window was first weighed (performance written after drift, or a
re-executed step) changes the evidence's fingerprint, so the decision is taken again.
"""

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import dagster as dg
from pydantic import BaseModel, Field

from mlops_assets.assets.keys import asset_key, op_name, tables
from mlops_assets.assets.ml.run_config import training_run_config
from mlops_assets.automation.jobs import AssetJob
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.resources.alerts import AlertsResource
from mlops_assets.resources.lakehouse import LakehouseResource
from mlops_assets.storage.lakehouse import Lakehouse

if TYPE_CHECKING:
    from mlops_assets.monitoring.policy import WindowVerdict
    from mlops_assets.monitoring.windows import DriftWindow, PerformanceWindow


class RetrainCursor(BaseModel):
    """What the sensor remembers between ticks."""

    last_window: str | None = Field(default=None, description="Latest window evaluated.")
    retrain_windows: list[str] = Field(
        default_factory=list, description="Windows at which retraining was started."
    )
    rows_at_last_retrain: int = Field(default=0, description="Monitored rows counted then.")
    evidence: str | None = Field(
        default=None,
        description="Fingerprint of the verdicts the last decision weighed: a verdict written "
        "after its window was first evaluated (a late performance row) is weighed again.",
    )


def evidence_fingerprint(verdicts: list["WindowVerdict"]) -> str:
    """A short hash of the verdicts a decision weighs (window, drift, performance, version)."""
    import hashlib

    text = json.dumps([v.model_dump(mode="json") for v in verdicts], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def window_time(window: str) -> datetime:
    """End of a daily window (the moment its verdict is known), in UTC."""
    return datetime.fromisoformat(window).replace(tzinfo=UTC) + timedelta(days=1)


def load_windows(
    house: Lakehouse, uc: UseCaseConfig
) -> tuple[list["DriftWindow"], list["PerformanceWindow"]]:
    """The stored drift and performance windows of ``uc`` (empty when not materialized yet)."""
    from mlops_assets.monitoring.windows import DriftWindow, PerformanceWindow

    names = tables(uc)
    if not house.table_exists(names.drift):
        return [], []
    drift = DriftWindow.read(house.read_table(names.drift))
    performance = (
        PerformanceWindow.read(house.read_table(names.performance))
        if house.table_exists(names.performance)
        else []
    )
    return drift, performance


def load_verdicts(house: Lakehouse, uc: UseCaseConfig) -> list["WindowVerdict"]:
    """One verdict per drift window with a champion, with that window's performance if any,
    oldest first."""
    from mlops_assets.monitoring.windows import verdicts

    return verdicts(*load_windows(house, uc))


def build_retraining_sensor(uc: UseCaseConfig, training_job: AssetJob) -> dg.SensorDefinition:
    """The retraining sensor of one use case."""
    policy = uc.monitoring.retraining
    training_config = training_run_config(uc)
    model_op = op_name(asset_key(tables(uc).model))

    @dg.sensor(
        name=f"{uc.name}_retraining_sensor",
        job=training_job,
        minimum_interval_seconds=300,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description=f"Retrains {uc.name} when {'/'.join(policy.triggers)} is violated in at least "
        f"{policy.violations_required} of the last {policy.window_count} windows"
        + (" including the latest" if policy.require_latest else "")
        + f"; cooldown {policy.cooldown_hours:g} h, at most {policy.max_retrains} per "
        f"{policy.max_retrains_period_days} days, at least {policy.min_new_rows} new rows.",
    )
    def _sensor(
        context: dg.SensorEvaluationContext, lakehouse: LakehouseResource, alerts: AlertsResource
    ) -> dg.SensorResult | dg.SkipReason:
        from mlops_assets.monitoring.policy import decide_retraining
        from mlops_assets.monitoring.windows import verdicts as window_verdicts

        cursor = RetrainCursor.model_validate_json(context.cursor or "{}")
        drift, performance = load_windows(lakehouse.get(), uc)
        if drift and drift[-1].status == "no_champion":
            return dg.SkipReason(
                f"nothing to do: the latest monitoring window ({drift[-1].window}) has no "
                "verdict because there was no @champion to judge it against; retraining is "
                "decided on windows monitored against a champion"
            )
        verdicts = window_verdicts(drift, performance)
        if not verdicts:
            return dg.SkipReason("no monitoring windows yet: materialize the drift asset first")
        latest = verdicts[-1].window
        evidence = evidence_fingerprint(verdicts)
        if latest in cursor.retrain_windows:
            return dg.SkipReason(f"retraining was already requested at window {latest}")
        if latest == cursor.last_window and evidence == cursor.evidence:
            return dg.SkipReason(f"no new monitoring window or verdict since {latest}")
        now = window_time(latest)
        period_start = now - timedelta(days=policy.max_retrains_period_days)
        retrains = [window_time(w) for w in cursor.retrain_windows]
        total_rows = sum(v.n_rows for v in verdicts)
        decision = decide_retraining(
            verdicts,
            policy,
            now=now,
            last_retrain_at=max(retrains) if retrains else None,
            retrains_in_period=sum(t > period_start for t in retrains),
            new_rows=total_rows - cursor.rows_at_last_retrain,
        )
        cursor.last_window, cursor.evidence = latest, evidence
        context.log.info(f"retraining decision at {latest}: {decision.reason}")
        if not decision.retrain:
            return dg.SensorResult(
                skip_reason=dg.SkipReason(decision.reason),
                cursor=cursor.model_dump_json(),
            )
        cursor.retrain_windows.append(latest)
        cursor.rows_at_last_retrain = total_rows
        run_key = f"retrain:{uc.name}:{latest}"
        alerts.notify(
            context.log,
            uc.monitoring.alerts,
            event="retrain_started",
            severity="info",
            title=f"{uc.name}: retraining requested at window {latest}",
            message=decision.reason,
            facts={"use_case": uc.name, "window": latest, "run_key": run_key},
        )
        request = dg.RunRequest(
            run_key=run_key,
            tags={
                "mlops/trigger": "retraining_sensor",
                "mlops/use_case": uc.name,
                "mlops/window": latest,
                "mlops/reason": decision.reason[:1000],
                "mlops/violated_windows": ",".join(decision.violated_windows),
            },
            run_config=dg.RunConfig(
                ops={model_op: training_config(reason=decision.reason[:500], trigger_window=latest)}
            ),
        )
        return dg.SensorResult(run_requests=[request], cursor=cursor.model_dump_json())

    return _sensor


def describe_cursor(cursor: str | None) -> str:
    """Human summary of a cursor (for the demo and logs)."""
    parsed = RetrainCursor.model_validate(json.loads(cursor or "{}"))
    return f"last window {parsed.last_window}, retrains at {parsed.retrain_windows or 'none'}"
