"""The schema policy of Spark writes to Unity Catalog, decided before any commit.

The same rules as the local lakehouse's (``storage/delta.py``): a changed column type is refused,
new columns are refused under ``schema_evolution: fail`` and added (nullable) under
``add_columns``, and a partition write that lacks some of the table's columns writes nulls there.
"""

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from mlops_assets.engines.spark import quote
from mlops_assets.errors import SchemaMismatchError
from mlops_assets.storage.delta import SchemaEvolution

if TYPE_CHECKING:
    from pyspark.sql import DataFrame as SparkDataFrame
    from pyspark.sql.types import DataType, StructType


def commit_options(commit_metadata: Mapping[str, str] | None) -> dict[str, str]:
    """Delta's ``userMetadata`` write option: the commit metadata (e.g. the Dagster run), JSON."""
    return (
        {"userMetadata": json.dumps(dict(commit_metadata), sort_keys=True)}
        if commit_metadata
        else {}
    )


def align_to_table(
    df: "SparkDataFrame", table: "StructType", *, fill_missing: bool
) -> "SparkDataFrame":
    """``df`` in the table's column order and types where it can only mean them.

    Columns without a type (all-null literals) take the table's type; with ``fill_missing`` (a
    partition write) columns of the table the batch lacks are written as nulls, as the local
    lakehouse does. New columns go last.
    """
    from pyspark.sql import functions as F  # noqa: N812
    from pyspark.sql.types import NullType

    incoming = {f.name: f.dataType for f in df.schema.fields}
    columns = []
    for field in table.fields:
        if field.name in incoming:
            col = F.col(quote([field.name]))
            if isinstance(incoming[field.name], NullType):
                col = col.cast(field.dataType)
            columns.append(col.alias(field.name))
        elif fill_missing:
            columns.append(F.lit(None).cast(field.dataType).alias(field.name))
    known = set(table.names)
    columns += [F.col(quote([n])) for n in df.columns if n not in known]
    return df.select(*columns)


def check_schema(
    location: str, table: "StructType", data: "StructType", policy: SchemaEvolution
) -> list[str]:
    """The columns ``data`` adds to ``table``; SchemaMismatchError before any commit otherwise."""
    existing = {f.name: f.dataType for f in table.fields}
    added = [f.name for f in data.fields if f.name not in existing]
    changed = [
        f"{f.name}: table has {existing[f.name].simpleString()}, data has "
        f"{f.dataType.simpleString()}"
        for f in data.fields
        if f.name in existing and not _compatible(existing[f.name], f.dataType)
    ]
    if changed:
        raise SchemaMismatchError(
            f"column types differ from table {location}: {'; '.join(changed)}",
            context={"table": location, "changed": changed},
            fix="cast the data to the table's types, or write to a new table version/name",
        )
    if added and policy == "fail":
        raise SchemaMismatchError(
            f"new columns {added} are not in table {location} and schema_evolution is 'fail'",
            context={"table": location, "added": added},
            fix="set `schema_evolution: add_columns` for this dataset, or drop the columns",
        )
    untyped = [f.name for f in data.fields if f.name in added and f.dataType.typeName() == "void"]
    if untyped:
        raise SchemaMismatchError(
            f"new columns {untyped} of table {location} have no type (all values null)",
            context={"table": location, "columns": untyped},
            fix="cast them to the intended type before writing",
        )
    return added


def _compatible(table_type: "DataType", data_type: "DataType") -> bool:
    """Equal types (strings of any flavour are equal; nullability and metadata do not count)."""
    if data_type.typeName() == "void":
        return True
    return table_type.simpleString() == data_type.simpleString()
