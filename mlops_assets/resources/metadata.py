"""Asset metadata that makes the Dagster UI tell the story: counts, schema, Markdown tables."""

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import dagster as dg

from mlops_assets.storage.lakehouse import TableRef

if TYPE_CHECKING:  # Polars and delta-rs (pyarrow, numpy) load at run time, not with the location
    import polars as pl

    from mlops_assets.storage.delta import WriteResult

SIGNIFICANT_DIGITS = 4
"""Digits a float keeps in metadata: enough to compare, few enough to read."""


def rounded(value: float, digits: int = SIGNIFICANT_DIGITS) -> float:
    """``value`` to ``digits`` significant digits (0.8061749571183533 -> 0.8062); NaN stays NaN."""
    if value != value or value in (float("inf"), float("-inf")) or value == 0:
        return float(value)
    return float(f"{value:.{digits}g}")


def rounded_all(values: Mapping[str, float], prefix: str = "") -> dict[str, float]:
    """Every value rounded, under ``<prefix><name>``."""
    return {f"{prefix}{k}": rounded(float(v)) for k, v in values.items()}


def frame_metadata(frame: "pl.DataFrame") -> dict[str, Any]:
    """Row count and column schema of a frame, under Dagster's standard keys."""
    columns = [dg.TableColumn(name=n, type=str(t)) for n, t in frame.schema.items()]
    return {
        "dagster/row_count": frame.height,
        "dagster/column_schema": dg.TableSchema(columns=columns),
    }


def write_metadata(
    result: "WriteResult",
    location: str,
    ref: TableRef,
    declared: object = None,
    *,
    one_row: bool = False,
) -> dict[str, Any]:
    """What a table write tells the UI: rows, schema, version, location and the table's name.

    ``declared`` is the asset's declared ``dagster/column_schema`` (a :class:`dg.TableSchema`),
    if any: its column descriptions are carried into the written schema, so the Columns table
    of the asset page explains every column.

    ``one_row``: the asset writes one summary row per partition by design (the monitoring
    tables). Dagster plots every numeric entry, and a row count that is always 1 or a table
    version that only counts commits would push the asset's own headline numbers (e.g. the
    drift share) down among noise plots: the count is left out and the version is text.
    """
    docs = (
        {c.name: c.description for c in declared.columns if c.description}
        if isinstance(declared, dg.TableSchema)
        else {}
    )
    columns = [
        dg.TableColumn(name=n, type=t, description=docs.get(n)) for n, t in result.columns.items()
    ]
    metadata: dict[str, Any] = {
        **({} if one_row else {"dagster/row_count": result.rows_written}),
        "dagster/column_schema": dg.TableSchema(columns=columns),
        "table_version": dg.MetadataValue.text(str(result.version)) if one_row else result.version,
        "dagster/table_name": ".".join(ref.parts),
        "location": dg.MetadataValue.path(location)
        if "/" in location
        else dg.MetadataValue.text(location),
    }
    if result.added_columns:
        metadata["schema_evolution_added"] = ", ".join(result.added_columns)
    return metadata


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> dg.MetadataValue:
    """A Markdown table as metadata."""

    def cell(value: object) -> str:
        text = f"{value:.4g}" if isinstance(value, float) else str(value)
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return dg.MetadataValue.md("\n".join(lines))


def counts_table(counts: Mapping[str, int], key: str, value: str) -> dg.MetadataValue:
    """Two-column Markdown table of counts, largest first."""
    rows = sorted(counts.items(), key=lambda kv: -kv[1])
    return markdown_table([key, value], rows)
