"""Fixtures of the lifecycle asset tests: the shared trained base and copies retrained from it.

* ``trained_base`` (session): simulated, ingested, trained (v1 champion) and scored data root.
* ``promoted_copy`` (session): a copy where the same training set was trained again (enabled
  gates): the identical v2 ties v1, so it is promoted (min_improvement is 0).
* ``no_champion_copy`` (session): a copy with a fresh MLflow store whose first model was weak on
  purpose: rejected by the thresholds, so there is no champion.
"""

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from mlops_assets_tests.assets.ml.lifecycle_helpers import (
    CHAMPION_KEY,
    EVALUATION_KEY,
    MODEL_KEY,
    MODEL_OP,
    TrainedBase,
    copy_base,
    defs_for,
    metadata,
    run_job,
    step_error,
    trained_base,
)

__all__ = ["trained_base"]

WEAK_PARAMS = {"max_iter": 1, "learning_rate": 0.001, "min_samples_leaf": 100_000}
"""HistGradientBoosting with one tiny step of a tree that cannot split (no leaf can hold 100,000
of our rows): every row gets the prior, so ROC AUC is 0.5 and F1 is 0."""


@dataclass(frozen=True)
class Retrained:
    """A data root after one more training run, with that run's metadata."""

    data_dir: Path
    result: dg.ExecuteInProcessResult
    evaluation: dict[str, Any]
    champion: dict[str, Any]


def weak_run_config(reason: str = "") -> dict[str, Any]:
    """Launchpad config that overrides the estimator parameters with :data:`WEAK_PARAMS`."""
    return {"ops": {MODEL_OP: {"config": {"params": WEAK_PARAMS, "reason": reason}}}}


def retrain(
    data_dir: Path,
    *,
    rebuild_training_set: bool = False,
    run_config: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
) -> Retrained:
    """Run the training job on ``data_dir`` (by default on the stored training set)."""
    defs = defs_for(data_dir, env=env)
    selection = None if rebuild_training_set else [MODEL_KEY, EVALUATION_KEY, CHAMPION_KEY]
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_job(
            defs, "churn_training", instance, run_config=run_config, asset_selection=selection
        )
    assert result.success, step_error(result)
    return Retrained(
        data_dir=data_dir,
        result=result,
        evaluation=metadata(result, EVALUATION_KEY),
        champion=metadata(result, CHAMPION_KEY),
    )


@pytest.fixture(scope="session")
def promoted_copy(trained_base: TrainedBase, tmp_path_factory: pytest.TempPathFactory) -> Retrained:
    """v2, trained again on the same rows with the same seed, promoted over v1."""
    return retrain(copy_base(trained_base, tmp_path_factory.mktemp("promoted")))


@pytest.fixture(scope="session")
def no_champion_copy(
    trained_base: TrainedBase, tmp_path_factory: pytest.TempPathFactory
) -> Retrained:
    """The base's tables with a fresh MLflow store and a first model that fails the thresholds."""
    source = trained_base.data_dir
    data_dir = tmp_path_factory.mktemp("no_champion") / "data"
    fresh = {"mlflow", "state", "models", "serving", "locks"}
    shutil.copytree(
        source,
        data_dir,
        ignore=lambda d, names: [n for n in names if Path(d) == source and n in fresh],
    )
    return retrain(data_dir, run_config=weak_run_config("first model, weak on purpose"))


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    """A throw-away Dagster instance."""
    with dg.DagsterInstance.ephemeral() as inst:
        yield inst
