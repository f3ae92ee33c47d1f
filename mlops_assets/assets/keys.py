"""Asset keys and groups: ``[use_case, layer, name]`` mirrors the storage namespace.

Keys are made from the :class:`~mlops_assets.storage.tables.UseCaseTables` names, so an asset
key, its table location and every sensor or CLI lookup agree by construction.
"""

import os
from collections.abc import Mapping
from datetime import date

import dagster as dg

from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.errors import ConfigError
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


PARTITIONS_START_ENV = "MLOPS_PARTITIONS_START"
"""A local knob: no daily partition before this ISO date (never before the configured start).

``mlops-assets dev`` sets it to the first day the demo simulated, so the UI's catalog and
partition picker show the simulated days instead of hundreds of empty ones since
``start_date``. Unset, partitions start at the use case's ``start_date``."""


def partitions_start(uc: UseCaseConfig, environ: Mapping[str, str] | None = None) -> date:
    """The first daily partition: ``start_date``, or ``$MLOPS_PARTITIONS_START`` when later."""
    raw = (os.environ if environ is None else environ).get(PARTITIONS_START_ENV, "").strip()
    if not raw:
        return uc.start_date
    try:
        override = date.fromisoformat(raw)
    except ValueError as exc:
        raise ConfigError(
            f"{PARTITIONS_START_ENV}={raw!r} is not a date",
            context={"variable": PARTITIONS_START_ENV, "value": raw},
            fix=f"set {PARTITIONS_START_ENV} to an ISO date (YYYY-MM-DD) or unset it",
        ) from exc
    return max(uc.start_date, override)


def daily_partitions(uc: UseCaseConfig) -> dg.DailyPartitionsDefinition:
    """Daily partitions from :func:`partitions_start` to today (plus ``end_offset_days``)."""
    return dg.DailyPartitionsDefinition(
        start_date=partitions_start(uc).isoformat(), end_offset=uc.end_offset_days
    )
