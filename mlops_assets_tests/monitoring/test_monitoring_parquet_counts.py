"""Categorical value counts from Parquet files against the engine's counts of the same rows."""

from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq
import pytest
from polars.testing import assert_frame_equal

from mlops_assets.config.monitoring import DriftConfig
from mlops_assets.monitoring.columns import COUNT_COLUMN
from mlops_assets.monitoring.parquet_counts import parquet_value_counts
from mlops_assets.monitoring.profile import build_profile
from mlops_assets.monitoring.statistics import compute_drift
from mlops_assets.storage.parquet_files import ParquetFiles
from mlops_assets_tests.monitoring.conftest import CATEGORICAL, NUMERIC, make_frame

COLUMNS = ["segment", "rare_ids", "tier", "code"]


def _frame(rows: int, seed: int) -> pl.DataFrame:
    """A dictionary-encoded string column with nulls and an empty string, a high-cardinality
    one (written in plain pages, without a dictionary), a Categorical and an integer category."""
    rng = np.random.default_rng(seed)
    segments = np.array(["alpha", "beta", "gamma", "delta", ""], dtype=object)
    segment = segments[rng.integers(0, 5, rows)].tolist()
    for i in rng.choice(rows, rows // 10, replace=False).tolist():
        segment[i] = None
    return pl.DataFrame(
        {
            "segment": segment,
            "rare_ids": [f"id-{v:09d}-{'x' * 40}" for v in rng.integers(0, 10**9, rows)],
            "tier": pl.Series(rng.choice(["gold", "silver"], rows), dtype=pl.Categorical),
            "code": rng.integers(0, 7, rows),
        }
    )


def _files(tmp_path: Path) -> ParquetFiles:
    """Three files, several row groups each, one of them empty."""
    paths = []
    for i, rows in enumerate([120_000, 0, 45_001]):
        path = tmp_path / f"part-{i}.parquet"
        _frame(rows, seed=i).write_parquet(path, row_group_size=20_000)
        paths.append(str(path))
    return ParquetFiles(files=tuple(paths))


def _engine_counts(files: ParquetFiles, column: str) -> pl.DataFrame:
    return files.scan().group_by(column).len(name=COUNT_COLUMN).collect()


def _comparable(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    return frame.select(pl.col(column).cast(pl.String), pl.col(COUNT_COLUMN).cast(pl.Int64)).sort(
        column, nulls_last=True
    )


def test_counts_from_the_files_equal_the_engine_counts(tmp_path: Path) -> None:
    files = _files(tmp_path)
    counted = parquet_value_counts(files, COLUMNS)
    assert set(counted) == set(COLUMNS)
    for column in COLUMNS:
        ours = _comparable(counted[column], column)
        assert_frame_equal(ours, _comparable(_engine_counts(files, column), column))
        assert ours[COUNT_COLUMN].sum() == 165_001
    assert counted["segment"].filter(pl.col("segment").is_null())[COUNT_COLUMN].item() > 0
    assert counted["rare_ids"].height > 150_000
    encodings = {
        column: set(pq.ParquetFile(files.files[0]).metadata.row_group(0).column(i).encodings)
        for i, column in enumerate(COLUMNS)
    }
    assert "RLE_DICTIONARY" in encodings["segment"]
    assert "RLE_DICTIONARY" not in encodings["rare_ids"]  # both kinds of page are counted


def test_a_file_without_row_groups_counts_nothing(tmp_path: Path) -> None:
    path = tmp_path / "empty.parquet"
    _frame(0, seed=1).write_parquet(path)
    counted = parquet_value_counts(ParquetFiles(files=(str(path),)), ["segment", "code"])
    assert counted["segment"].height == 0 and counted["code"].height == 0


def test_an_empty_file_list_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ParquetFiles(files=())


@pytest.mark.parametrize("rows", [30_000, 400])
def test_drift_from_the_files_equals_drift_from_the_scan(tmp_path: Path, rows: int) -> None:
    """The same result, column for column: numeric columns read by the engine either way,
    categorical ones counted from the files' dictionaries or by the engine's group-by."""
    config = DriftConfig()
    profile = build_profile(make_frame(5_000, seed=0), NUMERIC, CATEGORICAL, config, seed=0)
    paths = []
    for i in range(2):
        frame = make_frame(rows, seed=10 + i, plan_mix=(0.2, 0.3, 0.5))
        path = tmp_path / f"day-{i}.parquet"
        frame.write_parquet(path, row_group_size=max(rows // 3, 1))
        paths.append(str(path))
    files = ParquetFiles(files=tuple(paths))
    from_files = compute_drift(files, profile, config)
    from_scan = compute_drift(pl.scan_parquet(paths), profile, config)
    assert from_files == from_scan
    assert from_files.n_current == 2 * rows
    assert {c.column for c in from_files.columns if c.drifted} >= {"cat_plan"}
