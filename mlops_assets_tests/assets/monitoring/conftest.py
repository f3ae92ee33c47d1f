"""Fixtures of the monitoring asset tests: the shared trained base, monitored on chosen days."""

from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from mlops_assets_tests.assets.ml.lifecycle_helpers import (
    TrainedBase,
    copy_base,
    defs_for,
    run_job,
    step_error,
    trained_base,
)

__all__ = ["trained_base"]

MONITORED_DAYS = (1, 5, 7, 9)
"""Day indexes monitored: before labels arrive (1), clean with labels (5), drifted (7, 9)."""


@dataclass(frozen=True)
class Monitored:
    """A copy of the base with the monitoring job run for some days."""

    data_dir: Path
    days: list[str]
    results: dict[str, dg.ExecuteInProcessResult]


@pytest.fixture(scope="session")
def monitored(trained_base: TrainedBase, tmp_path_factory: pytest.TempPathFactory) -> Monitored:
    """The monitoring job (drift + performance) run on :data:`MONITORED_DAYS` of a base copy."""
    data_dir = copy_base(trained_base, tmp_path_factory.mktemp("monitored"))
    defs = defs_for(data_dir)
    results = {}
    with dg.DagsterInstance.ephemeral() as instance:
        for index in MONITORED_DAYS:
            day = trained_base.days[index]
            result = run_job(defs, "churn_monitoring", instance, partition=day)
            assert result.success, (day, step_error(result))
            results[day] = result
    return Monitored(data_dir=data_dir, days=trained_base.days, results=results)
