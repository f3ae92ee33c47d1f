"""Faulty landing files through the real assets: each fault lands where it should, with why."""

from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from mlops_assets.config.project import ProjectConfig
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.transforms.quality import DUPLICATE_RULE
from mlops_assets.transforms.schema_contract import CAST_ERROR_RULE
from mlops_assets_tests.assets.assets_helpers import (
    DAY,
    checks_by_name,
    landing_file,
    materializations,
    materialize_day,
    read_landing_text,
    table,
    write_landing,
)

SILVER = "churn/silver/customers"
QUARANTINE = "churn/silver/customers_quarantine"
BRONZE = "churn/bronze/customers"
# bronze -> silver (+ quarantine) only: gold and features are not about faults
INGEST = ["churn/bronze/customers", "churn/silver/customers", "churn/silver/customers_quarantine"]


@pytest.fixture
def churn(project: ProjectConfig) -> UseCaseConfig:
    return project.use_case("churn")


def _customers(data_dir: Path) -> tuple[Path, pl.DataFrame]:
    path = landing_file(data_dir, "customers")
    return path, read_landing_text(path)


def _set(frame: pl.DataFrame, row: int, **values: str | None) -> pl.DataFrame:
    """``frame`` with the given columns of one row replaced."""
    is_row = pl.int_range(pl.len()) == row
    return frame.with_columns(
        pl.when(is_row).then(pl.lit(v, pl.String)).otherwise(pl.col(c)).alias(c)
        for c, v in values.items()
    )


def _run(
    churn: UseCaseConfig, data_dir: Path, instance: dg.DagsterInstance
) -> dg.ExecuteInProcessResult:
    result = materialize_day(churn, data_dir, DAY, instance, selection=INGEST)
    assert result.success
    bronze = table(data_dir, BRONZE, DAY).height
    assert table(data_dir, SILVER, DAY).height + table(data_dir, QUARANTINE, DAY).height == bronze
    return result


def test_clean_day_quarantines_nothing(
    churn: UseCaseConfig, clean_data_dir: Path, dagster_instance: dg.DagsterInstance
) -> None:
    result = _run(churn, clean_data_dir, dagster_instance)
    _, raw = _customers(clean_data_dir)
    assert table(clean_data_dir, SILVER, DAY).height == raw.height
    assert table(clean_data_dir, QUARANTINE, DAY).height == 0
    checks = checks_by_name(result, SILVER)
    assert all(e.passed for e in checks.values()), [n for n, e in checks.items() if not e.passed]


def test_unknown_extra_column_is_kept_in_bronze_and_ignored_by_silver(
    churn: UseCaseConfig, clean_data_dir: Path, dagster_instance: dg.DagsterInstance
) -> None:
    day2 = "2026-01-02"
    assert materialize_day(churn, clean_data_dir, day2, dagster_instance, INGEST).success
    path, raw = _customers(clean_data_dir)
    write_landing(path, raw.with_columns(pl.lit("gold").alias("loyalty_tier")))
    result = _run(churn, clean_data_dir, dagster_instance)
    bronze = table(clean_data_dir, BRONZE, DAY)
    assert bronze["loyalty_tier"].to_list() == ["gold"] * raw.height
    assert materializations(result)[BRONZE].metadata["schema_evolution_added"].value == (
        "loyalty_tier"
    )
    silver = table(clean_data_dir, SILVER, DAY)
    assert "loyalty_tier" not in silver.columns
    assert silver.height == raw.height
    # a day without the column still writes; the column stays for the day that had it
    assert materialize_day(churn, clean_data_dir, day2, dagster_instance, INGEST).success
    assert table(clean_data_dir, BRONZE, day2)["loyalty_tier"].null_count() > 0
    assert table(clean_data_dir, BRONZE, DAY)["loyalty_tier"].unique().to_list() == ["gold"]


def test_missing_column_becomes_null_and_is_reported(
    churn: UseCaseConfig, clean_data_dir: Path, dagster_instance: dg.DagsterInstance
) -> None:
    path, raw = _customers(clean_data_dir)
    write_landing(path, raw.drop("online_backup"))
    result = _run(churn, clean_data_dir, dagster_instance)
    silver = table(clean_data_dir, SILVER, DAY)
    assert silver.height == raw.height  # a nullable column: rows stay, values are null
    assert silver["online_backup"].null_count() == raw.height
    conformance = checks_by_name(result, SILVER)[CAST_ERROR_RULE]
    assert conformance.metadata["missing_columns"].value == "online_backup"
    meta = materializations(result)[SILVER].metadata
    assert meta["missing_columns"].value == "online_backup"


def test_missing_key_column_quarantines_every_row_and_blocks(
    churn: UseCaseConfig, clean_data_dir: Path, dagster_instance: dg.DagsterInstance
) -> None:
    path, raw = _customers(clean_data_dir)
    write_landing(path, raw.drop("customer_id"))
    result = materialize_day(churn, clean_data_dir, DAY, dagster_instance, INGEST)
    assert not result.success
    checks = checks_by_name(result, SILVER)
    assert not checks["customer_id_not_null"].passed
    assert checks["customer_id_not_null"].metadata["failing_rows"].value == raw.height
    assert checks[CAST_ERROR_RULE].metadata["missing_columns"].value == "customer_id"


def test_each_fault_is_quarantined_with_its_exact_reason(
    churn: UseCaseConfig, clean_data_dir: Path, dagster_instance: dg.DagsterInstance
) -> None:
    path, raw = _customers(clean_data_dir)
    faulty = raw
    faulty = _set(faulty, 1, tenure="ten")
    faulty = _set(faulty, 2, monthly_charges="n/a", total_charges="1e-2")
    faulty = _set(faulty, 3, customer_id=None)
    faulty = _set(faulty, 4, event_ts="2026-01-01T25:00:00Z")
    faulty = _set(faulty, 5, tenure="-3")
    faulty = _set(faulty, 6, contract="Quarterly")
    faulty = _set(faulty, 7, customer_id="X0001")
    faulty = _set(faulty, 8, monthly_charges="900")
    faulty = _set(faulty, 9, total_charges="-1")
    resent = faulty[10].with_columns(pl.lit("99.99").alias("monthly_charges"))
    faulty = pl.concat([faulty, resent])  # same (customer_id, event_ts), later in the file
    write_landing(path, faulty)
    result = _run(churn, clean_data_dir, dagster_instance)

    quarantine = table(clean_data_dir, QUARANTINE, DAY).sort("_row_number")
    row = {r["_row_number"]: r for r in quarantine.iter_rows(named=True)}
    cid = faulty["customer_id"].to_list()
    sql = "total_charges is null or total_charges >= 0"
    sql_check = next(r.check_name for r in churn.datasets[0].rules if r.type == "sql")
    expected = {  # _row_number (1-based) -> (_rule, _reason)
        2: (CAST_ERROR_RULE, "tenure: value 'ten' is not a valid int64"),
        3: (CAST_ERROR_RULE, "monthly_charges: value 'n/a' is not a valid float64"),
        4: ("customer_id_not_null", "customer_id_not_null: customer_id is null"),
        5: (
            CAST_ERROR_RULE,
            "event_ts: value '2026-01-01T25:00:00Z' is not a valid datetime; "
            "event_ts_not_null: event_ts is null",
        ),
        6: ("tenure_in_range", "tenure_in_range: tenure=-3 outside [0, inf]"),
        7: (
            "contract_accepted_values",
            "contract_accepted_values: contract='Quarterly' not in accepted values",
        ),
        8: (
            "customer_id_matches_pattern",
            "customer_id_matches_pattern: customer_id='X0001' does not match ^C[0-9]{5}$",
        ),
        9: (
            "monthly_charges_in_range",
            "monthly_charges_in_range: monthly_charges=900.0 outside [0, 500]",
        ),
        10: (sql_check, f"{sql_check}: `{sql}` is false"),
        11: (
            DUPLICATE_RULE,
            "duplicate_key: a later record has the same key (customer_id, event_ts)",
        ),
    }
    assert {n: (r["_rule"], r["_reason"]) for n, r in row.items()} == expected
    assert row[11]["customer_id"] == cid[10]
    silver = table(clean_data_dir, SILVER, DAY)
    kept = silver.filter(pl.col("customer_id") == cid[10])
    assert kept["monthly_charges"].to_list() == [99.99]  # the later record won
    assert kept["_row_number"].to_list() == [faulty.height]
    # quarantine keeps the raw text of every column
    assert row[2]["tenure"] == "ten" and row[3]["total_charges"] == "1e-2"

    # one check per rule, failing exactly where a fault was injected
    checks = checks_by_name(result, SILVER)
    failed = {name for name, e in checks.items() if not e.passed}
    assert failed == {
        CAST_ERROR_RULE,
        "event_ts_not_null",
        "tenure_in_range",
        "contract_accepted_values",
        "customer_id_matches_pattern",
        "monthly_charges_in_range",
        sql_check,
    }
    # customer_id_not_null tolerates 5 % (blocking above that): 1 row of 41 passes
    assert checks["customer_id_not_null"].passed
    assert checks["customer_id_not_null"].metadata["failing_rows"].value == 1
    assert checks[CAST_ERROR_RULE].severity == dg.AssetCheckSeverity.WARN
    assert checks[CAST_ERROR_RULE].metadata["failing_rows"].value == 3
    # an ERROR rule whose rows were quarantined: silver is correct, the failure is a WARN
    assert checks["tenure_in_range"].severity == dg.AssetCheckSeverity.WARN
    assert checks["tenure_in_range"].metadata["configured_severity"].value == "error"
    assert "went to quarantine" in (checks["tenure_in_range"].description or "")


def test_truncated_file_keeps_the_row_in_bronze_and_quarantines_it(
    churn: UseCaseConfig, clean_data_dir: Path, dagster_instance: dg.DagsterInstance
) -> None:
    path, raw = _customers(clean_data_dir)
    text = path.read_text().rstrip("\n")
    last = text.splitlines()[-1]
    cut = last[: last.index(",", len(last) // 2)]  # the writer died halfway through the row
    path.write_text(text[: len(text) - len(last)] + cut)
    missing = last.count(",") - cut.count(",")
    result = _run(churn, clean_data_dir, dagster_instance)
    bronze = table(clean_data_dir, BRONZE, DAY).sort("_row_number")
    assert bronze.height == raw.height  # kept
    assert bronze["_missing_fields"].to_list() == [0] * (raw.height - 1) + [missing]
    assert bronze.row(-1, named=True)["total_charges"] is None
    quarantine = table(clean_data_dir, QUARANTINE, DAY)
    assert quarantine["_row_number"].to_list() == [raw.height]
    assert quarantine["_rule"].to_list() == [CAST_ERROR_RULE]
    assert (
        quarantine["_reason"]
        .to_list()[0]
        .endswith(f"row: {missing} field(s) missing (line cut short)")
    )
    assert not checks_by_name(result, SILVER)[CAST_ERROR_RULE].passed
