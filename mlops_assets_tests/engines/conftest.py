"""Fixtures of the engine-parity tests: fault-injected bronze batches and one Spark per kind.

Fixture names start with ``engines_`` (the root conftest's names are shared by every folder).
"""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest

from mlops_assets.config.project import load_project
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.engines.spark import SparkKind
from mlops_assets_tests.conftest import CONFIGS_DIR

SPARK_KINDS: dict[str, SparkKind] = {"spark": "classic", "spark_connect": "connect"}


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``spark`` marker here too, so this folder runs under --strict-markers."""
    config.addinivalue_line("markers", "spark: starts a local Spark session (classic or Connect)")


@pytest.fixture(scope="session")
def engines_churn() -> UseCaseConfig:
    """The churn use case of the real ``configs/`` (only the transforms' config is used)."""
    environ = {"MLOPS_DATA_DIR": "/nonexistent", "MLOPS_ENV": "local"}
    return load_project(CONFIGS_DIR, environ=environ).use_case("churn")


@pytest.fixture(scope="session")
def engines_bronze(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pl.DataFrame]:
    """Bronze ``customers`` and ``labels`` of six simulated days, read as the landing reader does.

    Faults: 10% broken rows, 8% re-sent duplicates, and the last customers file cut mid-row.
    """
    from mlops_assets.simulate import SimulationConfig, simulate
    from mlops_assets.storage.landing import read_landing

    root = tmp_path_factory.mktemp("engines")
    config = SimulationConfig(
        days=6, rows_per_day=45, seed=23, bad_row_rate=0.1, duplicate_rate=0.08, label_delay_days=1
    )
    simulate(config, root)
    landing = root / "landing"
    days = sorted((landing / "churn" / "customers").iterdir())
    last = next(days[-1].iterdir())
    text = last.read_bytes().rstrip(b"\n")
    last.write_bytes(text[: len(text) - 40])  # a writer that died mid-row
    frames: dict[str, pl.DataFrame] = {}
    for dataset in ("customers", "labels"):
        parts = [
            read_landing(
                folder,
                landing,
                "csv",
                batch_id=f"batch-{folder.name}",
                ingested_at=datetime(2026, 2, 1, 3, tzinfo=UTC),
            ).frame
            for folder in sorted((landing / "churn" / dataset).iterdir())
        ]
        frames[dataset] = pl.concat(parts, how="diagonal_relaxed")
    return frames


@pytest.fixture(scope="session", params=list(SPARK_KINDS), ids=list(SPARK_KINDS))
def engines_spark(request: pytest.FixtureRequest) -> Iterator[tuple[str, Any]]:
    """(engine name, session): a classic local[2] session, then a local Spark Connect one.

    One session per kind per run; pytest runs every test of the first kind before the second
    starts (a local Spark Connect server lives inside a classic driver, so they cannot overlap).
    """
    from mlops_assets.engines.spark import get_spark, stop_spark

    name = str(request.param)
    session = get_spark(SPARK_KINDS[name])
    yield name, session
    stop_spark(session)
