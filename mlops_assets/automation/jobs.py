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


def lifecycle_jobs(uc: UseCaseConfig, training_set: str) -> dict[str, UnresolvedAssetJobDefinition]:
    """Training (training set through promotion), deployment and batch inference jobs."""
    name = uc.name

    def keys(*parts: tuple[str, str]) -> dg.AssetSelection:
        return dg.AssetSelection.keys(*[[name, layer, n] for layer, n in parts])

    model = uc.model.name if uc.model else ""
    return {
        "training": dg.define_asset_job(
            name=f"{name}_training",
            selection=keys(
                ("features", training_set),
                ("models", model),
                ("models", "evaluation"),
                ("models", "champion"),
            ),
            description="Build the training set, train, evaluate against @champion, promote.",
            tags={"mlops/stage": "training", "mlops/use_case": name},
        ),
        "deployment": dg.define_asset_job(
            name=f"{name}_deployment",
            selection=keys(("serving", "endpoint")),
            description="Serve the champion and smoke-test the endpoint.",
            tags={"mlops/stage": "deployment", "mlops/use_case": name},
        ),
        "monitoring": dg.define_asset_job(
            name=f"{name}_monitoring",
            selection=keys(("monitoring", "drift"), ("monitoring", "performance")),
            description="Drift and performance of one day against the champion's references.",
            tags={"mlops/stage": "monitoring", "mlops/use_case": name},
        ),
        "batch_inference": dg.define_asset_job(
            name=f"{name}_batch_inference",
            selection=keys(("inference", "predictions")),
            description="Score one day of features with the champion.",
            tags={"mlops/stage": "inference", "mlops/use_case": name},
        ),
    }


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
    schedules: list[dg.ScheduleDefinition] = []
    if uc.training_set is not None and uc.model is None:
        jobs.append(
            dg.define_asset_job(
                name=f"{uc.name}_training_set",
                selection=dg.AssetSelection.keys([uc.name, "features", uc.training_set.name]),
                description="Rebuild the point-in-time training set from all feature partitions.",
                tags={"mlops/stage": "training", "mlops/use_case": uc.name},
            )
        )
    if uc.training_set is not None and uc.model is not None:
        lifecycle = lifecycle_jobs(uc, uc.training_set.name)
        jobs.extend(lifecycle.values())
        if uc.schedules.retraining:
            schedules.append(
                dg.ScheduleDefinition(
                    name=f"{uc.name}_retraining_schedule",
                    job=lifecycle["training"],
                    cron_schedule=uc.schedules.retraining,
                    execution_timezone=uc.schedules.timezone,
                    description="Periodic retraining; the new model still has to pass the gates.",
                    default_status=dg.DefaultScheduleStatus.STOPPED,
                )
            )
        if uc.schedules.monitoring:
            schedules.append(
                daily_partition_schedule(
                    lifecycle["monitoring"],
                    f"{uc.name}_monitoring_schedule",
                    uc.schedules.monitoring,
                    uc.schedules.timezone,
                    "Daily drift and performance monitoring of yesterday.",
                )
            )
        if uc.schedules.inference:
            schedules.append(
                daily_partition_schedule(
                    lifecycle["batch_inference"],
                    f"{uc.name}_inference_schedule",
                    uc.schedules.inference,
                    uc.schedules.timezone,
                    "Daily batch inference of yesterday's feature rows with the champion.",
                )
            )
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
