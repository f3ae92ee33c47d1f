"""Asset keys and groups: ``[use_case, layer, name]`` mirrors the storage namespace.

Keys are made from the :class:`~mlops_assets.storage.tables.UseCaseTables` names, so an asset
key, its table location and every sensor or CLI lookup agree by construction.
"""

import dagster as dg

from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.storage.lakehouse import TableRef
from mlops_assets.storage.tables import QUARANTINE_SUFFIX, UseCaseTables


def asset_key(ref: TableRef) -> dg.AssetKey:
    """The asset key of a table."""
    return dg.AssetKey(ref.parts)


def key(use_case: str, layer: str, name: str) -> dg.AssetKey:
    return asset_key(TableRef(use_case=use_case, layer=layer, name=name))


def op_name(asset: dg.AssetKey) -> str:
    """The op name Dagster gives an asset defined with ``key=`` and no explicit name."""
    return asset.to_python_identifier()


def group(use_case: str, stage: str) -> str:
    return f"{use_case}_{stage}"


def table_key(use_case: str, ref: str) -> dg.AssetKey:
    """``silver.customers`` -> ``[use_case, silver, customers]``."""
    layer, name = ref.split(".", 1)
    return key(use_case, layer, name)


def quarantine_name(dataset: str) -> str:
    return f"{dataset}{QUARANTINE_SUFFIX}"


def tables(uc: UseCaseConfig) -> UseCaseTables:
    return UseCaseTables(uc)


def daily_partitions(uc: UseCaseConfig) -> dg.DailyPartitionsDefinition:
    return dg.DailyPartitionsDefinition(
        start_date=uc.start_date.isoformat(), end_offset=uc.end_offset_days
    )
