"""Helpers of the transform tests: bronze batches as the landing reader builds them."""

from datetime import UTC, datetime
from typing import Any

import polars as pl

INGESTED_AT = datetime(2026, 1, 2, 3, 0, tzinfo=UTC)


def bronze(
    raw: dict[str, list[Any]],
    *,
    source_file: str = "customers/2026-01-01/a.csv",
    first_row: int = 1,
    missing_fields: list[int] | None = None,
) -> pl.DataFrame:
    """A bronze batch: raw text columns plus the lineage columns of the landing reader."""
    frame = pl.DataFrame(raw, schema={name: pl.String for name in raw})
    n = frame.height
    return frame.with_columns(
        pl.lit(INGESTED_AT).cast(pl.Datetime("us", "UTC")).alias("_ingested_at"),
        pl.lit(source_file).alias("_source_file"),
        pl.int_range(first_row, first_row + n, dtype=pl.Int64).alias("_row_number"),
        pl.lit("batch-1").alias("_batch_id"),
        pl.Series("_missing_fields", missing_fields or [0] * n, dtype=pl.Int64),
    )
