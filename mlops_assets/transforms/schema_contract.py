"""The silver schema as the checks and the UI name it, without an engine: the schema-conformance
rule and each declared column's description. The casts themselves are in
:mod:`mlops_assets.transforms.schema`."""

from mlops_assets.config.datasets import ColumnSpec

CAST_ERROR_RULE = "schema_conformance"
"""The check (and quarantine rule) of values that did not parse as their declared type."""


def column_descriptions(columns: list[ColumnSpec]) -> dict[str, str]:
    """Each declared column's description, with its type and whether it is required, by
    silver column name (what the UI's column schema shows)."""
    return {
        c.name: f"{c.description or ''} ({c.dtype}{'' if c.nullable else ', required'})".strip()
        for c in columns
    }
