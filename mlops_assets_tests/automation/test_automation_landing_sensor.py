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
    # ... and says which days it leaves alone, rather than "no new files"
    assert result.skip_message is not None
    assert "0 day(s) seen" in result.skip_message
    assert "outside the partitions" in result.skip_message and "2020-01-01" in result.skip_message


def _day_folder(data_dir: Path, day: str) -> Path:
    return data_dir / "landing" / "churn" / "customers" / day


def test_a_day_back_to_an_earlier_file_set_is_ingested_again(
    project: ProjectConfig, landed_data_dir: Path, dagster_instance: dg.DagsterInstance
) -> None:
    """A wrong file dropped in and then deleted: the day returns to the file set of its first
    run, and that is a change too. Dagster drops a request whose run key any earlier run used,
    so the key counts the changes instead of naming the file set alone."""
    defs = build_definitions(project)
    day = SIMULATED_DAYS[2]
    first = _tick(defs, dagster_instance, None)
    assert isinstance(first, dg.SensorResult)
    keys = {r.run_key for r in first.run_requests or [] if r.partition_key == day}

    wrong = _day_folder(landed_data_dir, day) / "misfiled_export.csv"
    wrong.write_text("customer_id\nC99999\n")
    second = _tick(defs, dagster_instance, first.cursor)
    assert isinstance(second, dg.SensorResult)
    (added,) = second.run_requests or []
    wrong.unlink()
    third = _tick(defs, dagster_instance, second.cursor)
    assert isinstance(third, dg.SensorResult), third
    (restored,) = third.run_requests or []
    assert added.partition_key == restored.partition_key == day
    keys |= {added.run_key, restored.run_key}
    assert len(keys) == 3  # three changes, three keys: none is dropped as a duplicate
    # and nothing changed since: skip
    assert isinstance(_tick(defs, dagster_instance, third.cursor), dg.SkipReason)


def test_a_day_whose_files_are_all_deleted_is_ingested_empty(
    project: ProjectConfig, landed_data_dir: Path, dagster_instance: dg.DagsterInstance
) -> None:
    defs = build_definitions(project)
    first = _tick(defs, dagster_instance, None)
    assert isinstance(first, dg.SensorResult)
    day = SIMULATED_DAYS[0]
    for f in _day_folder(landed_data_dir, day).iterdir():
        f.unlink()
    labels = landed_data_dir / "landing" / "churn" / "labels" / day
    if labels.is_dir():
        for f in labels.iterdir():
            f.unlink()
    second = _tick(defs, dagster_instance, first.cursor)
    assert isinstance(second, dg.SensorResult), second
    (emptied,) = second.run_requests or []
    assert emptied.partition_key == day and emptied.tags["mlops/files"] == "0"
    assert isinstance(_tick(defs, dagster_instance, second.cursor), dg.SkipReason)


def test_a_cursor_written_before_changes_were_counted_is_still_read(
    project: ProjectConfig, landed_data_dir: Path, dagster_instance: dg.DagsterInstance
) -> None:
    """Earlier versions stored the bare fingerprint per day: unchanged days are not re-run."""
    defs = build_definitions(project)
    first = _tick(defs, dagster_instance, None)
    assert isinstance(first, dg.SensorResult) and first.cursor is not None
    bare = {day: value.rpartition(":")[2] for day, value in json.loads(first.cursor).items()}
    again = _tick(defs, dagster_instance, json.dumps(bare))
    assert isinstance(again, dg.SkipReason), again
