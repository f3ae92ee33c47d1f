"""Write-audit-publish: a blocking rule that fails keeps bad data out of the published table."""

from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from mlops_assets.config.project import ProjectConfig
from mlops_assets.config.rules import RowCountMinRule
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets_tests.assets.assets_helpers import (
    DAY,
    checks_by_name,
    landing_file,
    materializations,
    materialize_day,
    read_landing_text,
    step_error,
    table,
    table_path,
    version,
    write_landing,
)

SILVER = "churn/silver/customers"
QUARANTINE = "churn/silver/customers_quarantine"
DOWNSTREAM = [
    "churn/gold/daily_contract_kpis",
    "churn/gold/customer_latest",
    "churn/features/customer_features",
]


@pytest.fixture
def churn(project: ProjectConfig) -> UseCaseConfig:
    return project.use_case("churn")


def _published(
    churn: UseCaseConfig, data_dir: Path, instance: dg.DagsterInstance
) -> tuple[int, pl.DataFrame, int]:
    """Materialize the clean day; return the silver version and rows, quarantine version."""
    assert materialize_day(churn, data_dir, DAY, instance).success
    silver_version, quarantine_version = version(data_dir, SILVER), version(data_dir, QUARANTINE)
    assert silver_version is not None and quarantine_version is not None
    return silver_version, table(data_dir, SILVER), quarantine_version


def _assert_unpublished(
    data_dir: Path, before: tuple[int, pl.DataFrame, int], result: dg.ExecuteInProcessResult
) -> None:
    silver_version, silver_rows, quarantine_version = before
    assert not result.success
    assert version(data_dir, SILVER) == silver_version  # the previous version stays published
    assert_frame_equal(table(data_dir, SILVER), silver_rows)
    assert version(data_dir, QUARANTINE) == quarantine_version
    written = set(materializations(result))
    assert written == {
        "churn/bronze/customers",
        "churn/bronze/labels",
        "churn/silver/labels",
        "churn/silver/labels_quarantine",
    }
    assert not written & set(DOWNSTREAM)  # nothing downstream ran on the bad data
    # rows_accounted describes what is published (the previous version), not the refused batch
    accounted = checks_by_name(result, SILVER)["rows_accounted"].metadata
    assert accounted["read_from"].value == "published tables"
    assert accounted["silver_rows"].value == silver_rows.height
    assert accounted["silver_run"].value == accounted["quarantine_run"].value != result.run_id
    staging = data_dir / "lakehouse" / "_staging" / "churn" / "silver" / "customers" / DAY
    # the refused partition is kept for inspection, in a staging table private to its run
    assert [p.name for p in staging.glob("*/_delta_log")] == ["_delta_log"]


def test_blocking_null_key_rule_stops_publication(
    churn: UseCaseConfig, clean_data_dir: Path, dagster_instance: dg.DagsterInstance
) -> None:
    before = _published(churn, clean_data_dir, dagster_instance)
    path = landing_file(clean_data_dir, "customers")
    raw = read_landing_text(path)
    broken = raw.with_columns(
        pl.when(pl.int_range(pl.len()) % 5 != 0)
        .then(None)
        .otherwise(pl.col("customer_id"))
        .alias("customer_id")
    )  # 80 % of the ids lost: a broken export, far above the 5 % tolerated
    write_landing(path, broken)
    result = materialize_day(churn, clean_data_dir, DAY, dagster_instance)
    _assert_unpublished(clean_data_dir, before, result)

    check = checks_by_name(result, SILVER)["customer_id_not_null"]
    nulls = broken["customer_id"].null_count()
    assert not check.passed
    assert check.severity == dg.AssetCheckSeverity.ERROR
    assert check.metadata["failing_rows"].value == nulls
    assert check.metadata["failing_fraction"].value == pytest.approx(nulls / raw.height)
    # the failed evaluation is recorded in the instance, not only in the run result
    key = dg.AssetCheckKey(dg.AssetKey.from_user_string(SILVER), "customer_id_not_null")
    latest = dagster_instance.event_log_storage.get_latest_asset_check_execution_by_key([key])
    record = latest[key]
    assert record.run_id == result.run_id
    assert record.event is not None
    evaluation = record.event.dagster_event.event_specific_data  # type: ignore[union-attr]
    assert isinstance(evaluation, dg.AssetCheckEvaluation)
    assert evaluation.passed is False

    message = step_error(result)
    assert f"customers partition {DAY} not published" in message
    assert "customer_id_not_null" in message
    # fixing the file and re-running publishes again
    write_landing(path, raw)
    assert materialize_day(churn, clean_data_dir, DAY, dagster_instance).success
    assert version(clean_data_dir, SILVER) > before[0]  # type: ignore[operator]
    # the publishing run removed its own staging table; the refused run's stays for inspection
    staging = clean_data_dir / "lakehouse" / "_staging" / "churn" / "silver" / "customers" / DAY
    assert len(list(staging.glob("*/_delta_log"))) == 1


def test_row_count_min_blocks_a_nearly_empty_day(
    churn: UseCaseConfig, clean_data_dir: Path, dagster_instance: dg.DagsterInstance
) -> None:
    before = _published(churn, clean_data_dir, dagster_instance)
    path = landing_file(clean_data_dir, "customers")
    write_landing(path, read_landing_text(path).head(5))
    result = materialize_day(churn, clean_data_dir, DAY, dagster_instance)
    _assert_unpublished(clean_data_dir, before, result)
    rule = next(r for r in churn.datasets[0].rules if r.type == "row_count_min")
    check = checks_by_name(result, SILVER)[rule.check_name]
    assert not check.passed
    assert isinstance(rule, RowCountMinRule)
    assert check.metadata["observed"].value == f"5 rows (min {rule.min})"
    assert table_path(clean_data_dir, SILVER).is_dir()
