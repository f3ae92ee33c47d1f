"""Assemble Definitions: one use case at a time (its Component), then the project's resources."""

import dagster as dg

from mlops_assets.assets.factory import build_use_case_assets
from mlops_assets.automation.alerts import build_run_failure_sensor
from mlops_assets.automation.jobs import build_jobs
from mlops_assets.automation.landing_sensor import build_landing_sensor
from mlops_assets.automation.retraining_sensor import build_retraining_sensor
from mlops_assets.config.environment import EnvironmentConfig
from mlops_assets.config.project import ProjectConfig
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.resources.factory import BuildOptions, build_resources


def build_use_case_definitions(uc: UseCaseConfig) -> dg.Definitions:
    """Assets, checks, jobs, schedules and sensors of one use case (no resources)."""
    jobs = build_jobs(uc)
    sensors = [
        build_landing_sensor(uc, jobs.ingestion),
        build_run_failure_sensor(uc),
    ]
    if jobs.training is not None:
        sensors.append(build_retraining_sensor(uc, jobs.training))
    return dg.Definitions(
        assets=build_use_case_assets(uc),
        jobs=jobs.all(),
        schedules=jobs.schedules,
        sensors=sensors,
    )


def build_environment_definitions(
    project: ProjectConfig, options: BuildOptions | None = None
) -> dg.Definitions:
    """The resources and executor of the active environment, bound once for every use case."""
    return dg.Definitions(
        resources=build_resources(project, options), executor=executor(project.environment)
    )


def executor(environment: EnvironmentConfig) -> dg.ExecutorDefinition:
    return (
        dg.in_process_executor if environment.executor == "in_process" else dg.multiprocess_executor
    )


def build_definitions(
    project: ProjectConfig, options: BuildOptions | None = None
) -> dg.Definitions:
    """Definitions for every use case of ``project`` in its active environment."""
    return dg.Definitions.merge(
        *(build_use_case_definitions(uc) for uc in project.use_cases),
        build_environment_definitions(project, options),
    )
