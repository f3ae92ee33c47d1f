"""A simulated day through bronze, silver (+ quarantine), gold and features, as Delta tables."""

from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from mlops_assets.assets.factory import build_data_assets
from mlops_assets.assets.features.training_set import build_training_set_asset
from mlops_assets.assets.medallion.silver_checks import ROW_RULES
from mlops_assets.config.project import ProjectConfig
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.transforms.schema_contract import CAST_ERROR_RULE
from mlops_assets_tests.assets.assets_helpers import (
    checks_by_name,
    landing_file,
    local_resources,
    materializations,
    materialize_day,
    table,
    version,
)
from mlops_assets_tests.conftest import SIMULATED_DAYS

DAY1, DAY2, DAY4 = SIMULATED_DAYS[0], SIMULATED_DAYS[1], SIMULATED_DAYS[3]
DATA_TABLES = [
    "churn/bronze/customers",
    "churn/bronze/labels",
    "churn/silver/customers",
    "churn/silver/customers_quarantine",
    "churn/silver/labels",
    "churn/silver/labels_quarantine",
    "churn/gold/daily_contract_kpis",
    "churn/gold/customer_latest",
    "churn/gold/customer_charge_benchmark",
    "churn/features/customer_features",
]


@pytest.fixture
def churn(project: ProjectConfig) -> UseCaseConfig:
    return project.use_case("churn")


def test_one_day_end_to_end(
    churn: UseCaseConfig, landed_data_dir: Path, dagster_instance: dg.DagsterInstance
) -> None:
    data_dir = landed_data_dir
    result = materialize_day(churn, data_dir, DAY4, dagster_instance)
    assert result.success
    mats = materializations(result)
    assert sorted(mats) == sorted(DATA_TABLES)

    # bronze: every landing row, as it came
    raw = pl.read_csv(landing_file(data_dir, "customers", DAY4), infer_schema=False)
    bronze = table(data_dir, "churn/bronze/customers", DAY4)
    assert bronze.height == raw.height
    assert sorted(bronze["customer_id"].drop_nulls().to_list()) == sorted(
        raw["customer_id"].drop_nulls().to_list()
    )

    # silver + quarantine == bronze, per dataset
    for ds in ("customers", "labels"):
        b = table(data_dir, f"churn/bronze/{ds}", DAY4).height
        s = table(data_dir, f"churn/silver/{ds}", DAY4).height
        q = table(data_dir, f"churn/silver/{ds}_quarantine", DAY4).height
        assert s + q == b, ds
    labels_raw = pl.read_csv(landing_file(data_dir, "labels", DAY4), infer_schema=False)
    assert table(data_dir, "churn/bronze/labels", DAY4).height == labels_raw.height > 0

    # silver obeys the declared rules (checked here independently of the rule engine)
    silver = table(data_dir, "churn/silver/customers", DAY4)
    assert silver.select("customer_id", "event_ts").is_duplicated().sum() == 0
    assert silver["customer_id"].str.contains(r"^C[0-9]{5}$").all()
    assert (silver["tenure"].drop_nulls() >= 0).all()
    assert set(silver["contract"].drop_nulls()) <= {"Month-to-month", "One year", "Two year"}
    assert silver.schema["event_ts"] == pl.Datetime("us", "UTC")
    assert silver["event_ts"].dt.date().cast(pl.String).unique().to_list() == [DAY4]

    # gold: the daily KPIs are the group-by of that day's silver rows
    kpis = table(data_dir, "churn/gold/daily_contract_kpis", DAY4).sort("contract")
    expected = (
        silver.group_by("contract")
        .agg(
            pl.col("customer_id").n_unique().alias("customers"),
            pl.len().alias("observations"),
            pl.col("monthly_charges").mean().alias("avg_monthly_charges"),
        )
        .sort("contract")
    )
    assert kpis["contract"].to_list() == expected["contract"].to_list()
    assert kpis["customers"].to_list() == expected["customers"].to_list()
    assert kpis["observations"].to_list() == expected["observations"].to_list()
    assert kpis["avg_monthly_charges"].to_list() == pytest.approx(
        expected["avg_monthly_charges"].to_list()
    )
    latest = table(data_dir, "churn/gold/customer_latest", DAY4)
    assert latest.height == silver["customer_id"].n_unique()

    # features: one row per silver observation of the day, expressions as declared
    features = table(data_dir, "churn/features/customer_features", DAY4)
    assert features.height == silver.height
    joined = features.join(silver, on=["customer_id", "event_ts"], suffix="_silver")
    assert joined.height == silver.height
    expected_ratio = joined.select(
        pl.col("total_charges_silver").fill_null(0) / (pl.col("tenure_silver") + 1)
    ).to_series()
    assert joined["charges_per_month_of_tenure"].to_list() == pytest.approx(
        expected_ratio.to_list()
    )
    assert (joined["observations_7d"] >= 1).all()  # a window includes the row itself


def test_metadata_tells_the_story(
    churn: UseCaseConfig, landed_data_dir: Path, dagster_instance: dg.DagsterInstance
) -> None:
    result = materialize_day(churn, landed_data_dir, DAY1, dagster_instance)
    assert result.success
    for key, mat in materializations(result).items():
        meta = mat.metadata
        rows = meta["dagster/row_count"].value
        assert rows == table(landed_data_dir, key, DAY1).height, key
        schema = meta["dagster/column_schema"].value
        assert isinstance(schema, dg.TableSchema)
        assert {c.name for c in schema.columns} >= set(
            c for c in table(landed_data_dir, key, DAY1).columns
        ), key
        assert meta["table_version"].value == version(landed_data_dir, key), key
    silver_meta = materializations(result)["churn/silver/customers"].metadata
    bronze_rows, silver_rows, quarantined = (
        silver_meta[k].value for k in ("bronze_rows", "dagster/row_count", "quarantined_rows")
    )
    assert isinstance(bronze_rows, int) and isinstance(silver_rows, int)
    assert isinstance(quarantined, int) and bronze_rows == silver_rows + quarantined
    # the Columns table explains every declared column (from the dataset YAML)
    schema = silver_meta["dagster/column_schema"].value
    assert isinstance(schema, dg.TableSchema)
    described = {c.name: c.description for c in schema.columns}
    (customers,) = [ds for ds in churn.datasets if ds.name == "customers"]
    for column in customers.columns:
        assert (described[column.name] or "").startswith(column.description or "("), column.name
        assert f"({column.dtype}" in (described[column.name] or ""), column.name
    bronze_meta = materializations(result)["churn/bronze/customers"].metadata
    assert bronze_meta["file_count"].value == 1
    assert "customers_2026-01-01.csv" in str(bronze_meta["files"].value)


def test_one_check_per_rule_with_its_severity(
    churn: UseCaseConfig, landed_data_dir: Path, dagster_instance: dg.DagsterInstance
) -> None:
    result = materialize_day(churn, landed_data_dir, DAY2, dagster_instance)
    assert result.success
    for ds in churn.datasets:
        checks = checks_by_name(result, f"churn/silver/{ds.name}")
        expected = {r.check_name for r in ds.all_rules()} | {CAST_ERROR_RULE, "rows_accounted"}
        assert set(checks) == expected
        for rule in ds.all_rules():
            quarantined = rule.type in ROW_RULES and not rule.blocking  # silver stays correct
            severity = (
                dg.AssetCheckSeverity.WARN
                if rule.severity == "warn" or quarantined
                else (dg.AssetCheckSeverity.ERROR)
            )
            assert checks[rule.check_name].severity == severity, rule.check_name
        assert checks["rows_accounted"].passed
    # the simulator breaks ~1% of rows: the checks must agree with the quarantine table
    quarantine = table(landed_data_dir, "churn/silver/customers_quarantine", DAY2)
    customers = checks_by_name(result, "churn/silver/customers")
    for check in ("tenure_in_range", "contract_accepted_values"):
        broken = quarantine.filter(pl.col("_reason").str.contains(f"{check}:")).height
        assert customers[check].passed == (broken == 0), check
        assert customers[check].metadata["failing_rows"].value == broken
    cast_failures = quarantine.filter(pl.col("_rule") == CAST_ERROR_RULE).height
    assert customers[CAST_ERROR_RULE].passed == (cast_failures == 0)
    assert customers[CAST_ERROR_RULE].metadata["failing_rows"].value == cast_failures


def test_rematerializing_a_day_replaces_it(
    churn: UseCaseConfig, landed_data_dir: Path, dagster_instance: dg.DagsterInstance
) -> None:
    data_dir = landed_data_dir
    assert materialize_day(churn, data_dir, DAY1, dagster_instance).success
    assert materialize_day(churn, data_dir, DAY2, dagster_instance).success
    counts = {key: table(data_dir, key).height for key in DATA_TABLES}
    versions = {key: version(data_dir, key) for key in DATA_TABLES}
    again = materialize_day(churn, data_dir, DAY1, dagster_instance)
    assert again.success
    for key in DATA_TABLES:
        assert table(data_dir, key).height == counts[key], key  # replaced, not appended
        earlier, later = versions[key], version(data_dir, key)
        assert earlier is not None and later is not None and later > earlier, key
    # the two days stay apart
    day2 = table(data_dir, "churn/silver/customers", DAY2)
    assert day2["event_ts"].dt.date().cast(pl.String).unique().to_list() == [DAY2]
    assert sorted(table(data_dir, "churn/bronze/customers")["_batch_id"].unique()) == sorted(
        {again.run_id, *table(data_dir, "churn/bronze/customers", DAY2)["_batch_id"].unique()}
    )


@pytest.mark.filterwarnings("ignore:Sortedness of columns cannot be checked")
def test_training_set_joins_labels_to_features_known_at_their_time(
    churn: UseCaseConfig, landed_data_dir: Path, dagster_instance: dg.DagsterInstance
) -> None:
    data_dir = landed_data_dir
    for day in SIMULATED_DAYS:
        assert materialize_day(churn, data_dir, day, dagster_instance).success
    assert churn.training_set is not None
    key = f"churn/features/{churn.training_set.name}"
    result = dg.materialize(
        [*build_data_assets(churn), build_training_set_asset(churn)],
        resources=local_resources(data_dir),
        instance=dagster_instance,
        selection=dg.AssetSelection.keys(dg.AssetKey.from_user_string(key)),
    )
    assert result.success
    training = table(data_dir, key)
    labels = table(data_dir, "churn/silver/labels")
    features = table(data_dir, "churn/features/customer_features")
    # independently: the newest feature row of the customer stamped at or before the label
    known = (
        labels.select("customer_id", "event_ts")
        .join(features.select("customer_id", pl.col("event_ts").alias("f_ts")), on="customer_id")
        .filter(pl.col("f_ts") <= pl.col("event_ts"))
        .group_by("customer_id", "event_ts")
        .agg(pl.col("f_ts").max())
    )
    assert training.height == known.height > 0
    check = training.join(known, on=["customer_id", "event_ts"], how="left")
    assert (check["feature_ts"] == check["f_ts"]).all()
    assert (training["feature_ts"] <= training["event_ts"]).all()
    meta = materializations(result)[key].metadata
    assert meta["labels"].value == labels.height
    assert meta["labels_without_features"].value == labels.height - training.height
