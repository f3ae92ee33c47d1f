"""Gold: business tables declared in YAML (aggregates, latest-per-key, joins), per day."""

from typing import cast

import dagster as dg

from mlops_assets.assets.keys import daily_partitions, group, key, table_key
from mlops_assets.assets.medallion.run_config import (
    GoldRunConfigBase,
    gold_event_times,
    gold_run_config,
)
from mlops_assets.assets.run_config import run_config_metadata
from mlops_assets.config.tables import GoldTable, JoinTable
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.engines.frames import LazyFrame


def _sources(table: GoldTable) -> list[str]:
    return [table.left, table.right] if isinstance(table, JoinTable) else [table.source]


def build_gold_asset(uc: UseCaseConfig, table: GoldTable) -> dg.AssetsDefinition:
    """One gold asset; its inputs are the silver/gold tables it names, same partition."""
    sources = _sources(table)
    ins = {ref.replace(".", "__"): dg.AssetIn(key=table_key(uc.name, ref)) for ref in sources}
    run_config_cls, event_times = gold_run_config(uc, table), gold_event_times(uc, table)

    @dg.asset(
        key=key(uc.name, "gold", table.name),
        ins=ins,
        group_name=group(uc.name, "gold"),
        partitions_def=daily_partitions(uc),
        io_manager_key="lakehouse_io",
        kinds={"delta", "polars"},
        owners=uc.owners or None,
        description=f"{table.description}\n\n`{table.type}` of {', '.join(sources)}.",
    )
    def _gold(
        context: dg.AssetExecutionContext,
        config: run_config_cls,  # type: ignore[valid-type]  # built per table
        **inputs: LazyFrame,
    ) -> LazyFrame:
        from mlops_assets.transforms.gold import build_gold  # the engine loads with the step

        run_config = cast(GoldRunConfigBase, config)
        frames = run_config.cut(
            {ref: inputs[ref.replace(".", "__")] for ref in sources}, event_times
        )
        context.add_output_metadata(run_config_metadata(run_config))
        return build_gold(table, frames)

    return _gold
