"""Parquet files that together hold exactly the rows of a table or of some of its partitions.

A lakehouse that can name the files behind a read hands them out as :class:`ParquetFiles`, so a
consumer can read what the files themselves keep apart from the rows, e.g. the dictionary pages
that count a string column without materialising its values
(:mod:`mlops_assets.monitoring.parquet_counts`).
"""

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    import polars as pl


class ParquetFiles(BaseModel):
    """The files of a read that one schema describes (every file has the same columns)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    files: tuple[str, ...] = Field(
        min_length=1, description="Local paths of the Parquet files, together exactly the rows."
    )

    def scan(self) -> "pl.LazyFrame":
        """The rows of every file, lazily (Polars)."""
        import polars as pl

        return pl.scan_parquet(list(self.files))
