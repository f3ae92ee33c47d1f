"""One job per lifecycle stage, and their schedules, per use case.

Jobs are found by name through :class:`UseCaseJobs`, never by list position. Asset selections
are made from the use case's table names, the same ones its asset keys come from.
"""

from dataclasses import dataclass, field
from typing import Any, TypeAlias

import dagster as dg

from mlops_assets.assets.keys import asset_key, group, tables
from mlops_assets.config.use_case import UseCaseConfig

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
    """Run ``job`` on ``cron`` for the previous day (the run key is the partition: never twice)."""

    @dg.schedule(
        name=name,
        job=job,
        cron_schedule=cron,
        execution_timezone=timezone,
        description=description,
        default_status=dg.DefaultScheduleStatus.STOPPED,
    )
    def _schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        from datetime import timedelta

        day = (context.scheduled_execution_time - timedelta(days=1)).date().isoformat()
        return dg.RunRequest(run_key=f"{name}:{day}", partition_key=day)

    return _schedule


def build_jobs(uc: UseCaseConfig) -> UseCaseJobs:
    """Jobs and schedules of a use case (schedules start stopped; turn them on in the UI)."""
    names = tables(uc)
    ingest = ingestion_job(uc)
    schedules: list[dg.ScheduleDefinition] = []
    sched = uc.schedules
    if sched.ingestion:
        schedules.append(
            daily_partition_schedule(
                ingest,
                f"{uc.name}_ingestion_schedule",
                sched.ingestion,
                sched.timezone,
                "Daily ingestion of yesterday's landing files.",
            )
        )
    if uc.training_set is None:
        return UseCaseJobs(ingestion=ingest, schedules=schedules)
    if uc.model is None:
        only_set = _job(
            uc,
            "training_set",
            dg.AssetSelection.assets(asset_key(names.training_set)),
            "Rebuild the point-in-time training set from all feature partitions.",
        )
        return UseCaseJobs(ingestion=ingest, training_set=only_set, schedules=schedules)

    def keys(*refs: Any) -> dg.AssetSelection:
        return dg.AssetSelection.assets(*(asset_key(r) for r in refs))

    training = _job(
        uc,
        "training",
        keys(names.training_set, names.model, names.evaluation, names.champion),
        "Build the training set, train, evaluate against @champion, promote.",
    )
    deployment = _job(
        uc, "deployment", keys(names.endpoint), "Serve the champion and smoke-test the endpoint."
    )
    inference = _job(
        uc,
        "batch_inference",
        keys(names.predictions),
        "Score one day of features with the champion.",
    )
    monitoring = _job(
        uc,
        "monitoring",
        keys(names.drift, names.performance),
        "Drift and performance of one day against the champion's references.",
    )
    if sched.retraining:
        schedules.append(
            dg.ScheduleDefinition(
                name=f"{uc.name}_retraining_schedule",
                job=training,
                cron_schedule=sched.retraining,
                execution_timezone=sched.timezone,
                description="Periodic retraining; the new model still has to pass the gates.",
                default_status=dg.DefaultScheduleStatus.STOPPED,
            )
        )
    for job, cron, stage, what in (
        (monitoring, sched.monitoring, "monitoring", "drift and performance monitoring"),
        (inference, sched.inference, "inference", "batch inference with the champion"),
    ):
        if cron:
            schedules.append(
                daily_partition_schedule(
                    job,
                    f"{uc.name}_{stage}_schedule",
                    cron,
                    sched.timezone,
                    f"Daily {what} of yesterday.",
                )
            )
    return UseCaseJobs(
        ingestion=ingest,
        training=training,
        deployment=deployment,
        batch_inference=inference,
        monitoring=monitoring,
        schedules=schedules,
    )
