"""The landing sensor: one run per new or changed day, never the same run twice."""

import json
import os
from pathlib import Path

import dagster as dg

from mlops_assets.build import build_definitions
from mlops_assets.config.project import ProjectConfig
from mlops_assets_tests.conftest import SIMULATED_DAYS

SENSOR = "churn_landing_sensor"


def _tick(
    defs: dg.Definitions, instance: dg.DagsterInstance, cursor: str | None
) -> dg.SensorResult | dg.SkipReason:
    sensor = defs.resolve_sensor_def(SENSOR)
    with dg.build_sensor_context(
        cursor=cursor, instance=instance, definitions=defs, resources=defs.resources
    ) as context:
        result = sensor(context)
    assert isinstance(result, dg.SensorResult | dg.SkipReason)
    return result


def test_no_landing_files_skips_with_a_reason(
    project: ProjectConfig, data_dir: Path, dagster_instance: dg.DagsterInstance
) -> None:
    defs = build_definitions(project)
    result = _tick(defs, dagster_instance, None)
    assert isinstance(result, dg.SkipReason)
    assert result.skip_message is not None
    assert str(data_dir / "landing" / "churn") in result.skip_message
    assert "0 day(s) seen" in result.skip_message


def test_sensor_requests_each_changed_day_exactly_once(
    project: ProjectConfig, landed_data_dir: Path, dagster_instance: dg.DagsterInstance
) -> None:
    defs = build_definitions(project)

    # first tick: one run per day that has files, keyed so a tick can never start it twice
    first = _tick(defs, dagster_instance, None)
    assert isinstance(first, dg.SensorResult), first
    requests = first.run_requests or []
    assert sorted(r.partition_key for r in requests if r.partition_key) == list(SIMULATED_DAYS)
    run_keys = [r.run_key for r in requests]
    assert all(run_keys) and len(set(run_keys)) == len(run_keys)
    assert all((r.partition_key or "?") in (r.run_key or "") for r in requests)
    assert first.cursor is not None
    assert sorted(json.loads(first.cursor)) == list(SIMULATED_DAYS)

    # second tick, nothing changed: skip, and say why
    second = _tick(defs, dagster_instance, first.cursor)
    assert isinstance(second, dg.SkipReason)
    assert second.skip_message is not None and "no new or changed" in second.skip_message

    # a landing file of day 2 is replaced: only day 2 runs again, under a new run key
    day2 = SIMULATED_DAYS[1]
    path = landed_data_dir / "landing" / "churn" / "customers" / day2 / f"customers_{day2}.csv"
    path.write_text(path.read_text() + path.read_text().splitlines()[-1] + "\n")
    os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 5))
    third = _tick(defs, dagster_instance, first.cursor)
    assert isinstance(third, dg.SensorResult)
    (again,) = third.run_requests or []
    assert again.partition_key == day2
    old_key = next(r.run_key for r in requests if r.partition_key == day2)
    assert again.run_key != old_key
    # the requested run targets the ingestion job
    assert defs.resolve_sensor_def(SENSOR).job_name == "churn_ingestion"


def test_sensor_ignores_days_outside_the_partitions(
    project: ProjectConfig, data_dir: Path, dagster_instance: dg.DagsterInstance
) -> None:
    before_start = data_dir / "landing" / "churn" / "customers" / "2020-01-01"
    before_start.mkdir(parents=True)
    (before_start / "customers_2020-01-01.csv").write_text("customer_id\nC00001\n")
    (data_dir / "landing" / "churn" / "customers" / "not-a-day").mkdir()
    result = _tick(build_definitions(project), dagster_instance, None)
    assert isinstance(result, dg.SkipReason)
