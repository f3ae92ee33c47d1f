"""Feature-table assets: entity + timestamp + features, one daily partition at a time.

Where a partition is computed is the environment's ``feature_compute`` resource (in process, or a
Databricks job through Pipes that writes the partition itself); the computation is
:func:`mlops_assets.transforms.feature_partition.feature_partition` either way.
"""

from typing import Any, cast

import dagster as dg

from mlops_assets.assets.features.run_config import FeatureRunConfigBase, feature_run_config
from mlops_assets.assets.keys import daily_partitions, group, key, table_key
from mlops_assets.assets.run_config import run_config_metadata
from mlops_assets.config.tables import FeatureTableConfig
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.engines.frames import LazyFrame
from mlops_assets.resources.feature_compute import FeatureComputeResource
from mlops_assets.resources.metadata import markdown_table
from mlops_assets.storage.lakehouse import TableRef


def build_feature_asset(uc: UseCaseConfig, table: FeatureTableConfig) -> dg.AssetsDefinition:
    """A feature table; window features read ``lookback_days`` earlier partitions of the source."""
    mapping = dg.TimeWindowPartitionMapping(start_offset=-table.lookback_days, end_offset=0)
    run_config_cls = feature_run_config(table)
    source_ref = TableRef.from_path(table_key(uc.name, table.source).path)
    target_ref = TableRef.from_path(key(uc.name, "features", table.name).path)
    docs = "\n".join(
        f"| `{f.name}` | {f.dtype} | {f.type} | {f.description} |" for f in table.features
    )

    @dg.asset(
        key=key(uc.name, "features", table.name),
        ins={"source": dg.AssetIn(key=table_key(uc.name, table.source), partition_mapping=mapping)},
        group_name=group(uc.name, "features"),
        partitions_def=daily_partitions(uc),
        io_manager_key="lakehouse_io",  # writes nothing when the job wrote the partition
        dagster_type=dg.Any,  # a narwhals frame, or None (see FeatureOutput)
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
        feature_compute: FeatureComputeResource,
        source: LazyFrame,
    ) -> dg.Output[Any]:  # the features, or None when a job wrote them (nothing to write)
        from mlops_assets.transforms.feature_partition import FeatureSpec

        run_config = cast(FeatureRunConfigBase, config)
        window, run_table = context.partition_time_window, run_config.table(table)
        spec = FeatureSpec(table=run_table, start=window.start, end=run_config.end(window.end))
        computed = feature_compute.compute(context, spec, source, source_ref, target_ref)
        nulls = computed.summary.nulls
        # an Output, not the bare value: after a Pipes session Dagster wants typed events
        return dg.Output(
            computed.features,
            metadata={
                **computed.metadata,
                "features": markdown_table(
                    ["feature", "dtype", "nulls", "description"],
                    [(f.name, f.dtype, nulls[f.name], f.description) for f in table.features],
                ),
                "entities": computed.summary.entities,
                **run_config_metadata(run_config),
            },
        )

    return _features
