"""Asset metadata that makes the Dagster UI tell the story: counts, schema, Markdown tables."""

from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
import polars as pl


def frame_metadata(frame: pl.DataFrame) -> dict[str, Any]:
    """Row count and column schema of a frame, under Dagster's standard keys."""
    columns = [dg.TableColumn(name=n, type=str(t)) for n, t in frame.schema.items()]
    return {
        "dagster/row_count": frame.height,
        "dagster/column_schema": dg.TableSchema(columns=columns),
    }


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
