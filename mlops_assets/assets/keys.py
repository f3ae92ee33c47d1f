"""Asset keys and groups: ``[use_case, layer, name]`` mirrors the storage namespace."""

import dagster as dg

from mlops_assets.config.use_case import UseCaseConfig


def key(use_case: str, layer: str, name: str) -> dg.AssetKey:
    return dg.AssetKey([use_case, layer, name])


def group(use_case: str, stage: str) -> str:
    return f"{use_case}_{stage}"


def table_key(use_case: str, ref: str) -> dg.AssetKey:
    """``silver.customers`` -> ``[use_case, silver, customers]``."""
    layer, name = ref.split(".", 1)
    return key(use_case, layer, name)


def quarantine_name(dataset: str) -> str:
    return f"{dataset}_quarantine"


def daily_partitions(uc: UseCaseConfig) -> dg.DailyPartitionsDefinition:
    return dg.DailyPartitionsDefinition(
        start_date=uc.start_date.isoformat(), end_offset=uc.end_offset_days
    )
