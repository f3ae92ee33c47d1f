"""One job per lifecycle stage, and their schedules, per use case.

Jobs are found by name through :class:`UseCaseJobs`, never by list position. Asset selections
are made from the use case's table names, the same ones its asset keys come from.
"""

from dataclasses import dataclass, field, replace
from typing import Any, TypeAlias

import dagster as dg

from mlops_assets.assets.keys import asset_key, group, tables
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.storage.lakehouse import TableRef

AssetJob: TypeAlias = Any
"""What ``dg.define_asset_job`` returns (its class is not part of Dagster's public API)."""


@dataclass(frozen=True)
class UseCaseJobs:
    """The jobs of one use case, by stage."""

    ingestion: AssetJob
    training: AssetJob | None = None
    deployment: AssetJob | None = None
    batch_inference: AssetJob | None = None
    monitoring: AssetJob | None = None
    training_set: AssetJob | None = None
    schedules: list[dg.ScheduleDefinition] = field(default_factory=list)

    def all(self) -> list[AssetJob]:
        jobs = [
            self.ingestion,
            self.training_set,
            self.training,
            self.deployment,
            self.batch_inference,
            self.monitoring,
        ]
        return [j for j in jobs if j is not None]


def _job(uc: UseCaseConfig, stage: str, selection: dg.AssetSelection, description: str) -> AssetJob:
    return dg.define_asset_job(
        name=f"{uc.name}_{stage}",
        selection=selection,
        description=description,
        tags={"mlops/stage": stage, "mlops/use_case": uc.name},
    )


def ingestion_job(uc: UseCaseConfig) -> AssetJob:
    """Landing files to features for one day: bronze, silver (+checks), gold, feature tables."""
    selection = dg.AssetSelection.groups(
        *(group(uc.name, s) for s in ("bronze", "silver", "gold"))
    ) | dg.AssetSelection.keys(*(asset_key(tables(uc).features(f.name)) for f in uc.feature_tables))
    return _job(
        uc,
        "ingestion",
        selection,
        f"Ingest one day of {uc.name}: landing files to bronze, silver, gold and feature tables.",
    )


def daily_partition_schedule(
    job: AssetJob, name: str, cron: str, timezone: str, description: str
) -> dg.ScheduleDefinition:
    """Run ``job`` on ``cron`` for the last complete day (the run key is the partition: never
    twice).

    Partitions are UTC days whatever ``timezone`` the cron is read in, so the day is the UTC day
    before the tick's UTC date: at 02:00 in Tokyo (17:00 UTC the day before) that is the UTC day
    that ended 17 hours earlier, not the local "yesterday", which has not ended in UTC yet.
    """

    @dg.schedule(
        name=name,
        job=job,
        cron_schedule=cron,
        execution_timezone=timezone,
        description=description,
        default_status=dg.DefaultScheduleStatus.STOPPED,
    )
    def _schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        from datetime import UTC, timedelta

        tick = context.scheduled_execution_time.astimezone(UTC)
        day = (tick - timedelta(days=1)).date().isoformat()
        return dg.RunRequest(run_key=f"{name}:{day}", partition_key=day)

    return _schedule


def build_jobs(uc: UseCaseConfig) -> UseCaseJobs:
    """Jobs and schedules of a use case (schedules start stopped; turn them on in the UI)."""
    names = tables(uc)
    ingest = ingestion_job(uc)
    if uc.training_set is None:
        return _with_schedules(uc, UseCaseJobs(ingestion=ingest))
    if uc.model is None:
        only_set = _job(
            uc,
            "training_set",
            dg.AssetSelection.assets(asset_key(names.training_set)),
            "Rebuild the point-in-time training set from all feature partitions.",
        )
        return _with_schedules(uc, UseCaseJobs(ingestion=ingest, training_set=only_set))

    def keys(*refs: TableRef) -> dg.AssetSelection:
        return dg.AssetSelection.assets(*(asset_key(r) for r in refs))

    jobs = UseCaseJobs(
        ingestion=ingest,
        training=_job(
            uc,
            "training",
            keys(names.training_set, names.model, names.evaluation, names.champion),
            "Build the training set, train, evaluate against @champion, promote.",
        ),
        deployment=_job(
            uc, "deployment", keys(names.endpoint), "Serve the champion and smoke-test it."
        ),
        batch_inference=_job(
            uc,
            "batch_inference",
            keys(names.predictions),
            "Score one day of features with the champion.",
        ),
        monitoring=_job(
            uc,
            "monitoring",
            keys(names.drift, names.performance),
            "Drift and performance of one day against the champion's references.",
        ),
    )
    return _with_schedules(uc, jobs)


def _with_schedules(uc: UseCaseConfig, jobs: UseCaseJobs) -> UseCaseJobs:
    """The jobs plus the schedules their YAML asks for (all start stopped)."""
    sched = uc.schedules
    schedules: list[dg.ScheduleDefinition] = []
    daily = (
        (jobs.ingestion, sched.ingestion, "ingestion", "ingestion of yesterday's landing files"),
        (jobs.monitoring, sched.monitoring, "monitoring", "drift and performance monitoring"),
        (jobs.batch_inference, sched.inference, "inference", "batch inference with the champion"),
    )
    for job, cron, stage, what in daily:
        if job is not None and cron:
            schedules.append(
                daily_partition_schedule(
                    job, f"{uc.name}_{stage}_schedule", cron, sched.timezone, f"Daily {what}."
                )
            )
    if jobs.training is not None and sched.retraining:
        schedules.append(_retraining_schedule(uc, jobs.training, sched.retraining))
    return replace(jobs, schedules=schedules)


def _retraining_schedule(uc: UseCaseConfig, job: AssetJob, cron: str) -> dg.ScheduleDefinition:
    """Periodic retraining with the typed training run config, built when the schedule ticks
    (building it at load would validate the training config class in every code location load).
    """

    @dg.schedule(
        name=f"{uc.name}_retraining_schedule",
        job=job,
        cron_schedule=cron,
        execution_timezone=uc.schedules.timezone,
        description="Periodic retraining; the new model still has to pass the gates.",
        default_status=dg.DefaultScheduleStatus.STOPPED,
    )
    def _schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        from mlops_assets.assets.keys import op_name
        from mlops_assets.assets.ml.run_config import training_run_config

        model_op = op_name(asset_key(tables(uc).model))
        periodic = training_run_config(uc)(reason=f"periodic retraining ({cron})")
        return dg.RunRequest(run_config=dg.RunConfig(ops={model_op: periodic}))

    return _schedule
