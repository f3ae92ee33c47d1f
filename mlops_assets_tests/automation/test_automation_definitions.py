"""The whole code location: it loads, every asset is findable, and jobs and schedules are sound."""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from mlops_assets.build import build_definitions
from mlops_assets.config.project import ProjectConfig
from mlops_assets_tests.conftest import REPO_ROOT

HEAVY = (
    "mlflow",
    "evidently",
    "sklearn",
    "pyspark",
    "scipy",
    "polars",
    "numpy",
    "pandas",
    "narwhals",
    # the local environment binds no Databricks client: they load with `MLOPS_ENV=databricks`
    "databricks",
    "mlops_assets.databricks",
    "mlops_assets.resources.databricks",
    "mlops_assets.resources.pipes_compute",
)


@pytest.fixture
def defs(project: ProjectConfig) -> dg.Definitions:
    return build_definitions(project)


def test_the_code_location_module_loads(mlops_env: dict[str, str]) -> None:
    from mlops_assets.definitions import defs as location

    dg.Definitions.validate_loadable(location)
    assert location.resolve_job_def("churn_ingestion") is not None


def test_every_asset_has_group_kinds_description_and_a_three_part_key(
    defs: dg.Definitions, project: ProjectConfig
) -> None:
    use_cases = {uc.name for uc in project.use_cases}
    specs = list(defs.resolve_all_asset_specs())
    assert specs
    for spec in specs:
        name = spec.key.to_user_string()
        assert len(spec.key.path) == 3, name
        use_case = spec.key.path[0]
        assert use_case in use_cases, name
        assert spec.group_name and spec.group_name.startswith(f"{use_case}_"), name
        assert spec.kinds, f"{name} has no kinds"
        assert spec.description and spec.description.strip(), f"{name} has no description"
    layers = {spec.key.path[1] for spec in specs}
    assert {"bronze", "silver", "gold", "features"} <= layers


def test_every_dataset_table_and_feature_table_is_an_asset(
    defs: dg.Definitions, project: ProjectConfig
) -> None:
    keys = {k.to_user_string() for k in defs.resolve_all_asset_keys()}
    for uc in project.use_cases:
        for ds in uc.datasets:
            for expected in (
                f"{uc.name}/bronze/{ds.name}",
                f"{uc.name}/silver/{ds.name}",
                f"{uc.name}/silver/{ds.name}_quarantine",
            ):
                assert expected in keys
        assert {f"{uc.name}/gold/{g.name}" for g in uc.gold} <= keys
        assert {f"{uc.name}/features/{f.name}" for f in uc.feature_tables} <= keys


def test_silver_checks_cover_every_rule(defs: dg.Definitions, project: ProjectConfig) -> None:
    graph = defs.resolve_asset_graph()
    check_keys = graph.asset_check_keys
    for uc in project.use_cases:
        for ds in uc.datasets:
            silver = dg.AssetKey([uc.name, "silver", ds.name])
            names = {k.name for k in check_keys if k.asset_key == silver}
            assert {r.check_name for r in ds.all_rules()} <= names


def test_ingestion_job_covers_bronze_to_features(defs: dg.Definitions) -> None:
    job = defs.resolve_job_def("churn_ingestion")
    keys = {k.to_user_string() for k in job.asset_layer.executable_asset_keys}
    assert {
        "churn/bronze/customers",
        "churn/silver/customers",
        "churn/gold/customer_latest",
    } <= keys
    assert "churn/features/customer_features" in keys
    assert "churn/features/training_set" not in keys  # unpartitioned: its own job
    assert job.partitions_def is not None
    assert job.partitions_def.get_first_partition_key() == "2026-01-01"


def test_ingestion_schedule_targets_the_previous_day(defs: dg.Definitions) -> None:
    schedule = defs.resolve_schedule_def("churn_ingestion_schedule")
    assert schedule.job_name == "churn_ingestion"
    when = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
    repo = defs.get_repository_def()
    context = dg.build_schedule_context(scheduled_execution_time=when, repository_def=repo)
    result = schedule.evaluate_tick(context)
    (request,) = result.run_requests or []
    assert request.partition_key == "2026-03-09"
    assert request.run_key is not None and "2026-03-09" in request.run_key
    # the same tick evaluated twice asks for the same run (the run key makes it idempotent)
    again = schedule.evaluate_tick(
        dg.build_schedule_context(scheduled_execution_time=when, repository_def=repo)
    )
    assert [r.run_key for r in again.run_requests or []] == [request.run_key]


def test_import_is_fast_and_light(tmp_path: Path) -> None:
    """Importing the code location must not pull in the heavy ML/Spark stacks, nor (in the local
    environment) the Databricks clients."""
    code = (
        "import json, sys, time\n"
        "t, c = time.perf_counter(), time.process_time()\n"
        "import mlops_assets.definitions\n"
        "seconds, cpu = time.perf_counter() - t, time.process_time() - c\n"
        f"heavy = [m for m in {HEAVY!r} if any(k == m or k.startswith(m + '.') "
        "for k in sys.modules)]\n"
        "print(json.dumps({'seconds': seconds, 'cpu': cpu, 'heavy': heavy}))\n"
    )
    env = {**os.environ, "MLOPS_DATA_DIR": str(tmp_path), "MLFLOW_DISABLE_TELEMETRY": "true"}
    env.pop("MLOPS_ENV", None)
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"\nimport mlops_assets.definitions: {report['seconds']:.2f} s wall, "
        f"{report['cpu']:.2f} s CPU"
    )
    assert report["heavy"] == [], f"imported at load time: {report['heavy']}"
    # CPU seconds, not wall: other jobs on a loaded CI machine stretch wall time, not CPU time.
    assert report["cpu"] < 10, f"import took {report['cpu']:.1f} s of CPU"


@pytest.mark.parametrize(
    ("zone", "local_tick", "day"),
    [
        ("Asia/Tokyo", datetime(2026, 3, 10, 2, 0), "2026-03-08"),  # 17:00 UTC on the 9th
        ("Asia/Kolkata", datetime(2026, 3, 10, 4, 0), "2026-03-08"),  # 22:30 UTC on the 9th
        ("America/New_York", datetime(2026, 3, 10, 2, 0), "2026-03-09"),  # 06:00 UTC the 10th
    ],
)
def test_schedules_ask_for_the_last_complete_utc_day_in_any_zone(
    project: ProjectConfig, zone: str, local_tick: datetime, day: str
) -> None:
    """Partitions are UTC days: a tick in a zone east of UTC must not ask for a day that has not
    ended in UTC (its partition does not exist yet, and the tick would fail)."""
    from zoneinfo import ZoneInfo

    churn = project.use_case("churn")
    zoned = churn.model_copy(
        update={"schedules": churn.schedules.model_copy(update={"timezone": zone})}
    )
    defs = build_definitions(project.model_copy(update={"use_cases": [zoned]}))
    schedule = defs.resolve_schedule_def("churn_ingestion_schedule")
    repo = defs.get_repository_def()
    when = local_tick.replace(tzinfo=ZoneInfo(zone))
    context = dg.build_schedule_context(scheduled_execution_time=when, repository_def=repo)
    (request,) = schedule.evaluate_tick(context).run_requests or []
    assert request.partition_key == day
