"""One job per lifecycle stage, and their schedules, per use case."""

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from mlops_assets.assets.keys import group
from mlops_assets.config.use_case import UseCaseConfig


def ingestion_job(uc: UseCaseConfig) -> UnresolvedAssetJobDefinition:
    """Landing files to features for one day: bronze, silver (+checks), gold, feature tables."""
    selection = (
        dg.AssetSelection.groups(*(group(uc.name, s) for s in ("bronze", "silver", "gold")))
        | dg.AssetSelection.groups(group(uc.name, "features")).required_multi_asset_neighbors()
    )
    partitioned = selection - dg.AssetSelection.keys([uc.name, "features", _training_set(uc)])
    return dg.define_asset_job(
        name=f"{uc.name}_ingestion",
        selection=partitioned,
        description=f"Ingest one day of {uc.name}: landing files to bronze, silver, gold and "
        "feature tables.",
        tags={"mlops/stage": "ingestion", "mlops/use_case": uc.name},
    )


def _training_set(uc: UseCaseConfig) -> str:
    return uc.training_set.name if uc.training_set else "__none__"


def daily_partition_schedule(
    job: UnresolvedAssetJobDefinition, name: str, cron: str, timezone: str, description: str
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


def build_jobs_and_schedules(
    uc: UseCaseConfig,
) -> tuple[list[UnresolvedAssetJobDefinition], list[dg.ScheduleDefinition]]:
    """Jobs and schedules of a use case (schedules start stopped; turn them on in the UI)."""
    ingest = ingestion_job(uc)
    jobs = [ingest]
    if uc.training_set is not None:
        jobs.append(
            dg.define_asset_job(
                name=f"{uc.name}_training_set",
                selection=dg.AssetSelection.keys([uc.name, "features", uc.training_set.name]),
                description="Rebuild the point-in-time training set from all feature partitions.",
                tags={"mlops/stage": "training", "mlops/use_case": uc.name},
            )
        )
    schedules: list[dg.ScheduleDefinition] = []
    if uc.schedules.ingestion:
        schedules.append(
            daily_partition_schedule(
                ingest,
                f"{uc.name}_ingestion_schedule",
                uc.schedules.ingestion,
                uc.schedules.timezone,
                "Daily ingestion of yesterday's landing files.",
            )
        )
    return jobs, schedules
