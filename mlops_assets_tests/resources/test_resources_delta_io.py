"""The lakehouse IO manager's materialization metadata, through real runs into real Delta tables:
row counts where they mean something, none for a table of one summary row per partition."""

from pathlib import Path

import dagster as dg
import polars as pl

from mlops_assets.resources.io_managers.delta import ONE_ROW_PER_PARTITION_TAG, LakehouseIOManager
from mlops_assets.resources.lakehouse import LakehouseResource
from mlops_assets.storage.lakehouse import LocalLakehouse, TableRef

DAYS = dg.DailyPartitionsDefinition(start_date="2026-01-01", end_date="2026-01-03")


@dg.asset(key=["uc", "silver", "events"], partitions_def=DAYS, io_manager_key="lakehouse_io")
def events(context: dg.AssetExecutionContext) -> pl.DataFrame:
    day = context.partition_key
    return pl.DataFrame({"day": [day] * 3, "value": [1, 2, 3]})


@dg.asset(
    key=["uc", "monitoring", "summary"],
    partitions_def=DAYS,
    io_manager_key="lakehouse_io",
    metadata={ONE_ROW_PER_PARTITION_TAG: True},
)
def summary(context: dg.AssetExecutionContext) -> pl.DataFrame:
    return pl.DataFrame({"window": [context.partition_key], "share": [0.25]})


def _materialized(data_dir: Path, day: str) -> dict[str, dict[str, dg.MetadataValue]]:
    io = LakehouseIOManager(lakehouse=LakehouseResource(data_dir=str(data_dir)))
    result = dg.materialize([events, summary], resources={"lakehouse_io": io}, partition_key=day)
    assert result.success
    return {
        e.materialization.asset_key.path[-1]: dict(e.materialization.metadata)
        for e in result.get_asset_materialization_events()
    }


def test_row_counts_only_where_they_mean_something(tmp_path: Path) -> None:
    house = LocalLakehouse(tmp_path)
    for expected_version, day in enumerate(["2026-01-01", "2026-01-02"]):
        meta = _materialized(tmp_path, day)
        table = meta["events"]
        assert table["dagster/row_count"] == dg.IntMetadataValue(3)
        assert table["table_version"] == dg.IntMetadataValue(expected_version)
        one_row = meta["summary"]
        assert "dagster/row_count" not in one_row  # always 1: a plot that says nothing
        # the version is still there to trace the commit, as text (not plotted)
        assert one_row["table_version"] == dg.TextMetadataValue(str(expected_version))
        assert not any(
            isinstance(v, dg.IntMetadataValue | dg.FloatMetadataValue) for v in one_row.values()
        )
        assert isinstance(one_row["dagster/column_schema"], dg.TableSchemaMetadataValue)
    stored = house.read_table(TableRef(use_case="uc", layer="monitoring", name="summary"))
    assert stored.collect().to_native().sort("window")["window"].to_list() == [
        "2026-01-01",
        "2026-01-02",
    ]
