"""Rerunning a partition gives bit-identical gold tables and features, whatever the row order.

A parallel engine adds floating-point partial sums in the order its threads finish, so the same
partition could store means that differ in the last digit. The transforms fix the order of every
float addition; these tests rerun one day of the churn use case on its real config, once with
silver's rows in storage order and once shuffled (the same effect as threads finishing in
another order), write both through real Delta tables and compare every stored value bit for bit
(floats compared exactly, not within a tolerance).
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import narwhals as nw
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from mlops_assets.config.project import load_project
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.engines.frames import to_polars
from mlops_assets.storage.delta import read_table, scan_table, write_table
from mlops_assets.transforms.features import compute_features
from mlops_assets.transforms.gold import build_gold
from mlops_assets.transforms.quality import refine
from mlops_assets_tests.conftest import CONFIGS_DIR

ROWS_PER_DAY = 25_000  # enough rows that a sum's last digit depends on the order of additions
DAY = "2026-01-02"


@pytest.fixture(scope="module")
def churn() -> UseCaseConfig:
    environ = {"MLOPS_DATA_DIR": "/nonexistent", "MLOPS_ENV": "local"}
    return load_project(CONFIGS_DIR, environ=environ).use_case("churn")


@pytest.fixture(scope="module")
def silver(tmp_path_factory: pytest.TempPathFactory, churn: UseCaseConfig) -> pl.DataFrame:
    """Two simulated days of customers refined to silver (the second day's lookback is day 1)."""
    from mlops_assets.simulate import SimulationConfig, simulate
    from mlops_assets.storage.landing import read_landing

    root = tmp_path_factory.mktemp("determinism")
    simulate(SimulationConfig(days=2, rows_per_day=ROWS_PER_DAY, seed=5), root)
    landing = root / "landing"
    dataset = next(d for d in churn.datasets if d.name == "customers")
    days = []
    for folder in sorted((landing / "churn" / "customers").iterdir()):
        bronze = read_landing(
            folder, landing, "csv", batch_id="b", ingested_at=datetime(2026, 1, 3, tzinfo=UTC)
        ).frame
        days.append(to_polars(refine(nw.from_native(bronze).lazy(), dataset).silver))
    return pl.concat(days)


def _run(churn: UseCaseConfig, silver: pl.DataFrame, root: Path) -> dict[str, Path]:
    """Gold tables and the feature table of ``DAY``, each written as a Delta partition."""
    start = datetime.fromisoformat(DAY).replace(tzinfo=UTC)
    day = silver.filter(pl.col("event_ts") >= start, pl.col("event_ts") < start + timedelta(1))
    inputs: dict[str, nw.LazyFrame[Any]] = {"silver.customers": nw.from_native(day).lazy()}
    written: dict[str, Path] = {}
    for table in churn.gold:  # in dependency order: the join reads the two before it
        path = root / table.name
        write_table(path, to_polars(build_gold(table, inputs)), partitions=[DAY])
        inputs[f"gold.{table.name}"] = nw.from_native(scan_table(path, [DAY]))
        written[table.name] = path
    features = churn.feature_tables[0]
    computed = compute_features(
        nw.from_native(silver).lazy(), features, start=start, end=start + timedelta(days=1)
    )
    written[features.name] = root / features.name
    write_table(written[features.name], to_polars(computed), partitions=[DAY])
    return written


def _rows(stored: pl.DataFrame) -> pl.DataFrame:
    """Stored rows in one order: the values are reproducible, not the row order (delta-rs'
    partitioned writer was seen to store the same frame's rows in different orders)."""
    return stored.sort(stored.columns, nulls_last=True)


def test_a_rerun_stores_bit_identical_gold_tables_and_features(
    churn: UseCaseConfig, silver: pl.DataFrame, tmp_path: Path
) -> None:
    first = _run(churn, silver, tmp_path / "first")
    again = _run(churn, silver, tmp_path / "again")
    shuffled = _run(churn, silver.sample(fraction=1.0, shuffle=True, seed=9), tmp_path / "shuf")
    for name, path in first.items():
        stored = _rows(read_table(path))
        assert stored.height > 0, name
        for other in (again[name], shuffled[name]):
            assert_frame_equal(stored, _rows(read_table(other)), check_exact=True)


def test_the_order_of_additions_really_changes_a_naive_mean(silver: pl.DataFrame) -> None:
    """The control: summed in another order, the plain mean of this data changes its last digits
    (so the test above would catch an order-dependent aggregation)."""
    means = {
        tuple(
            silver.sample(fraction=1.0, shuffle=True, seed=seed)
            .group_by("contract")
            .agg(pl.col("monthly_charges").mean())
            .sort("contract")["monthly_charges"]
            .to_list()
        )
        for seed in range(8)
    }
    assert len(means) > 1
