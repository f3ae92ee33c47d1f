"""Feature-table assets: entity + timestamp + features, one daily partition at a time."""

import dagster as dg
import narwhals as nw
import polars as pl

from mlops_assets.assets.keys import daily_partitions, group, key, table_key
from mlops_assets.config.tables import FeatureTableConfig
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.resources.metadata import markdown_table
from mlops_assets.transforms.features import compute_features


def build_feature_asset(uc: UseCaseConfig, table: FeatureTableConfig) -> dg.AssetsDefinition:
    """A feature table; window features read ``lookback_days`` earlier partitions of the source."""
    mapping = dg.TimeWindowPartitionMapping(start_offset=-table.lookback_days, end_offset=0)
    docs = "\n".join(
        f"| `{f.name}` | {f.dtype} | {f.type} | {f.description} |" for f in table.features
    )

    @dg.asset(
        key=key(uc.name, "features", table.name),
        ins={"source": dg.AssetIn(key=table_key(uc.name, table.source), partition_mapping=mapping)},
        group_name=group(uc.name, "features"),
        partitions_def=daily_partitions(uc),
        io_manager_key="lakehouse_io",
        kinds={"delta", "polars"},
        owners=uc.owners or None,
        description=f"{table.description}\n\nKeyed by `{table.entity_key}` at "
        f"`{table.timestamp}`.\n\n| feature | dtype | kind | description |\n|---|---|---|---|\n"
        + docs,
        metadata={
            "entity_key": table.entity_key,
            "timestamp": table.timestamp,
            "lookback_days": table.lookback_days,
        },
    )
    def _features(context: dg.AssetExecutionContext, source: pl.DataFrame) -> pl.DataFrame:
        window = context.partition_time_window
        out: pl.DataFrame = (
            compute_features(
                nw.from_native(source).lazy(), table, start=window.start, end=window.end
            )
            .collect()
            .to_native()
        )
        stats = out.select([pl.col(f.name).null_count().alias(f.name) for f in table.features]).row(
            0
        )
        context.add_output_metadata(
            {
                "features": markdown_table(
                    ["feature", "dtype", "nulls", "description"],
                    [
                        (f.name, f.dtype, nulls, f.description)
                        for f, nulls in zip(table.features, stats, strict=True)
                    ],
                ),
                "entities": out[table.entity_key].n_unique(),
            }
        )
        return out

    return _features
