"""The lakehouse IO manager: narwhals frames in and out, partition-aware, one commit per output.

It knows frames, partitions and metadata; *where* a table lives and *how* its engine reads and
writes it belong to the :class:`~mlops_assets.storage.lakehouse.Lakehouse` it is given (delta-rs
and Polars locally, Spark and Unity Catalog on Databricks). Inputs arrive as lazy narwhals frames,
so the same asset body runs on either engine.

Every commit carries the run id and the partitions it replaced (:data:`RUN_ID_KEY`,
:data:`PARTITIONS_KEY`), so the published tables themselves say which run last wrote a partition:
that is how a half-finished publish of silver + quarantine is recognised
(:mod:`mlops_assets.storage.publish`). Crash tests stop a run just before or after a commit with
the ``before_commit:<use_case>.<layer>.<table>`` / ``after_commit:...`` pause points.
"""

from typing import TYPE_CHECKING, Any

import dagster as dg

from mlops_assets.engines.frames import LazyFrame, lazy
from mlops_assets.resources.lakehouse import LakehouseResource
from mlops_assets.resources.metadata import write_metadata
from mlops_assets.storage.lakehouse import TableRef
from mlops_assets.storage.publish import pause_point

if TYPE_CHECKING:  # delta-rs (pyarrow) loads with the first write, not with the code location
    from mlops_assets.storage.delta import SchemaEvolution

SCHEMA_EVOLUTION_TAG = "mlops/schema_evolution"
ONE_ROW_PER_PARTITION_TAG = "mlops/one_row_per_partition"
"""Definition metadata of an asset that writes one summary row per partition by design (the
monitoring tables): its materializations carry no row count (always 1: a noise plot in the UI)
and the Delta version as text (see :func:`~mlops_assets.resources.metadata.write_metadata`)."""


class LakehouseIOManager(dg.ConfigurableIOManager):
    """Stores each asset as one table; daily partitions replace only their own data."""

    lakehouse: LakehouseResource

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        from mlops_assets.storage.delta import PARTITIONS_KEY, RUN_ID_KEY

        if obj is None:
            return
        house = self.lakehouse.get()
        ref = TableRef.from_path(context.asset_key.path)
        partitions = list(context.asset_partition_keys) if context.has_asset_partitions else None
        definition_meta = context.definition_metadata or {}
        policy: SchemaEvolution = definition_meta.get(SCHEMA_EVOLUTION_TAG, "add_columns")
        frame = lazy(obj)
        location = house.table_location(ref)
        commit = {RUN_ID_KEY: context.run_id}
        if partitions is not None:
            commit[PARTITIONS_KEY] = ",".join(partitions)
        point = ".".join(ref.parts)
        pause_point(f"before_commit:{point}")
        result = house.write(
            location, frame, partitions=partitions, schema_evolution=policy, commit_metadata=commit
        )
        pause_point(f"after_commit:{point}")
        declared = definition_meta.get("dagster/column_schema")
        one_row = bool(definition_meta.get(ONE_ROW_PER_PARTITION_TAG, False))
        context.add_output_metadata(
            write_metadata(result, location, ref, declared, one_row=one_row)
        )

    def load_input(self, context: dg.InputContext) -> LazyFrame:
        partitions = list(context.asset_partition_keys) if context.has_asset_partitions else None
        return self.lakehouse.get().read_table(
            TableRef.from_path(context.asset_key.path), partitions
        )
