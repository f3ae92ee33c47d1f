"""Assemble Definitions from the validated project configuration."""

from typing import Any

import dagster as dg

from mlops_assets.assets.factory import build_use_case_assets
from mlops_assets.automation.alerts import build_run_failure_sensor
from mlops_assets.automation.jobs import build_jobs_and_schedules
from mlops_assets.automation.landing_sensor import build_landing_sensor
from mlops_assets.automation.retraining_sensor import build_retraining_sensor
from mlops_assets.config.project import ProjectConfig
from mlops_assets.resources.factory import BuildOptions, build_resources


def build_definitions(
    project: ProjectConfig, options: BuildOptions | None = None
) -> dg.Definitions:
    """Definitions for every use case of ``project`` in its active environment."""
    resources = build_resources(project, options)
    data_dir = str(project.environment.data_dir)
    assets: list[dg.AssetsDefinition] = []
    jobs: list[Any] = []
    schedules: list[Any] = []
    sensors: list[dg.SensorDefinition] = []
    for uc in project.use_cases:
        assets.extend(build_use_case_assets(uc))
        uc_jobs, uc_schedules = build_jobs_and_schedules(uc)
        jobs.extend(uc_jobs)
        schedules.extend(uc_schedules)
        sensors.append(build_landing_sensor(uc, uc_jobs[0], data_dir))
        sensors.append(build_run_failure_sensor(uc.name, uc.monitoring.alerts))
        training = next((j for j in uc_jobs if j.name == f"{uc.name}_training"), None)
        if training is not None:
            sensors.append(build_retraining_sensor(uc, training, data_dir))
    executor = (
        dg.in_process_executor
        if project.environment.executor == "in_process"
        else dg.multiprocess_executor
    )
    return dg.Definitions(
        assets=assets,
        jobs=jobs,
        schedules=schedules,
        sensors=sensors,
        resources=resources,
        executor=executor,
    )
