"""Helpers of the simulator tests: reading landing files back as ingestion would."""

import datetime as dt
from pathlib import Path

import narwhals as nw
import polars as pl

from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.storage import landing
from mlops_assets.storage.lakehouse import LocalLakehouse
from mlops_assets.transforms.quality import refine


def read_landing(path: Path) -> pl.DataFrame:
    """Read one landing file the way ingestion does: every column as text."""
    if path.suffix == ".csv":
        return pl.read_csv(path, infer_schema=False)
    return pl.read_parquet(path)


def as_float(column: str) -> pl.Expr:
    """Parse a text column as Float64; unparseable values become null."""
    return pl.col(column).cast(pl.Float64, strict=False)


def as_int(column: str) -> pl.Expr:
    """Parse a text column as Int64; unparseable values become null."""
    return pl.col(column).cast(pl.Int64, strict=False)


def read_dataset_file(path: Path, delimiter: str = ",") -> pl.DataFrame:
    """Read one landing file as text, with the dataset's delimiter."""
    if path.suffix == ".csv":
        return pl.read_csv(path, infer_schema=False, separator=delimiter)
    return pl.read_parquet(path)


def refine_day(
    data_dir: Path, uc: UseCaseConfig, dataset: str, day: dt.date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(silver, quarantine) of one landed day, through the real landing reader and silver rules."""
    ds = next(d for d in uc.datasets if d.name == dataset)
    house = LocalLakehouse(data_dir)
    folder = house.landing_dir(uc.name, ds.landing_subdir) / day.isoformat()
    assert folder.is_dir(), f"nothing landed in {folder}"
    batch = landing.read_landing(
        folder,
        house.landing_root(),
        ds.source.format,
        batch_id="test",
        ingested_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
        delimiter=ds.source.delimiter,
        columns=[c.source_name for c in ds.columns],
    )
    assert not batch.rejected, batch.rejected
    split = refine(nw.from_native(batch.frame).lazy(), ds)
    silver = split.silver.collect().to_native()
    quarantine = split.quarantine.collect().to_native()
    assert isinstance(silver, pl.DataFrame) and isinstance(quarantine, pl.DataFrame)
    return silver, quarantine
