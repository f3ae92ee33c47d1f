"""Delta-table IO manager for Polars / narwhals frames, partition-aware.

The base class knows frames, partitions and metadata; subclasses only say where a table lives.
"""

from pathlib import Path
from typing import Any

import dagster as dg
import narwhals as nw
import polars as pl

from mlops_assets.resources.metadata import frame_metadata
from mlops_assets.storage.delta import SchemaEvolution, read_table, write_table

SCHEMA_EVOLUTION_TAG = "mlops/schema_evolution"


class BaseDeltaIOManager(dg.ConfigurableIOManager):
    """Stores each asset as one Delta table; daily partitions replace only their own data."""

    def location(self, key: dg.AssetKey) -> Path:
        raise NotImplementedError

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        if obj is None:
            return
        frame = _to_polars(obj)
        partitions = list(context.asset_partition_keys) if context.has_asset_partitions else None
        definition_meta = context.definition_metadata or {}
        policy: SchemaEvolution = definition_meta.get(SCHEMA_EVOLUTION_TAG, "add_columns")
        path = self.location(context.asset_key)
        result = write_table(
            path,
            frame,
            partitions=partitions,
            schema_evolution=policy,
            commit_metadata={"dagster_run_id": context.run_id},
        )
        metadata: dict[str, Any] = {
            **frame_metadata(frame),
            "table_version": result.version,
            "path": dg.MetadataValue.path(str(path)),
            "dagster/table_name": ".".join(context.asset_key.path),
        }
        if result.added_columns:
            metadata["schema_evolution_added"] = ", ".join(result.added_columns)
        context.add_output_metadata(metadata)

    def load_input(self, context: dg.InputContext) -> pl.DataFrame:
        key = context.asset_key
        partitions = list(context.asset_partition_keys) if context.has_asset_partitions else None
        return read_table(self.location(key), partitions)


class LocalDeltaIOManager(BaseDeltaIOManager):
    """``<data_dir>/lakehouse/<use_case>/<layer>/<table>`` through delta-rs."""

    data_dir: str

    def location(self, key: dg.AssetKey) -> Path:
        return Path(self.data_dir).joinpath("lakehouse", *key.path)


def _to_polars(obj: Any) -> pl.DataFrame:
    if isinstance(obj, pl.DataFrame):
        return obj
    if isinstance(obj, pl.LazyFrame):
        return obj.collect()
    if isinstance(obj, nw.DataFrame | nw.LazyFrame):
        native = (
            obj.lazy().collect().to_native() if isinstance(obj, nw.LazyFrame) else obj.to_native()
        )
        if isinstance(native, pl.DataFrame):
            return native
        return pl.from_arrow(nw.from_native(native).to_arrow())  # type: ignore[return-value]
    raise TypeError(f"the Delta IO manager stores Polars/narwhals frames, not {type(obj).__name__}")
