"""Feature-table assets: entity + timestamp + features, one daily partition at a time."""

from typing import cast

import dagster as dg
import narwhals as nw

from mlops_assets.assets.features.run_config import FeatureRunConfigBase, feature_run_config
from mlops_assets.assets.keys import daily_partitions, group, key, table_key
from mlops_assets.assets.run_config import run_config_metadata
from mlops_assets.config.tables import FeatureTableConfig
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.engines.frames import LazyFrame, persist
from mlops_assets.resources.metadata import markdown_table
from mlops_assets.transforms.features import compute_features


def build_feature_asset(uc: UseCaseConfig, table: FeatureTableConfig) -> dg.AssetsDefinition:
    """A feature table; window features read ``lookback_days`` earlier partitions of the source."""
    mapping = dg.TimeWindowPartitionMapping(start_offset=-table.lookback_days, end_offset=0)
    run_config_cls = feature_run_config(table)
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
    def _features(
        context: dg.AssetExecutionContext,
        config: run_config_cls,  # type: ignore[valid-type]  # built per feature table
        source: LazyFrame,
    ) -> LazyFrame:
        run_config = cast(FeatureRunConfigBase, config)
        window, run_table = context.partition_time_window, run_config.table(table)
        end = run_config.end(window.end)
        out = persist(compute_features(source, run_table, start=window.start, end=end))
        stats = out.select(
            *[nw.col(f.name).null_count().alias(f.name) for f in table.features],
            nw.col(table.entity_key).n_unique().alias("_entities"),
        ).collect()
        context.add_output_metadata(
            {
                "features": markdown_table(
                    ["feature", "dtype", "nulls", "description"],
                    [(f.name, f.dtype, stats[f.name][0], f.description) for f in table.features],
                ),
                "entities": int(stats["_entities"][0]),
                **run_config_metadata(run_config),
            }
        )
        return out

    return _features
