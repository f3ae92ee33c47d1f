"""Unity Catalog tables through Spark: the lakehouse of the Databricks environment.

Names: a table ``[use_case, layer, name]`` is ``<catalog>.<schema>.<layer>_<name>`` (the schema
belongs to one use case, as in ``configs/environments/databricks*.yaml``; pass
``prefix_use_case=True`` to share a schema: ``<use_case>__<layer>_<name>``). A write-audit-publish
staging table is ``__staging_<layer>_<name>_<partition>_<run>`` in the same schema. Every part is
checked with :func:`safe_name` and quoted with backticks in SQL.

Files: landing files in the Volume folder ``<volume_root>/<catalog>/<schema>/<volume>/<use_case>/
<dataset>`` (``/Volumes/...``, mounted on Databricks compute), reports and JSON state in the Volume
``<files_volume>`` next to it (so every run, on any cluster, sees the same champion and endpoint
state), caches in ``scratch_dir`` on the machine running the step.

Data, with any Spark session (Databricks Connect, a cluster, or Sail in the tests):

- ``scan``: ``spark.table(name)`` filtered on ``_partition_date``, as a narwhals LazyFrame;
- ``write``: the schema policy is checked *before* any commit (like the local lakehouse); a
  partitioned write replaces exactly its partitions with ``writeTo(name).overwrite(_partition_date
  IN (...))`` (Delta's replaceWhere); added columns are committed first as an empty
  ``mergeSchema`` append (new nullable columns, as the local lakehouse's ``add_columns``);
- ``merge``: an upsert on keys with SQL ``MERGE INTO``;
- ``version`` and ``partition_writer`` (the run that last replaced a partition, from the commit's
  ``userMetadata``): ``DESCRIBE HISTORY``; engines without it (Sail) fall back to reading the
  Delta log with delta-rs when the table's location is on this machine, else None
  (:mod:`~mlops_assets.storage.unity_catalog_history`). A write whose version cannot be known
  reports ``version=-1``.

Portable choices, checked against Sail 0.7.2 (tests) and standard Delta: ``saveAsTable`` with a
``replaceWhere`` option silently replaced the *whole* table on Sail, ``ALTER TABLE ... ADD
COLUMNS`` and ``mergeSchema`` on a conditional overwrite are refused there, and ``DESCRIBE
HISTORY`` does not parse. The Volume paths are plain paths: a step running outside Databricks
compute (no ``/Volumes`` mount) needs them mounted, or ``volume_root`` pointed at a local copy.
"""

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import narwhals as nw

from mlops_assets.engines.frames import AnyFrame
from mlops_assets.engines.spark import quote, spark_frame
from mlops_assets.errors import SchemaMismatchError, StorageError
from mlops_assets.storage.delta import (
    PARTITION_COLUMN,
    PARTITIONS_KEY,
    RUN_ID_KEY,
    SchemaEvolution,
    WriteResult,
)
from mlops_assets.storage.lakehouse import Lakehouse, TableRef, safe_name, safe_partition
from mlops_assets.storage.unity_catalog_history import TableHistory
from mlops_assets.storage.unity_catalog_schema import align_to_table, check_schema, commit_options

if TYPE_CHECKING:
    from pyspark.sql import DataFrame as SparkDataFrame
    from pyspark.sql import SparkSession

_PART = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_\-]{0,254}$")
UNKNOWN_VERSION = -1
"""``WriteResult.version`` when the engine cannot tell the table's version."""


class UnityCatalogLakehouse(Lakehouse):
    """Delta tables in one Unity Catalog schema, read and written with Spark."""

    engine = "spark"

    def __init__(
        self,
        catalog: str,
        schema: str,
        spark_session_factory: "Callable[[], SparkSession]",
        *,
        volume: str = "landing",
        files_volume: str = "mlops",
        volume_root: Path | str = "/Volumes",
        scratch_dir: Path | str = ".mlops_data",
        prefix_use_case: bool = False,
    ) -> None:
        self.catalog = safe_name(catalog, "catalog")
        self.schema = safe_name(schema, "schema")
        self.volume = safe_name(volume, "volume")
        self.files_volume = safe_name(files_volume, "volume")
        self.volume_root = Path(volume_root)
        self.scratch_dir = Path(scratch_dir)
        self.prefix_use_case = prefix_use_case
        self._session_factory = spark_session_factory
        self._history = TableHistory()

    def __repr__(self) -> str:
        return f"UnityCatalogLakehouse({self.catalog!r}, {self.schema!r})"

    @property
    def spark(self) -> "SparkSession":
        """The session (the factory is asked each time, so an expired session is replaced)."""
        return self._session_factory()

    # -- names and places -------------------------------------------------------------------
    def _table(self, ref: TableRef, prefix: str = "") -> str:
        parts = [ref.use_case] if self.prefix_use_case else []
        name = "__".join([*parts, f"{ref.layer}_{ref.name}"])
        return f"{self.catalog}.{self.schema}.{prefix}{name}"

    def table_location(self, ref: TableRef) -> str:
        return self._table(TableRef.from_path(ref.parts))

    def staging_location(self, ref: TableRef, partition: str | None, run_id: str) -> str:
        part = safe_partition(partition).replace("-", "_").replace(":", "_") if partition else "all"
        run = safe_name(run_id, "run").replace("-", "_")
        staged = self._table(TableRef.from_path(ref.parts), prefix="__staging_")
        return _identifier(f"{staged}_{part.replace('.', '_')}_{run}", "staging table", dots=2)

    def _volume(self, volume: str) -> Path:
        return self.volume_root / self.catalog / self.schema / volume

    def landing_root(self) -> Path:
        return self._volume(self.volume)

    def landing_dir(self, use_case: str, subdir: str) -> Path:
        return self.landing_root() / safe_name(use_case, "use case") / safe_name(subdir, "landing")

    def reports_dir(self, use_case: str) -> Path:
        return self._volume(self.files_volume) / "reports" / safe_name(use_case, "use case")

    def state_path(self, ref: TableRef) -> Path:
        checked = TableRef.from_path(ref.parts)
        return (
            self._volume(self.files_volume).joinpath("state", *checked.parts).with_suffix(".json")
        )

    def cache_dir(self, what: str) -> Path:
        return self.scratch_dir / safe_name(what, "cache")

    def use_case_locations(self, use_case: str) -> list[str]:
        """The schema's tables (of this use case, with ``prefix_use_case``) and its Volume folders.

        Without the prefix the schema belongs to one use case, so every table in it is listed.
        """
        uc = safe_name(use_case, "use case")
        names = [
            t.name
            for t in self.spark.catalog.listTables(f"{self.catalog}.{self.schema}")
            if not t.isTemporary
        ]
        if self.prefix_use_case:
            names = [n for n in names if n.startswith((f"{uc}__", f"__staging_{uc}__"))]
        tables = [f"{self.catalog}.{self.schema}.{n}" for n in sorted(names)]
        folders = [self.landing_root() / uc, self.reports_dir(uc)]
        folders.append(self._volume(self.files_volume) / "state" / uc)
        return tables + [str(f) for f in folders]

    # -- data -----------------------------------------------------------------------------
    def exists(self, location: str) -> bool:
        return bool(self.spark.catalog.tableExists(quote(_parts(location))))

    def version(self, location: str) -> int | None:
        if not self.exists(location):
            return None
        return self._history.version(self.spark, quote(_parts(location)))

    def partition_writer(self, location: str, partition: str) -> str | None:
        """The run of the newest commit that replaced ``partition`` (from its ``userMetadata``)."""
        if not self.exists(location):
            return None
        wanted = safe_partition(partition)
        for _, meta in self._history.commits(self.spark, quote(_parts(location))):
            written = meta.get(PARTITIONS_KEY)
            if isinstance(written, str) and wanted in written.split(","):
                run = meta.get(RUN_ID_KEY)
                return str(run) if run is not None else None
        return None

    @property
    def history_unavailable(self) -> str | None:
        """Why ``DESCRIBE HISTORY`` is not used (None until it failed once)."""
        return self._history.unavailable

    def scan(self, location: str, partitions: Sequence[str] | None = None) -> nw.LazyFrame[Any]:
        from pyspark.sql import functions as F  # noqa: N812

        name = quote(_parts(location))
        if not self.exists(location):
            raise StorageError(
                f"no table {location}",
                context={"table": location},
                fix="materialize the upstream asset (and the partition) first",
            )
        df = self.spark.table(name)
        if partitions is not None:
            keys = [safe_partition(p) for p in partitions]
            df = df.where(F.col(PARTITION_COLUMN).isin(keys))
        if PARTITION_COLUMN in df.columns:
            df = df.drop(PARTITION_COLUMN)
        return nw.from_native(df).lazy()

    def write(
        self,
        location: str,
        frame: AnyFrame,
        *,
        partitions: Sequence[str] | None = None,
        schema_evolution: SchemaEvolution = "add_columns",
        commit_metadata: Mapping[str, str] | None = None,
    ) -> WriteResult:
        """One commit of ``frame`` (plus one schema commit first when columns are added)."""
        from pyspark.sql import functions as F  # noqa: N812

        name = quote(_parts(location))
        df, known_rows = spark_frame(frame, self.spark)
        keys = [safe_partition(p) for p in partitions] if partitions is not None else None
        if keys is not None and PARTITION_COLUMN not in df.columns:
            if len(keys) != 1:
                raise StorageError(
                    f"writing {len(keys)} partitions needs a {PARTITION_COLUMN} column",
                    context={"table": location},
                    fix="add the partition column to the frame",
                )
            df = df.withColumn(PARTITION_COLUMN, F.lit(keys[0]))
        exists = self.exists(location)
        added: list[str] = []
        if exists:
            existing = self.spark.table(name).schema
            df = align_to_table(df, existing, fill_missing=keys is not None)
            added = check_schema(location, existing, df.schema, schema_evolution)
        options = commit_options(commit_metadata)
        try:
            if not exists:
                writer = df.writeTo(name).using("delta").options(**options)
                if keys is not None:
                    writer = writer.partitionedBy(F.col(PARTITION_COLUMN))
                writer.create()
            elif keys is not None:
                if added:
                    self._add_columns(name, df)
                df.writeTo(name).options(**options).overwrite(F.col(PARTITION_COLUMN).isin(keys))
            else:
                full = df.write.format("delta").mode("overwrite").options(**options)
                full.option("mergeSchema", "true" if added else "false").saveAsTable(name)
        except Exception as exc:
            raise StorageError(
                f"writing table {location} failed: {exc}".splitlines()[0][:500],
                context={"table": location, "partitions": keys},
                fix="the previous table version is intact; fix the cause and re-run",
            ) from exc
        return self._result(location, df, keys, added, known_rows)

    def _add_columns(self, name: str, df: "SparkDataFrame") -> None:
        """New nullable columns, committed before the data (as ALTER TABLE ADD COLUMNS would)."""
        empty = df.limit(0).write.format("delta").mode("append").option("mergeSchema", "true")
        empty.saveAsTable(name)

    def _result(
        self,
        location: str,
        df: "SparkDataFrame",
        keys: list[str] | None,
        added: list[str],
        known_rows: int | None,
    ) -> WriteResult:
        from pyspark.sql import functions as F  # noqa: N812

        rows = known_rows
        if rows is None:  # counted on the committed table: the frame is not computed twice
            table = self.spark.table(quote(_parts(location)))
            if keys is not None:
                table = table.where(F.col(PARTITION_COLUMN).isin(keys))
            rows = int(table.count())
        version = self.version(location)
        return WriteResult(
            path=location,
            version=UNKNOWN_VERSION if version is None else version,
            rows_written=rows,
            partitions=list(keys or []),
            added_columns=added,
            columns={f.name: f.dataType.simpleString() for f in df.schema.fields},
        )

    def merge(
        self,
        location: str,
        frame: AnyFrame,
        keys: Sequence[str],
        *,
        schema_evolution: SchemaEvolution = "add_columns",
        commit_metadata: Mapping[str, str] | None = None,
    ) -> WriteResult:
        """Upsert ``frame`` on ``keys``: matching rows are replaced, the others inserted.

        The frame must carry every column of the table (an update replaces whole rows); a key
        matches on equality, so rows with a null key are always inserted. Creates the table when
        it does not exist.
        """
        name = quote(_parts(location))
        if not keys:
            raise StorageError("merge needs at least one key column", context={"table": location})
        if not self.exists(location):
            return self.write(location, frame, commit_metadata=commit_metadata)
        df, known_rows = spark_frame(frame, self.spark)
        existing = self.spark.table(name).schema
        missing = [c for c in [*keys, *existing.names] if c not in df.columns]
        if missing:
            raise SchemaMismatchError(
                f"merge into {location}: the data lacks columns {sorted(set(missing))}",
                context={"table": location, "missing": sorted(set(missing))},
                fix="merge rows with every column of the table (and the key columns)",
            )
        df = align_to_table(df, existing, fill_missing=False)
        added = check_schema(location, existing, df.schema, schema_evolution)
        view = f"__mlops_merge_{uuid.uuid4().hex}"  # session-scoped, private to this call
        on = " AND ".join(f"t.{quote([k])} = s.{quote([k])}" for k in keys)
        try:
            if added:
                self._add_columns(name, df)
            df.createOrReplaceTempView(view)
            self.spark.sql(
                f"MERGE INTO {name} AS t USING {quote([view])} AS s ON {on} "
                "WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *"
            ).collect()
        except Exception as exc:
            raise StorageError(
                f"merge into {location} failed: {exc}".splitlines()[0][:500],
                context={"table": location, "keys": list(keys)},
                fix="check that the keys are unique in the merged rows; the table is unchanged",
            ) from exc
        finally:
            self.spark.catalog.dropTempView(view)
        rows = known_rows if known_rows is not None else int(df.count())
        return self._result(location, df, None, added, rows)

    def remove(self, location: str) -> None:
        self.spark.sql(f"DROP TABLE IF EXISTS {quote(_parts(location))}").collect()


def _identifier(value: str, what: str, dots: int = 0) -> str:
    """A name of ``dots + 1`` dot-separated parts of letters, digits, ``_`` and ``-``.

    (The parts a name is built from went through :func:`safe_name` already; this also guards
    locations handed back by callers: no traversal, quotes, spaces or control characters.)
    """
    parts = value.split(".")
    if len(parts) != dots + 1 or not all(_PART.match(p) for p in parts):
        raise StorageError(
            f"{what} {value!r} is not a valid Unity Catalog name",
            context={what: value},
            fix=f"use {dots + 1} dot-separated part(s) of letters, digits, '_' and '-'",
        )
    return value


def _parts(location: str) -> list[str]:
    """``catalog.schema.table`` as its three checked parts."""
    return _identifier(location, "table", dots=2).split(".")
