"""The bronze asset through real Dagster runs: every landing file accounted for, in metadata, in
the queryable ``<dataset>_landing_files`` table and in two asset checks; bad headers never reach
bronze's or quarantine's schema.
"""

import csv
import gzip
import io
import json
from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from mlops_assets.assets.medallion.bronze import (
    COLUMNS_CHECK,
    FILES_CHECK,
    build_bronze_asset,
    landing_files_ref,
)
from mlops_assets.automation.jobs import ingestion_job
from mlops_assets.automation.landing_sensor import build_landing_sensor
from mlops_assets.config.datasets import DatasetConfig
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.resources.lakehouse import LakehouseResource
from mlops_assets.storage.lakehouse import LocalLakehouse
from mlops_assets_tests.assets.assets_helpers import (
    checks_by_name,
    local_resources,
    materializations,
    materialize_day,
    table,
)

DAY = "2026-01-03"
BRONZE = "shop/bronze/orders"
COLUMNS = ["order_id", "amount", "status"]
HEADER = ",".join(COLUMNS)


@pytest.fixture
def shop() -> UseCaseConfig:
    orders = DatasetConfig(
        name="orders",
        columns=[
            {"name": "order_id", "dtype": "string", "nullable": False},
            {"name": "amount", "dtype": "float64"},
            {"name": "status", "dtype": "string"},
        ],
        keys=["order_id"],
    )
    return UseCaseConfig(name="shop", start_date=date(2026, 1, 1), datasets=[orders])


def _folder(data_dir: Path, day: str = DAY) -> Path:
    folder = data_dir / "landing" / "shop" / "orders" / day
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _csv(n: int, first: int = 0, sep: str = ",") -> str:
    body = "\n".join(sep.join((f"o{i}", f"{i}.5", "open")) for i in range(first, first + n))
    return HEADER.replace(",", sep) + "\n" + body + "\n"


def _csv_rows(text: str) -> int:
    """Data rows counted by the standard library (not by the code under test)."""
    return len([r for r in csv.reader(io.StringIO(text, newline="")) if r]) - 1


def _bronze(
    uc: UseCaseConfig, data_dir: Path, instance: dg.DagsterInstance, day: str = DAY
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [build_bronze_asset(uc, uc.datasets[0])],
        partition_key=day,
        resources=local_resources(data_dir),
        instance=instance,
    )


def _landing_files(uc: UseCaseConfig, data_dir: Path, day: str = DAY) -> pl.DataFrame:
    house = LocalLakehouse(data_dir)
    ref = landing_files_ref(uc, uc.datasets[0])
    return house.read_table(ref, [day]).collect().to_polars().sort("file")


def test_a_mixed_folder_is_accounted_for_everywhere(
    shop: UseCaseConfig, data_dir: Path, dagster_instance: dg.DagsterInstance
) -> None:
    folder = _folder(data_dir)
    plain, upper = _csv(4), _csv(3, first=10)
    gzipped = _csv(5, first=20)
    (folder / "plain.csv").write_text(plain)
    (folder / "EXPORT.CSV").write_text(upper)
    (folder / "gzipped.csv").write_bytes(gzip.compress(gzipped.encode()))
    text = pl.DataFrame({"order_id": ["p1", "p2"], "amount": ["1", "2"], "status": ["a", "b"]})
    # what `mlops-assets simulate --format parquet` writes: text columns, zstd
    text.write_parquet(folder / "from_simulator.parquet", compression="zstd", statistics=False)
    (folder / "semicolon.csv").write_text(_csv(3, first=30, sep=";"))
    (folder / "no_amount.csv").write_text("order_id,status\nm1,open\nm2,shut\n")
    (folder / "garbage.csv").write_bytes(bytes(range(256)) * 4)
    (folder / "notes.txt").write_text("call the supplier")
    for name in ("_tmp.csv", ".hidden.csv", "upload.csv.tmp"):
        (folder / name).write_text(plain)

    result = _bronze(shop, data_dir, dagster_instance)
    assert result.success

    expected_rows = _csv_rows(plain) + _csv_rows(upper) + _csv_rows(gzipped) + text.height + 2
    bronze = table(data_dir, BRONZE, DAY)
    assert bronze.height == expected_rows
    assert not [c for c in bronze.columns if ";" in c]

    # the queryable record: one row per entry of the folder, none left out
    files = _landing_files(shop, data_dir)
    on_disk = sorted(f"shop/orders/{DAY}/{p.name}" for p in folder.iterdir())
    assert files["file"].to_list() == on_disk
    status = dict(zip(files["file"].str.split("/").list.last(), files["status"], strict=True))
    assert status == {
        "plain.csv": "ingested",
        "EXPORT.CSV": "ingested",
        "gzipped.csv": "ingested",
        "from_simulator.parquet": "ingested",
        "no_amount.csv": "ingested",
        "semicolon.csv": "rejected",
        "garbage.csv": "rejected",
        "notes.txt": "rejected",
        "_tmp.csv": "skipped",
        ".hidden.csv": "skipped",
        "upload.csv.tmp": "skipped",
    }
    ingested = files.filter(pl.col("status") == "ingested")
    assert ingested["rows"].sum() == bronze.height
    assert (files.filter(pl.col("status") != "ingested")["reason"].str.len_chars() > 0).all()
    assert files["_batch_id"].unique().to_list() == [result.run_id]
    semicolon = files.filter(pl.col("file").str.ends_with("semicolon.csv"))["reason"][0]
    assert "this file looks `;`-separated" in semicolon

    # the materialization tells the same story
    meta = materializations(result)[BRONZE].metadata
    assert meta["file_count"].value == 5
    assert meta["rejected_files"].value == 3
    assert meta["skipped_files"].value == 3
    assert meta["dagster/row_count"].value == expected_rows
    table_md = str(meta["files"].value)
    assert all(name.rsplit("/", 1)[-1] in table_md for name in on_disk)
    assert "wrong delimiter?" in table_md

    # and the checks fail (as warnings: the good files of the day still flow)
    checks = checks_by_name(result, BRONZE)
    assert not checks[FILES_CHECK].passed
    assert checks[FILES_CHECK].severity == dg.AssetCheckSeverity.WARN
    assert checks[FILES_CHECK].metadata["rejected_files"].value == 3
    assert not checks[COLUMNS_CHECK].passed
    assert checks[COLUMNS_CHECK].metadata["files_lacking_columns"].value == 1
    assert "amount" in str(checks[COLUMNS_CHECK].metadata["files"].value)


def test_a_clean_day_passes_and_a_rerun_replaces_the_days_record(
    shop: UseCaseConfig, data_dir: Path, dagster_instance: dg.DagsterInstance
) -> None:
    folder = _folder(data_dir)
    (folder / "a.csv").write_text(_csv(3))
    (folder / "b.CSV").write_text("order_id;amount;status\nx;1;open\n")
    first = _bronze(shop, data_dir, dagster_instance)
    assert not checks_by_name(first, BRONZE)[FILES_CHECK].passed
    assert len(_landing_files(shop, data_dir)) == 2

    (folder / "b.CSV").write_text(_csv(2, first=5))  # the sender fixed the file
    again = _bronze(shop, data_dir, dagster_instance)
    checks = checks_by_name(again, BRONZE)
    assert checks[FILES_CHECK].passed and checks[COLUMNS_CHECK].passed
    files = _landing_files(shop, data_dir)
    assert files.select("status", "rows", "_batch_id").rows() == [
        ("ingested", 3, again.run_id),
        ("ingested", 2, again.run_id),
    ]
    assert table(data_dir, BRONZE, DAY).height == 5


def test_an_empty_day_writes_an_empty_record(
    shop: UseCaseConfig, data_dir: Path, dagster_instance: dg.DagsterInstance
) -> None:
    result = _bronze(shop, data_dir, dagster_instance)
    assert result.success
    assert _landing_files(shop, data_dir).height == 0
    assert all(e.passed for e in checks_by_name(result, BRONZE).values())


def test_a_wrong_delimiter_never_widens_bronze_or_quarantine(
    shop: UseCaseConfig, data_dir: Path, dagster_instance: dg.DagsterInstance
) -> None:
    day1, day2 = "2026-01-01", "2026-01-02"
    (_folder(data_dir, day1) / "orders.csv").write_text(_csv(4))
    assert materialize_day(shop, data_dir, day1, dagster_instance).success
    folder = _folder(data_dir, day2)
    (folder / "orders.csv").write_text(_csv(3, first=10))
    (folder / "export.csv").write_text(_csv(3, first=20, sep=";"))
    result = materialize_day(shop, data_dir, day2, dagster_instance)
    assert result.success
    widened = [
        (key, c)
        for key in (BRONZE, "shop/silver/orders", "shop/silver/orders_quarantine")
        for c in table(data_dir, key).columns
        if not (c.isidentifier() and len(c) <= 128)
    ]
    assert widened == []
    silver = table(data_dir, "shop/silver/orders", day2)
    quarantine = table(data_dir, "shop/silver/orders_quarantine", day2)
    assert silver.height + quarantine.height == table(data_dir, BRONZE, day2).height == 3


def test_the_landing_sensor_sees_what_bronze_accounts_for(
    shop: UseCaseConfig, data_dir: Path, dagster_instance: dg.DagsterInstance
) -> None:
    sensor = build_landing_sensor(shop, ingestion_job(shop))
    resources = {"lakehouse": LakehouseResource(data_dir=str(data_dir))}

    def tick(cursor: str | None) -> dg.SensorResult | dg.SkipReason:
        context = dg.build_sensor_context(
            cursor=cursor, instance=dagster_instance, resources=resources
        )
        result = sensor(context)
        assert isinstance(result, dg.SensorResult | dg.SkipReason)
        return result

    folder = _folder(data_dir)
    (folder / ".EXPORT.CSV.123.tmp").write_text(_csv(2))  # still being written: no run yet
    assert isinstance(tick(None), dg.SkipReason)
    (folder / ".EXPORT.CSV.123.tmp").rename(folder / "EXPORT.CSV")  # upper-case: a run
    first = tick(None)
    assert isinstance(first, dg.SensorResult) and first.cursor is not None
    assert [r.partition_key for r in first.run_requests or []] == [DAY]
    pl.DataFrame({"order_id": ["p1"]}).write_parquet(folder / "late.parquet")
    second = tick(first.cursor)  # Parquet in a CSV dataset: bronze reads it, so a new run
    assert isinstance(second, dg.SensorResult) and second.cursor is not None
    assert [r.partition_key for r in second.run_requests or []] == [DAY]
    assert json.loads(second.cursor)[DAY] != json.loads(first.cursor)[DAY]
