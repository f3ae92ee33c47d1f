"""Silver runs killed with SIGKILL at each point of a write, and two runs of one partition at once.

Each run is a real process materializing the silver step of one day; it stops at a pause point
(``MLOPS_TEST_PAUSE_AT``, see :func:`mlops_assets.storage.publish.pause_point`) and is killed
there. After each kill: every published table is at its previous or its new version, the
``rows_accounted`` verdict read on the published tables says whether the partition is whole, and
a re-run leaves bronze == silver + quarantine exactly, published by one run.
"""

import json
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from mlops_assets.config.project import ProjectConfig
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.storage.lakehouse import LocalLakehouse, TableRef
from mlops_assets.storage.lease import read_record
from mlops_assets.storage.publish import PublishedPartition, published_partition
from mlops_assets.transforms.audit_report import ACCOUNTING_CHECK, published_accounting
from mlops_assets_tests.assets.assets_helpers import (
    DAY,
    checks_by_name,
    landing_file,
    materializations,
    materialize_day,
    read_landing_text,
    step_error,
    table,
    version,
    write_landing,
)
from mlops_assets_tests.conftest import CONFIGS_DIR
from mlops_assets_tests.pause_helpers import PausedProcess

pytestmark = pytest.mark.slow

BRONZE, SILVER = "churn/bronze/customers", "churn/silver/customers"
QUARANTINE = "churn/silver/customers_quarantine"
REFS = {k: TableRef.from_path(v.split("/")) for k, v in [("bronze", BRONZE), ("silver", SILVER)]}
REFS["quarantine"] = TableRef.from_path(QUARANTINE.split("/"))
STAGE = "stage:churn.silver.customers"
BEFORE_SILVER = "before_commit:churn.silver.customers"
AFTER_SILVER = "after_commit:churn.silver.customers"

WORKER = """
import json, os, sys
from pathlib import Path
import dagster as dg
from mlops_assets.config.project import load_project
from mlops_assets_tests.assets.assets_helpers import checks_by_name, materialize_day, step_error
data_dir, day, configs = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
churn = load_project(configs, environ=dict(os.environ)).use_case("churn")
keys = ["churn/silver/customers", "churn/silver/customers_quarantine"]
with dg.DagsterInstance.ephemeral() as instance:
    result = materialize_day(churn, data_dir, day, instance, selection=keys)
checks = sorted(checks_by_name(result, keys[0]))
print(json.dumps({"run_id": result.run_id, "success": result.success,
                  "error": step_error(result), "checks": checks}))
"""


@pytest.fixture
def churn(project: ProjectConfig) -> UseCaseConfig:
    return project.use_case("churn")


def _silver_process(data_dir: Path, point: str | None, pause_dir: Path) -> PausedProcess:
    env = {"MLOPS_DATA_DIR": str(data_dir), "MLFLOW_DISABLE_TELEMETRY": "true"}
    args = [str(data_dir), DAY, str(CONFIGS_DIR)]
    return PausedProcess(WORKER, args, point=point, pause_dir=pause_dir, env=env)


def _state(data_dir: Path) -> PublishedPartition:
    return published_partition(LocalLakehouse(data_dir), **REFS, partition=DAY)


def _snapshot(data_dir: Path) -> dict[str, tuple[int | None, pl.DataFrame]]:
    return {
        key: (version(data_dir, key), table(data_dir, key, DAY).sort("_row_number"))
        for key in (SILVER, QUARANTINE)
    }


def _published_then_bronze_changed(
    churn: UseCaseConfig, data_dir: Path, instance: dg.DagsterInstance
) -> dict[str, tuple[int | None, pl.DataFrame]]:
    """Publish the clean day, then land a corrected file (3 bad rows) and refresh bronze only."""
    ingest = [BRONZE, SILVER, QUARANTINE]
    assert materialize_day(churn, data_dir, DAY, instance, ingest).success
    before = _snapshot(data_dir)
    path = landing_file(data_dir, "customers")
    raw = read_landing_text(path)
    bad = pl.int_range(pl.len()) < 3
    tenure = pl.when(bad).then(pl.lit("-5")).otherwise(pl.col("tenure")).alias("tenure")
    write_landing(path, raw.with_columns(tenure))
    assert materialize_day(churn, data_dir, DAY, instance, [BRONZE]).success
    return before


@pytest.mark.parametrize(
    ("point", "outcome"),
    [(STAGE, "previous"), (BEFORE_SILVER, "half"), (AFTER_SILVER, "new")],
    ids=["during-staging", "between-publishes", "during-silver-publish"],
)
def test_sigkill_at_each_point_of_a_write(
    churn: UseCaseConfig,
    clean_data_dir: Path,
    dagster_instance: dg.DagsterInstance,
    tmp_path: Path,
    point: str,
    outcome: str,
) -> None:
    data_dir = clean_data_dir
    before = _published_then_bronze_changed(churn, data_dir, dagster_instance)
    killed = _silver_process(data_dir, point, tmp_path / "pause")
    try:
        killed.wait_paused()
        killed.kill()
    finally:
        killed.stop()
    house = LocalLakehouse(data_dir)
    lease = read_record(house.lease_path(REFS["silver"], DAY).with_name("_lease.json"))
    assert lease is not None  # the dead run's record stays; its lock went with the process
    assert lease.stage == ("writing" if point == STAGE else "publishing")
    # a partition that passes its audit is published from the refined frame: no staged copy
    staged_dir = data_dir / "lakehouse" / "_staging" / "churn" / "silver" / "customers" / DAY
    assert list(staged_dir.glob("*/_delta_log")) == []
    after_kill, state = _snapshot(data_dir), _state(data_dir)
    old_run = state.silver_run if outcome != "new" else None

    # every published table is at its previous version or exactly one commit further
    for key in (SILVER, QUARANTINE):
        assert after_kill[key][0] in {before[key][0], before[key][0] + 1}  # type: ignore[operator]
    if outcome == "previous":  # killed before anything was published: nothing changed
        for key in (SILVER, QUARANTINE):
            assert after_kill[key][0] == before[key][0]
            assert_frame_equal(after_kill[key][1], before[key][1])
        assert published_accounting(state).passed  # the previous version is whole
    elif outcome == "half":  # quarantine published, silver not: caught on the published tables
        assert after_kill[SILVER][0] == before[SILVER][0]
        assert_frame_equal(after_kill[SILVER][1], before[SILVER][1])
        assert after_kill[QUARANTINE][0] == before[QUARANTINE][0] + 1  # type: ignore[operator]
        assert state.quarantine_run == lease.run_id != state.silver_run
        verdict = published_accounting(state)
        assert not verdict.passed
        assert "a publish was interrupted" in str(verdict.metadata["problems"])
        assert state.silver_rows + state.quarantined_rows != state.bronze_rows
    else:  # both commits landed; only the run's bookkeeping was cut short
        assert state.silver_run == state.quarantine_run == lease.run_id
        assert published_accounting(state).passed

    # the re-run takes over at once, re-publishes both tables, and proves it on them
    result = materialize_day(churn, data_dir, DAY, dagster_instance, [SILVER, QUARANTINE])
    assert result.success
    check = checks_by_name(result, SILVER)[ACCOUNTING_CHECK]
    assert check.passed and check.metadata["read_from"].value == "published tables"
    repaired = materializations(result)[SILVER].metadata["repaired_half_publish"].value
    if outcome == "previous":
        assert repaired == "no"
    else:
        assert f"run {lease.run_id}" in str(repaired) and "died while publishing" in str(repaired)
    final = _state(data_dir)
    assert final.silver_rows + final.quarantined_rows == final.bronze_rows
    assert (final.silver_rows, final.quarantined_rows) == (final.bronze_rows - 3, 3)
    assert final.silver_run == final.quarantine_run == result.run_id != old_run
    assert read_record(house.lease_path(REFS["silver"], DAY).with_name("_lease.json")) is None
    if outcome != "previous":  # what the killed run had published is what the re-run publishes
        fixed = _snapshot(data_dir)
        assert_frame_equal(after_kill[QUARANTINE][1], fixed[QUARANTINE][1])
    if outcome == "new":
        assert_frame_equal(after_kill[SILVER][1], _snapshot(data_dir)[SILVER][1])


def test_two_runs_of_one_partition_conflict_instead_of_blaming_the_data(
    churn: UseCaseConfig, clean_data_dir: Path, dagster_instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    data_dir = clean_data_dir
    assert materialize_day(churn, data_dir, DAY, dagster_instance, [BRONZE]).success
    # a run in another process stops mid-publish (quarantine committed, silver not yet) ...
    first = _silver_process(data_dir, BEFORE_SILVER, tmp_path / "pause")
    try:
        first.wait_paused()
        lease_record = LocalLakehouse(data_dir).lease_path(REFS["silver"], DAY)
        holder = read_record(lease_record.with_name("_lease.json"))
        assert holder is not None
        # ... while this process runs the same partition: it stops at once, with a conflict
        second = materialize_day(churn, data_dir, DAY, dagster_instance, [SILVER, QUARANTINE])
        assert not second.success
        error = step_error(second)
        assert f"is being written by run {holder.run_id}" in error, error
        assert "wait for it to finish or cancel it" in error
        assert checks_by_name(second, SILVER) == {}  # no data verdict, no rows_accounted failure
        assert materializations(second) == {}
        first.release()
        code, out, err = first.finish()
        assert code == 0, err[-3000:]
        done = json.loads(out.strip().splitlines()[-1])
    finally:
        first.stop()
    assert done["success"] and done["run_id"] == holder.run_id
    assert ACCOUNTING_CHECK in done["checks"]
    state = _state(data_dir)
    assert state.silver_rows + state.quarantined_rows == state.bronze_rows > 0
    assert state.silver_run == state.quarantine_run == holder.run_id
