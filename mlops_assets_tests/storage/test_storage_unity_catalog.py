"""The Unity Catalog lakehouse against a real Spark Connect server with Delta Lake (Sail).

Each test owns a use case (``prefix_use_case=True``), so the tests share one server and schema
without seeing each other's tables. Tables are compared with the local (delta-rs + Polars)
lakehouse row for row: strings, integers, dates and timestamps exactly, floats within 1e-12
relative (both store the same IEEE doubles in Parquet; the tolerance only forgives a sum order).
"""

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import narwhals as nw
import polars as pl
import pytest

from mlops_assets.config.datasets import DatasetConfig
from mlops_assets.config.project import load_project
from mlops_assets.engines.frames import persist, row_count, to_polars
from mlops_assets.engines.spark import to_spark
from mlops_assets.errors import SchemaMismatchError, StorageError
from mlops_assets.storage.lakehouse import LocalLakehouse, TableRef
from mlops_assets.storage.unity_catalog import UnityCatalogLakehouse
from mlops_assets.transforms.audit import audit_partition
from mlops_assets.transforms.audit_report import AuditReport
from mlops_assets.transforms.quality import count_failures, refine
from mlops_assets_tests.conftest import CONFIGS_DIR
from mlops_assets_tests.engines.engines_helpers import assert_same_rows
from mlops_assets_tests.engines.sail_server import SailServer, missing_reason, sail_executable

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DAY1, DAY2, DAY3 = "2026-01-01", "2026-01-02", "2026-01-03"
FLOAT_REL_TOL = 1e-12
spark = pytest.mark.spark


# -- fixtures ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def uc_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SailServer]:
    """One Sail server for the module, from the pinned environment (``make sail``)."""
    if sail_executable() is None:
        pytest.skip(missing_reason())
    with SailServer(tmp_path_factory.mktemp("sail")) as server:
        yield server


@pytest.fixture(scope="module")
def uc_spark(uc_server: SailServer) -> Iterator["SparkSession"]:
    """The project's pyspark 4.3 client connected to it."""
    from mlops_assets.engines.spark import connect_remote, stop_spark

    session = connect_remote(
        uc_server.url, conf={"spark.sql.warehouse.dir": str(uc_server.warehouse)}
    )
    yield session
    stop_spark(session)  # the process may start classic sessions again


@pytest.fixture
def uc_house(
    uc_spark: "SparkSession", tmp_path: Path, request: pytest.FixtureRequest
) -> UnityCatalogLakehouse:
    """A lakehouse on catalog ``main``, schema ``mlops``, with this test's own use case."""
    return UnityCatalogLakehouse(
        "main",
        "mlops",
        lambda: uc_spark,
        volume_root=tmp_path / "Volumes",
        scratch_dir=tmp_path / "scratch",
        prefix_use_case=True,
    )


@pytest.fixture
def uc_ref(request: pytest.FixtureRequest) -> TableRef:
    use_case = "t_" + re.sub(r"[^A-Za-z0-9]", "_", request.node.name)[:40].lower()
    return TableRef(use_case=use_case, layer="silver", name="customers")


def _frame(ids: list[int], note: str = "x") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "id": ids,
            "amount": [i * 1.5 + 0.1 for i in ids],
            "note": [f"{note}{i} é 🙂" for i in ids],
            "ts": [datetime(2026, 1, 1, i % 24, 0, 0, i, tzinfo=UTC) for i in ids],
            "day": [date(2026, 1, 1) + timedelta(days=i) for i in ids],
            "flag": [i % 2 == 0 for i in ids],
            "small": pl.Series([i % 7 for i in ids], dtype=pl.UInt8),
        }
    )


def _nw(frame: pl.DataFrame) -> nw.DataFrame[Any]:
    """A Polars frame as the narwhals frame assets hand to the lakehouse."""
    return nw.from_native(frame)


def _rows(house: UnityCatalogLakehouse | LocalLakehouse, location: str, **kw: Any) -> pl.DataFrame:
    return to_polars(house.scan(location, **kw))


# -- names (no Spark) -------------------------------------------------------------------------
def test_names_are_three_part_and_checked(tmp_path: Path) -> None:
    def no_session() -> "SparkSession":
        raise AssertionError("naming must not need a Spark session")

    house = UnityCatalogLakehouse("main", "churn", no_session, volume_root=tmp_path / "V")
    ref = TableRef(use_case="churn", layer="silver", name="customers")
    assert house.table_location(ref) == "main.churn.silver_customers"
    run = "5f1c2b9e-0d7a-4c1e-9a55-1b2c3d4e5f60"
    assert house.staging_location(ref, DAY1, run) == (
        "main.churn.__staging_silver_customers_2026_01_01_5f1c2b9e_0d7a_4c1e_9a55_1b2c3d4e5f60"
    )
    assert house.staging_location(ref, None, "r1").endswith("__staging_silver_customers_all_r1")
    assert (
        house.landing_dir("churn", "customers") == tmp_path / "V/main/churn/landing/churn/customers"
    )
    assert house.state_path(TableRef(use_case="churn", layer="models", name="champion")) == (
        tmp_path / "V/main/churn/mlops/state/churn/models/champion.json"
    )
    assert house.reports_dir("churn") == tmp_path / "V/main/churn/mlops/reports/churn"
    shared = UnityCatalogLakehouse("main", "shared", no_session, prefix_use_case=True)
    assert shared.table_location(ref) == "main.shared.churn__silver_customers"
    for bad in ("../x", "a b", "a\nb", "a.b", "", "`x`"):
        with pytest.raises(StorageError):
            house.table_location(TableRef(use_case="churn", layer="silver", name=bad))
        with pytest.raises(StorageError):
            UnityCatalogLakehouse(bad, "s", no_session)
    with pytest.raises(StorageError):
        house.staging_location(ref, "2026/01/01", run)
    with pytest.raises(StorageError):
        house.scan("main.churn.x; DROP TABLE y")
    with pytest.raises(StorageError):
        house.landing_dir("..", "customers")


# -- partitions, versions, parity -------------------------------------------------------------
@spark
def test_partition_overwrite_is_idempotent(
    uc_house: UnityCatalogLakehouse, uc_ref: TableRef
) -> None:
    location = uc_house.table_location(uc_ref)
    assert not uc_house.exists(location) and uc_house.version(location) is None
    first = uc_house.write(location, _nw(_frame([1, 2, 3])), partitions=[DAY1])
    uc_house.write(location, _nw(_frame([4, 5])), partitions=[DAY2])
    before = _rows(uc_house, location)
    versions = [first.version]
    for _ in range(2):  # the same partition again, twice
        result = uc_house.write(
            location,
            _nw(_frame([4, 5])),
            partitions=[DAY2],
            commit_metadata={"dagster_run_id": "r"},
        )
        versions.append(result.version)
        assert result.rows_written == 2 and result.partitions == [DAY2]
        assert_same_rows(before, _rows(uc_house, location), rel_tol=FLOAT_REL_TOL)
    assert versions == [0, 2, 3]  # one commit per write, read from the Delta log
    assert uc_house.version(location) == 3
    assert uc_house.history_unavailable is not None  # Sail has no DESCRIBE HISTORY
    assert_same_rows(
        _frame([1, 2, 3]).with_columns(pl.col("small").cast(pl.Int64)),
        _rows(uc_house, location, partitions=[DAY1]),
    )
    assert location in uc_house.use_case_locations(uc_ref.use_case)


@spark
def test_polars_and_spark_lakehouses_store_the_same_tables(
    uc_house: UnityCatalogLakehouse, uc_ref: TableRef, tmp_path: Path, uc_spark: "SparkSession"
) -> None:
    local = LocalLakehouse(tmp_path / "local")
    special = pl.DataFrame(
        {
            "id": [90, 91, 92],
            "amount": [float("nan"), float("-inf"), None],
            "note": ["", None, "\u00a0\t"],
            "ts": [datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), None, None],
            "day": [date(1, 1, 1), date(9999, 12, 31), None],
            "flag": [None, True, False],
            "small": pl.Series([0, 255, None], dtype=pl.UInt8),
        }
    )
    writes: list[tuple[pl.DataFrame, list[str] | None]] = [
        (_frame(list(range(1, 40))), [DAY1]),
        (pl.concat([_frame([50, 51]), special]), [DAY2]),
        (_frame(list(range(60, 70)), note="again"), [DAY1]),  # replaces DAY1
        (_frame([80]).with_columns(extra=pl.lit(1.25)), [DAY3]),  # adds a column
    ]
    for frame, partitions in writes:
        for house in (local, uc_house):
            house.write(house.table_location(uc_ref), _nw(frame), partitions=partitions)
    expected = _rows(local, local.table_location(uc_ref))
    got = _rows(uc_house, uc_house.table_location(uc_ref))
    assert expected.height == 10 + 5 + 1
    assert_same_rows(expected, got, rel_tol=FLOAT_REL_TOL)
    # A Spark frame (the silver publish path: scan -> write) stores the same rows too.
    copy = TableRef(use_case=uc_ref.use_case, layer="gold", name="copy")
    uc_house.write(uc_house.table_location(copy), uc_house.read_table(uc_ref), partitions=[DAY1])
    assert_same_rows(expected, _rows(uc_house, uc_house.table_location(copy)))
    # ... and one built on the cluster from Arrow.
    native = TableRef(use_case=uc_ref.use_case, layer="gold", name="native")
    result = uc_house.write(
        uc_house.table_location(native), nw.from_native(to_spark(expected, uc_spark))
    )
    assert result.rows_written == expected.height  # counted on the committed table
    assert_same_rows(expected, _rows(uc_house, uc_house.table_location(native)))


# -- schema policy ------------------------------------------------------------------------------
@spark
def test_schema_mismatch_is_refused_before_the_commit(
    uc_house: UnityCatalogLakehouse, uc_ref: TableRef
) -> None:
    location = uc_house.table_location(uc_ref)
    uc_house.write(location, _nw(_frame([1, 2])), partitions=[DAY1])
    version, rows = uc_house.version(location), _rows(uc_house, location)
    assert version is not None
    retyped = _frame([3]).with_columns(pl.col("amount").cast(pl.String))
    with pytest.raises(SchemaMismatchError, match="amount: table has double, data has string"):
        uc_house.write(location, _nw(retyped), partitions=[DAY2])
    widened = _frame([3]).with_columns(extra=pl.lit("new"))
    with pytest.raises(SchemaMismatchError, match="schema_evolution is 'fail'") as info:
        uc_house.write(location, _nw(widened), partitions=[DAY2], schema_evolution="fail")
    assert info.value.fix is not None and "add_columns" in info.value.fix
    assert uc_house.version(location) == version  # nothing was committed
    assert_same_rows(rows, _rows(uc_house, location))
    added = uc_house.write(location, _nw(widened), partitions=[DAY2])
    assert added.added_columns == ["extra"]
    assert added.version == version + 2  # the schema commit, then the data
    table = _rows(uc_house, location)
    assert table.columns[-1] == "extra"
    assert table.filter(pl.col("id") == 3)["extra"].to_list() == ["new"]
    assert table.filter(pl.col("id") < 3)["extra"].null_count() == 2
    # A partition that lacks a column of the table gets nulls in it, as locally.
    uc_house.write(location, _nw(_frame([4])), partitions=[DAY3])
    assert _rows(uc_house, location, partitions=[DAY3])["extra"].to_list() == [None]


# -- merge --------------------------------------------------------------------------------------
@spark
def test_merge_updates_matches_and_inserts_the_rest(
    uc_house: UnityCatalogLakehouse, uc_ref: TableRef
) -> None:
    location = uc_house.table_location(uc_ref)
    created = uc_house.merge(location, _nw(_frame([1, 2, 3])), ["id"])  # creates the table
    assert created.version == 0 and created.rows_written == 3
    upsert = _frame([2, 3, 4], note="new")
    result = uc_house.merge(location, _nw(upsert), ["id"], commit_metadata={"dagster_run_id": "m"})
    assert result.rows_written == 3 and result.version == 1
    expected = pl.concat([_frame([1]), upsert]).with_columns(pl.col("small").cast(pl.Int64))
    assert_same_rows(expected, _rows(uc_house, location), rel_tol=FLOAT_REL_TOL)
    again = uc_house.merge(location, _nw(upsert), ["id"])  # idempotent
    assert again.version == 2
    assert_same_rows(expected, _rows(uc_house, location), rel_tol=FLOAT_REL_TOL)
    with pytest.raises(SchemaMismatchError, match="lacks columns"):
        uc_house.merge(location, _nw(upsert.drop("note")), ["id"])
    with pytest.raises(SchemaMismatchError, match="schema_evolution is 'fail'"):
        uc_house.merge(
            location, _nw(upsert.with_columns(z=pl.lit(1))), ["id"], schema_evolution="fail"
        )
    with pytest.raises(StorageError, match="merge into"):
        uc_house.merge(location, _nw(pl.concat([upsert, upsert])), ["id"])  # duplicate source keys
    assert uc_house.version(location) == 2
    assert_same_rows(expected, _rows(uc_house, location), rel_tol=FLOAT_REL_TOL)


# -- write-audit-publish -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def uc_customers(tmp_path_factory: pytest.TempPathFactory) -> tuple[DatasetConfig, pl.DataFrame]:
    """The real churn ``customers`` dataset config and one simulated bronze day."""
    from mlops_assets.simulate import SimulationConfig, simulate
    from mlops_assets.storage.landing import read_landing

    root = tmp_path_factory.mktemp("uc_landing")
    simulate(SimulationConfig(days=1, rows_per_day=60, seed=5, bad_row_rate=0.0), root)
    landing = root / "landing"
    folder = next((landing / "churn" / "customers").iterdir())
    batch = read_landing(
        folder, landing, "csv", batch_id="b1", ingested_at=datetime(2026, 1, 2, tzinfo=UTC)
    )
    environ = {"MLOPS_DATA_DIR": "/nonexistent", "MLOPS_ENV": "local"}
    churn = load_project(CONFIGS_DIR, environ=environ).use_case("churn")
    dataset = next(d for d in churn.datasets if d.name == "customers")
    return dataset, batch.frame


def _write_audit_publish(
    house: UnityCatalogLakehouse,
    ref: TableRef,
    dataset: DatasetConfig,
    bronze: pl.DataFrame,
    day: str,
    run_id: str,
) -> AuditReport:
    """The silver asset's sequence: refine, stage, audit the staged table, publish if allowed."""
    lazy_bronze = nw.from_native(bronze).lazy()
    split = refine(lazy_bronze, dataset)
    quarantine = persist(split.quarantine)
    staging = house.staging_location(ref, day, run_id)
    house.write(staging, split.silver)
    staged = house.scan(staging)
    report = audit_partition(
        dataset,
        counts=count_failures(split, dataset),
        staged=staged.collect(),
        quarantine=quarantine.collect(),
        bronze_rows=row_count(lazy_bronze),
        raw_columns=len([c for c in bronze.columns if c[0] != "_"]),
        missing_columns=split.missing_columns,
        as_of=datetime.fromisoformat(day).replace(tzinfo=UTC) + timedelta(days=1),
    )
    if report.publishable:
        house.write(house.table_location(ref), staged, partitions=[day])
    house.remove(staging)
    assert not house.exists(staging)
    return report


@spark
def test_refused_write_audit_publish_leaves_the_published_table_unchanged(
    uc_house: UnityCatalogLakehouse,
    uc_ref: TableRef,
    uc_customers: tuple[DatasetConfig, pl.DataFrame],
) -> None:
    dataset, bronze = uc_customers
    location = uc_house.table_location(uc_ref)
    good = _write_audit_publish(uc_house, uc_ref, dataset, bronze, DAY1, "run-1")
    assert good.publishable and good.silver_rows > 0
    version, published = uc_house.version(location), _rows(uc_house, location)
    assert published.height == good.silver_rows
    # Half the customer ids lost: the blocking not_null rule (at most 5%) refuses the batch.
    broken = bronze.with_columns(
        pl.when(pl.int_range(pl.len()) % 2 == 0)
        .then(None)
        .otherwise(pl.col("customer_id"))
        .alias("customer_id")
    )
    refused = _write_audit_publish(uc_house, uc_ref, dataset, broken, DAY2, "run-2")
    assert not refused.publishable
    assert "not_null" in refused.blocking_summary()
    assert uc_house.version(location) == version
    assert_same_rows(published, _rows(uc_house, location), rel_tol=FLOAT_REL_TOL)
    assert _rows(uc_house, location, partitions=[DAY2]).height == 0
    assert [t for t in uc_house.use_case_locations(uc_ref.use_case) if "__staging_" in t] == []


@spark
def test_missing_table_is_a_storage_error_with_a_fix(
    uc_house: UnityCatalogLakehouse, uc_ref: TableRef
) -> None:
    with pytest.raises(StorageError) as info:
        uc_house.read_table(uc_ref)
    assert info.value.fix is not None and "materialize" in info.value.fix
    uc_house.remove(uc_house.table_location(uc_ref))  # dropping nothing is fine
