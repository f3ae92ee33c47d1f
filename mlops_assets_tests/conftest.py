"""Shared fixtures: an isolated data root, the real project config, simulated landing files.

Fixture names are specific on purpose (this file is the root conftest of every test folder).
"""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from mlops_assets.config.loader import project_root
from mlops_assets.config.project import ProjectConfig, load_project

if TYPE_CHECKING:
    import dagster as dg

REPO_ROOT = project_root()
CONFIGS_DIR = REPO_ROOT / "configs"
SIMULATED_DAYS = ("2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04")
SIMULATED_ROWS_PER_DAY = 120


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """An empty data root (``MLOPS_DATA_DIR``) for one test."""
    root = tmp_path / "data"
    root.mkdir()
    return root


@pytest.fixture
def mlops_env(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> dict[str, str]:
    """The process environment with MLOPS_DATA_DIR at ``data_dir`` and no environment override."""
    monkeypatch.setenv("MLOPS_DATA_DIR", str(data_dir))
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.delenv("MLOPS_ENV", raising=False)
    monkeypatch.delenv("MLOPS_CONFIG_DIR", raising=False)
    return dict(os.environ)


@pytest.fixture
def project(mlops_env: dict[str, str]) -> ProjectConfig:
    """The real ``configs/`` loaded for the local environment, data under ``data_dir``."""
    return load_project(CONFIGS_DIR, environ=mlops_env)


@pytest.fixture
def configs_copy(tmp_path: Path) -> Path:
    """A writable copy of ``configs/`` (without the generated JSON Schemas) to break on purpose."""
    target = tmp_path / "configs"
    shutil.copytree(CONFIGS_DIR, target, ignore=shutil.ignore_patterns("schema"))
    return target


@pytest.fixture(scope="session")
def simulated_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Landing files of four simulated days (labels arrive three days late), written once."""
    from mlops_assets.simulate import SimulationConfig, simulate

    root = tmp_path_factory.mktemp("simulated")
    simulate(
        SimulationConfig(days=len(SIMULATED_DAYS), rows_per_day=SIMULATED_ROWS_PER_DAY, seed=11),
        root,
    )
    return root / "landing"


@pytest.fixture
def landed_data_dir(data_dir: Path, simulated_landing: Path) -> Iterator[Path]:
    """``data_dir`` holding a private copy of the simulated landing files."""
    shutil.copytree(simulated_landing, data_dir / "landing")
    yield data_dir


@pytest.fixture(scope="session")
def clean_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Landing files of two simulated days with no faults and no duplicates (40 rows a day)."""
    from mlops_assets.simulate import SimulationConfig, simulate

    root = tmp_path_factory.mktemp("clean")
    config = SimulationConfig(days=2, rows_per_day=40, seed=3, bad_row_rate=0, duplicate_rate=0)
    simulate(config, root)
    return root / "landing"


@pytest.fixture
def clean_data_dir(data_dir: Path, clean_landing: Path) -> Path:
    """``data_dir`` holding a private copy of the fault-free landing files."""
    shutil.copytree(clean_landing, data_dir / "landing")
    return data_dir


@pytest.fixture
def dagster_instance() -> Iterator["dg.DagsterInstance"]:
    """A throw-away in-memory Dagster instance."""
    import dagster as dg

    with dg.DagsterInstance.ephemeral() as instance:
        yield instance


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slowest test files first (measured; see :mod:`mlops_assets_tests.scheduling`)."""
    from mlops_assets_tests.scheduling import load_durations, slowest_first

    files = [item.nodeid.split("::", 1)[0] for item in items]
    order = slowest_first(files, load_durations())
    items[:] = [items[i] for i in order]
