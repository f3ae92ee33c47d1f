"""Delta tables through delta-rs: atomic, partition-aware writes and Polars reads.

Why not dagster-deltalake's IO manager: we need write-audit-publish staging, a per-dataset
schema-evolution policy checked *before* the commit (so a refused write leaves the previous
version untouched and says which columns differ), narwhals frames in and out, and table names
that map to Unity Catalog on Databricks. delta-rs does the heavy lifting; this module only decides
what to write where. Reads go through Polars (``scan_delta``; under a path it cannot read, the
table's files, see :func:`scan_delta`): ``DeltaTable.to_pyarrow_table()`` on partitioned tables
aborts the process at exit with deltalake 1.6.
"""

import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import quote, unquote

import polars as pl
import pyarrow as pa
from pydantic import BaseModel, Field

from mlops_assets.errors import SchemaMismatchError, StorageError
from mlops_assets.storage.delta_files import overwrite_partitions, partitioned_by

if TYPE_CHECKING:
    from deltalake import DeltaTable

PARTITION_COLUMN = "_partition_date"
SchemaEvolution = Literal["fail", "add_columns"]
RUN_ID_KEY = "dagster_run_id"
"""Commit metadata key: the run that made the commit."""
PARTITIONS_KEY = "mlops_partitions"
"""Commit metadata key: the partitions a commit replaced, comma-separated."""


class WriteResult(BaseModel):
    """What a commit produced."""

    path: str = Field(description="Table location.")
    version: int = Field(description="Delta version after the commit.")
    rows_written: int = Field(description="Rows in this write.")
    partitions: list[str] = Field(default_factory=list, description="Partitions replaced.")
    added_columns: list[str] = Field(
        default_factory=list, description="Columns added by evolution."
    )
    columns: dict[str, str] = Field(
        default_factory=dict, description="Column name to type of the data written."
    )


def table_exists(path: Path) -> bool:
    """Whether a Delta log exists at ``path``."""
    return (path / "_delta_log").is_dir()


def table_version(path: Path) -> int | None:
    """Current version, or None when there is no table."""
    if not table_exists(path):
        return None
    from deltalake import DeltaTable

    return int(DeltaTable(str(path)).version())


def _existing_schema(path: Path) -> pa.Schema | None:
    if not table_exists(path):
        return None
    from deltalake import DeltaTable

    return pa.schema(DeltaTable(str(path)).schema().to_arrow())


def _check_schema(
    path: Path, existing: pa.Schema, incoming: pa.Schema, policy: SchemaEvolution
) -> list[str]:
    added = [n for n in incoming.names if n not in existing.names]
    missing = [n for n in existing.names if n not in incoming.names]
    changed = [
        f"{n}: table has {existing.field(n).type}, data has {incoming.field(n).type}"
        for n in incoming.names
        if n in existing.names and not _compatible(existing.field(n).type, incoming.field(n).type)
    ]
    if changed:
        raise SchemaMismatchError(
            f"column types differ from table {path}: {'; '.join(changed)}",
            context={"table": str(path), "changed": changed},
            fix="cast the data to the table's types, or write to a new table version/name",
        )
    if added and policy == "fail":
        raise SchemaMismatchError(
            f"new columns {added} are not in table {path} and schema_evolution is 'fail'",
            context={"table": str(path), "added": added, "missing": missing},
            fix="set `schema_evolution: add_columns` for this dataset, or drop the columns",
        )
    return added


def _compatible(table_type: pa.DataType, data_type: pa.DataType) -> bool:
    if table_type == data_type:
        return True
    strings = {pa.string(), pa.large_string(), pa.string_view()}
    if table_type in strings and data_type in strings:
        return True
    if pa.types.is_null(data_type):
        return True
    if pa.types.is_timestamp(table_type) and pa.types.is_timestamp(data_type):
        return (table_type.tz is None) == (data_type.tz is None)
    if pa.types.is_nested(table_type) and pa.types.is_nested(data_type):
        # Lists and structs: Arrow's large and view variants are one Delta type.
        from deltalake import Schema

        table, data = (
            Schema.from_arrow(pa.schema([("c", t)])).fields[0].type for t in (table_type, data_type)
        )
        return bool(table == data)
    return False


def _delta_types(frame: pl.DataFrame) -> pl.DataFrame:
    """Delta has no unsigned integers: widen them to Int64 so every write has the same types."""
    unsigned = [
        n for n, t in frame.schema.items() if t in (pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64)
    ]
    small = [n for n, t in frame.schema.items() if t in (pl.Int8, pl.Int16, pl.Int32)]
    if not unsigned and not small:
        return frame
    return frame.with_columns(pl.col(*unsigned, *small).cast(pl.Int64))


def _table_nulls(existing: pa.Schema, name: str) -> pl.Expr:
    """A column ``name`` of nulls typed as the table's column (exported as that Arrow type)."""
    empty = pl.DataFrame(pa.table({"c": pa.nulls(0, type=existing.field(name).type)}))
    return pl.lit(None, dtype=empty.schema["c"]).alias(name)


def _prepare(
    frame: pl.DataFrame,
    existing: pa.Schema | None,
    *,
    fill_missing: bool,
    partition_value: str | None = None,
) -> tuple[pl.DataFrame, pa.Schema]:
    """The frame as it will be written, and its Arrow schema (checked before the commit).

    The frame stays a Polars frame: delta-rs reads it through the Arrow C stream interface,
    which saves a whole-table ``to_arrow()`` copy (about 1 s and the table's size in memory per
    million rows of the medallion's tables). With ``partition_value`` the frame lacks the
    partition column, which holds that value in every row: the schema has the column, the
    frame does not get it (adding a column to a frame whose columns are chunked differently,
    as bronze's lineage columns are, re-chunks the whole frame: 1.7 s at 10M rows).
    """
    frame = _delta_types(frame)
    head = frame.head(0)
    if partition_value is not None:
        head = head.with_columns(pl.lit(partition_value).alias(PARTITION_COLUMN))
    if existing is not None:
        # Columns that are entirely null have no type of their own: give them the table's.
        typed_nulls = [
            _table_nulls(existing, name)
            for name, dtype in frame.schema.items()
            if dtype == pl.Null and name in existing.names
        ]
        if typed_nulls:
            frame = frame.with_columns(typed_nulls)
            head = head.with_columns(typed_nulls)
        if fill_missing:
            # Partition writes: columns of the table this batch lacks (e.g. a landing column
            # that came one day only) are written as nulls, in the table's column order.
            missing = [
                _table_nulls(existing, name) for name in existing.names if name not in head.columns
            ]
            if missing:
                frame = frame.with_columns(missing)
                head = head.with_columns(missing)
            order = [*existing.names, *[n for n in head.columns if n not in existing.names]]
            head = head.select(order)
            frame = frame.select([n for n in order if n in frame.columns])
    return frame, head.to_arrow().schema


def write_table(
    path: Path,
    frame: pl.DataFrame,
    *,
    partitions: Sequence[str] | None = None,
    schema_evolution: SchemaEvolution = "add_columns",
    commit_metadata: Mapping[str, str] | None = None,
) -> WriteResult:
    """Write ``frame`` as one atomic Delta commit.

    With ``partitions`` the table is partitioned by ``_partition_date`` and exactly those
    partitions are replaced (re-running a partition never duplicates it); without, the whole
    table is overwritten. A refused or failed write leaves the previous version intact.
    """
    from deltalake import CommitProperties, write_deltalake

    _check_no_escape(path)
    existing = _existing_schema(path)
    value = None  # the partition of every row, when the frame has no partition column
    if partitions is not None and PARTITION_COLUMN not in frame.columns:
        if len(partitions) != 1:
            raise StorageError(
                f"writing {len(partitions)} partitions needs a {PARTITION_COLUMN} column",
                context={"table": str(path)},
                fix="add the partition column to the frame",
            )
        value = partitions[0]
    frame, schema = _prepare(
        frame, existing, fill_missing=partitions is not None, partition_value=value
    )
    added: list[str] = []
    if existing is not None:
        added = _check_schema(path, existing, schema, schema_evolution)
    predicate = None
    if partitions is not None and existing is not None:
        quoted = ", ".join(f"'{p}'" for p in partitions)
        predicate = f"{PARTITION_COLUMN} IN ({quoted})"
    path.parent.mkdir(parents=True, exist_ok=True)
    fast = partitions is not None and frame.height > 0 and _partitioned_here(path, existing)
    try:
        if added and predicate is not None:
            _add_columns(path, schema, added)
        if fast:
            overwrite_partitions(
                path,
                frame,
                column=PARTITION_COLUMN,
                partitions=list(partitions or []),
                schema=schema,
                table_exists=existing is not None,
                commit_metadata=dict(commit_metadata or {}),
                partition_value=value,
            )
        else:
            if value is not None:
                frame = frame.with_columns(pl.lit(value).alias(PARTITION_COLUMN))
            write_deltalake(
                str(path),
                frame.select(schema.names),
                mode="overwrite",
                partition_by=[PARTITION_COLUMN] if partitions is not None else None,
                predicate=predicate,
                schema_mode="merge" if added and predicate is None else None,
                commit_properties=CommitProperties(custom_metadata=dict(commit_metadata or {})),
            )
    except StorageError:
        raise
    except Exception as exc:
        raise StorageError(
            f"writing Delta table {path} failed: {exc}",
            context={"table": str(path), "rows": frame.height},
            fix="the previous table version is intact; fix the cause and re-run",
        ) from exc
    return WriteResult(
        path=str(path),
        version=table_version(path) or 0,
        rows_written=frame.height,
        partitions=list(partitions or []),
        added_columns=added,
        columns={f.name: str(f.type) for f in schema},
    )


def _partitioned_here(path: Path, existing: pa.Schema | None) -> bool:
    """Whether a partition overwrite can commit Polars-written files (see ``delta_files``):
    a new table, or one partitioned by exactly the partition column."""
    return existing is None or partitioned_by(path) == [PARTITION_COLUMN]


def _add_columns(path: Path, schema: pa.Schema, added: list[str]) -> None:
    """Evolve the schema before a partition overwrite (delta-rs cannot merge with a predicate)."""
    from deltalake import DeltaTable
    from deltalake.schema import Field as DeltaField

    fields = [DeltaField.from_arrow(schema.field(n)) for n in added]
    DeltaTable(str(path)).alter.add_columns(fields)


def scan_table(path: Path, partitions: Sequence[str] | None = None) -> pl.LazyFrame:
    """Lazily read a Delta table (optionally only some partitions), without the partition column."""
    if not table_exists(path):
        raise StorageError(
            f"no Delta table at {path}",
            context={"table": str(path)},
            fix="materialize the upstream asset (and the partition) first",
        )
    lf = scan_delta(path, partitions)
    if partitions is not None:
        lf = lf.filter(pl.col(PARTITION_COLUMN).is_in(list(partitions)))
    if PARTITION_COLUMN in lf.collect_schema().names():
        lf = lf.drop(PARTITION_COLUMN)
    return lf


_URI_SAFE = "/!$&'()*+,;=:@-._~"
"""What a file URI keeps as it is in a path (RFC 3986): delta-rs encodes everything else."""


_ESCAPE = re.compile("%[0-9A-Fa-f]{2}")


def _check_no_escape(path: Path) -> None:
    """A StorageError when ``path`` holds a ``%`` and two hex digits (``x%20y``): delta-rs
    takes it for a percent-escape and looks for the table under the decoded path (``x y``), so
    it could neither write nor read the table there."""
    found = _ESCAPE.search(path.absolute().as_posix())
    if found is not None:
        raise StorageError(
            f"cannot keep a Delta table at {path}: delta-rs reads {found.group()!r} in its path "
            "as a percent-escape and would look for the table elsewhere",
            context={"table": str(path), "escape": found.group()},
            fix="rename the folder (or set MLOPS_DATA_DIR to a path) without a '%' followed by "
            "two hexadecimal digits; nothing was written",
        )


def _plain_reads(table: "DeltaTable") -> bool:
    """Whether reading ``table``'s files (with the log's partition values) gives its rows: reader
    version 1 and no reader feature (no deletion vectors, column mapping or type widening)."""
    protocol = table.protocol()
    return protocol.min_reader_version == 1 and not protocol.reader_features


def scan_delta(path: Path, partitions: Sequence[str] | None = None) -> pl.LazyFrame:
    """Polars' scan of the Delta table at ``path`` (every column, the partition columns too),
    under any path; ``partitions``: at least the rows of these values of
    :data:`PARTITION_COLUMN` (the caller filters: other files may be scanned too).

    Polars' ``scan_delta`` cannot read every path. delta-rs names a table's files by
    percent-encoded URIs, which it opens as they are: under a path with a space, ``%``, ``#`` or
    a non-ASCII character it finds no file. It reads the partition columns from the files'
    paths, ``key=value`` folders: a folder above the table named like one (``run=3``) fails the
    read (Polars 2.1, deltalake 1.6). Under such a path, the files of each partition are
    scanned as ``file://`` URLs, which Polars decodes, and their partition values come from the
    Delta log (:func:`_scan_files`).
    """
    _check_no_escape(path)
    text = path.absolute().as_posix()
    if quote(text, safe=_URI_SAFE) == text and "=" not in text:
        return pl.scan_delta(str(path))
    return _scan_files(path, text, partitions)


def _scan_files(path: Path, text: str, partitions: Sequence[str] | None) -> pl.LazyFrame:
    """The table's files, scanned partition by partition with the partition values of the log:
    the table's schema and column order, columns missing from older files as nulls."""
    from deltalake import DeltaTable

    table = DeltaTable(text)
    if not _plain_reads(table):
        protocol = table.protocol()
        unusual = sorted({c for c in text if quote(c, safe=_URI_SAFE) != c or c == "="})
        raise StorageError(
            f"cannot read the Delta table at {path}: it needs reader version "
            f"{protocol.min_reader_version} (features: {sorted(protocol.reader_features or [])}), "
            f"which only Polars' Delta reader supports, and that reader cannot open files under "
            f"a path with {unusual}",
            context={"table": str(path), "characters": "".join(unusual)},
            fix="keep the data directory (MLOPS_DATA_DIR, default ./.mlops_data under the "
            "project) on a path of ASCII letters, digits and -._~ (no spaces, '%', '#', '=' or "
            "accents)",
        )
    schema = pl.Schema(table.schema())
    keys = list(table.metadata().partition_columns)
    uris = table.file_uris()
    actions = pl.DataFrame(table.get_add_actions(flatten=True))
    if len(uris) != actions.height or not all(
        unquote(uri).endswith(unquote(rel))
        for uri, rel in zip(uris, actions["path"].to_list(), strict=True)
    ):
        raise StorageError(
            f"cannot pair the files of the Delta table at {path} with their log entries",
            context={"table": str(path), "files": len(uris), "entries": actions.height},
            fix="read it from a path of ASCII letters, digits and -._~, or report the deltalake "
            "version: its file list and its add actions no longer match",
        )
    groups: dict[tuple[object, ...], list[str]] = {}
    values_of = actions.select(f"partition.{k}" for k in keys).rows() if keys else [()] * len(uris)
    for uri, values in zip(uris, values_of, strict=True):
        url = uri if "://" in uri else f"file://{'' if uri.startswith('/') else '/'}{uri}"
        groups.setdefault(values, []).append(url)
    wanted = None if partitions is None or PARTITION_COLUMN not in keys else set(partitions)
    data = {c: t for c, t in schema.items() if c not in keys}
    frames = [
        pl.scan_parquet(
            urls,
            schema=data,
            hive_partitioning=False,
            missing_columns="insert",
            extra_columns="ignore",
        )
        .with_columns(
            pl.lit(value).cast(schema[key]).alias(key)
            for key, value in zip(keys, values, strict=True)
        )
        .select(schema.names())
        for values, urls in groups.items()
        if wanted is None or values[keys.index(PARTITION_COLUMN)] in wanted
    ]
    if not frames:
        return pl.LazyFrame(schema=schema)
    return pl.concat(frames, how="vertical")


def partition_files(path: Path, partitions: Sequence[str] | None = None) -> list[str] | None:
    """The data files that hold exactly the rows :func:`scan_table` reads, or None.

    None when the files alone would not give those rows: no table; a protocol beyond plain
    reads (deletion vectors, column mapping and other reader features); a table partitioned by
    anything but :data:`PARTITION_COLUMN` (partition values live in the log, not in the files,
    and ``scan_table`` drops only that one), or a partition filter on an unpartitioned one; no
    file; or files whose schemas differ (schema evolution between them).
    """
    if not table_exists(path):
        return None
    import pyarrow.parquet as pq
    from deltalake import DeltaTable

    table = DeltaTable(str(path))
    if not _plain_reads(table):
        return None
    metadata = table.metadata()
    if metadata.configuration.get("delta.columnMapping.mode", "none") != "none":
        return None
    partitioned = metadata.partition_columns == [PARTITION_COLUMN]
    if partitions is None and (partitioned or not metadata.partition_columns):
        uris = table.file_uris()
    elif partitions is not None and partitioned:
        uris = table.file_uris([(PARTITION_COLUMN, "in", list(partitions))])
    else:  # another partition column is a data column the files do not hold
        return None
    # URIs: a space or a % in the data directory's path arrives percent-encoded
    files = [unquote(uri.removeprefix("file://")) for uri in uris]
    if not files or not all(Path(f).is_file() for f in files):
        return None
    first, *others = (pq.read_schema(f).remove_metadata() for f in files)
    return files if all(schema.equals(first) for schema in others) else None


def last_writer(path: Path, partition: str) -> str | None:
    """The run id of the newest commit that replaced ``partition`` (None when unknown).

    Read from the commit metadata the lakehouse IO manager records (:data:`RUN_ID_KEY`,
    :data:`PARTITIONS_KEY`); commits without it (schema changes, maintenance) are skipped.
    """
    if not table_exists(path):
        return None
    from deltalake import DeltaTable

    for commit in DeltaTable(str(path)).history():  # newest first
        written = commit.get(PARTITIONS_KEY)
        if isinstance(written, str) and partition in written.split(","):
            run = commit.get(RUN_ID_KEY)
            return str(run) if run is not None else None
    return None


def read_table(path: Path, partitions: Sequence[str] | None = None) -> pl.DataFrame:
    """Eagerly read a Delta table."""
    return scan_table(path, partitions).collect()


def remove_table(path: Path) -> None:
    """Delete a (staging) table folder."""
    shutil.rmtree(path, ignore_errors=True)
