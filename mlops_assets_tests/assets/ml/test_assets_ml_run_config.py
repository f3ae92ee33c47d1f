"""Run configuration on real lifecycle runs: a non-default value changes the run and is recorded."""

from pathlib import Path

import dagster as dg
import pytest

from mlops_assets_tests.assets.ml.conftest import Retrained
from mlops_assets_tests.assets.ml.lifecycle_helpers import (
    DRIFT_KEY,
    PREDICTIONS_KEY,
    copy_data_dir,
    defs_for,
    metadata,
    read_lake,
    run_job,
    step_error,
)

INFERENCE_OP = "churn__inference__predictions"
DRIFT_OP = "churn__monitoring__drift"


@pytest.fixture(scope="module")
def two_versions(promoted_copy: Retrained, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy where v2 is the champion and v1 still exists."""
    assert promoted_copy.champion["champion_version"] == "2"
    return copy_data_dir(promoted_copy.data_dir, tmp_path_factory.mktemp("run_config"))


def test_inference_scores_with_the_version_the_run_asks_for(two_versions: Path) -> None:
    defs = defs_for(two_versions)
    day = sorted(p.name for p in (two_versions / "landing").rglob("20*") if p.is_dir())[-1]
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_job(
            defs,
            "churn_batch_inference",
            instance,
            partition=day,
            run_config={"ops": {INFERENCE_OP: {"config": {"version": "1"}}}},
        )
    assert result.success, step_error(result)
    scored = read_lake(two_versions, PREDICTIONS_KEY, day)
    assert set(scored["model_version"].cast(str)) == {"1"}  # not the champion, v2
    meta = metadata(result, PREDICTIONS_KEY)
    assert meta["model_version"] == 1
    assert meta["run_config/version"] == "1"


def test_drift_judges_against_the_requested_version_and_share(two_versions: Path) -> None:
    defs = defs_for(two_versions)
    day = sorted(p.name for p in (two_versions / "landing").rglob("20*") if p.is_dir())[-1]
    config = {"model_version": "1", "drift_share": 0.99}
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_job(
            defs,
            "churn_monitoring",
            instance,
            partition=day,
            run_config={"ops": {DRIFT_OP: {"config": config}}},
            asset_selection=[DRIFT_KEY],
        )
    assert result.success, step_error(result)
    meta = metadata(result, DRIFT_KEY)
    assert meta["model_version"] == 1
    assert meta["run_config/drift_share"] == "0.99"
    assert meta["run_config/model_version"] == "1"
    row = read_lake(two_versions, DRIFT_KEY, day).row(0, named=True)
    assert row["dataset_drift"] == (row["drift_share"] >= 0.99)
