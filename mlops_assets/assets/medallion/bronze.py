"""Bronze: raw landing files, append-only per daily partition, with ingestion metadata."""

from datetime import UTC, datetime

import dagster as dg
import narwhals as nw

from mlops_assets.assets.keys import asset_key, daily_partitions, group, tables
from mlops_assets.config.datasets import DatasetConfig
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.engines.frames import DataFrame
from mlops_assets.resources.io_managers.delta import SCHEMA_EVOLUTION_TAG
from mlops_assets.resources.lakehouse import LakehouseResource
from mlops_assets.resources.metadata import counts_table
from mlops_assets.storage.landing import read_landing


def build_bronze_asset(uc: UseCaseConfig, ds: DatasetConfig) -> dg.AssetsDefinition:
    """One bronze asset per dataset: every row of every landing file of the day, as it came."""

    @dg.asset(
        key=asset_key(tables(uc).bronze(ds.name)),
        group_name=group(uc.name, "bronze"),
        partitions_def=daily_partitions(uc),
        io_manager_key="lakehouse_io",
        kinds={"delta", "polars"},
        owners=uc.owners or None,
        description=f"Raw `{ds.name}` landing files ({ds.source.format}), one partition per "
        f"day, with `_ingested_at`, `_source_file`, `_row_number`, `_batch_id` and "
        f"`_missing_fields` (a CSV cut mid-row). {ds.description}",
        metadata={SCHEMA_EVOLUTION_TAG: ds.schema_evolution, "landing_subdir": ds.landing_subdir},
    )
    def _bronze(context: dg.AssetExecutionContext, lakehouse: LakehouseResource) -> DataFrame:
        house, partition = lakehouse.get(), context.partition_key
        folder = house.landing_dir(uc.name, ds.landing_subdir) / partition
        batch = read_landing(
            folder,
            house.landing_root(),
            ds.source.format,
            batch_id=context.run_id,
            ingested_at=datetime.now(UTC),
            delimiter=ds.source.delimiter,
        )
        if not batch.files:
            context.log.warning(
                f"no {ds.source.format} landing files for {ds.name} on {partition} in {folder}; "
                "the partition is empty (late data re-runs it through the landing sensor)"
            )
        if batch.empty_files:
            context.log.warning(f"empty landing files (0 rows): {batch.empty_files}")
        context.add_output_metadata(
            {
                "files": counts_table(batch.rows_per_file, "file", "rows"),
                "file_count": len(batch.files),
                "empty_files": len(batch.empty_files),
            }
        )
        return nw.from_native(batch.frame)

    return _bronze
