"""`compute: pipes` in the graph: a feature table of the real project is computed remotely.

On a copy of the shared trained base, one day of ``customer_features`` is computed twice: by the
local ``feature_compute`` (the lakehouse IO manager writes the partition), then by the
Pipes-backed one (the fake workspace runs ``pipes_entry.py`` as a real subprocess that reads the
source partitions, computes with the same core and replaces the partition itself). Both must be
the same rows, the Pipes logs and metadata must come back, and a re-run must change nothing.
"""

from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
import pytest

from mlops_assets.build import build_use_case_definitions
from mlops_assets.resources.factory import BuildOptions, build_resources
from mlops_assets.resources.feature_compute import LocalFeatureCompute
from mlops_assets.resources.pipes_compute import PipesFeatureCompute
from mlops_assets_tests.assets.ml.lifecycle_helpers import (
    FEATURES_KEY,
    USE_CASE,
    TrainedBase,
    copy_base,
    metadata,
    project_for,
    read_lake,
    run_job,
    step_error,
    trained_base,
)
from mlops_assets_tests.databricks.fake_workspace import FakeWorkspace
from mlops_assets_tests.databricks.test_databricks_pipes import pipes_resource, run_logs
from mlops_assets_tests.databricks.test_databricks_scoring_pipes import differences

__all__ = ["trained_base"]

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::dagster.PreviewWarning")]
KEY = ["customer_id", "event_ts"]  # a table has no row order: rows are compared by key


def definitions(data_dir: Path, *, pipes: bool) -> dg.Definitions:
    """The churn use case with the environment's resources, features bound to Pipes or not."""
    project = project_for(data_dir)
    resources = build_resources(project, BuildOptions(keep_serving=False))
    assert isinstance(resources["feature_compute"], LocalFeatureCompute)  # local default
    if pipes:
        resources["feature_compute"] = PipesFeatureCompute(
            databricks_pipes=pipes_resource("serverless"), lakehouse=resources["lakehouse"]
        )
    return dg.Definitions.merge(
        build_use_case_definitions(project.use_case(USE_CASE)), dg.Definitions(resources=resources)
    )


def compute_day(data_dir: Path, day: str, *, pipes: bool) -> tuple[dict[str, Any], list[str]]:
    """Materialize the day's feature partition: the metadata and the run's logs."""
    with dg.instance_for_test() as instance:
        result = run_job(
            definitions(data_dir, pipes=pipes),
            "churn_ingestion",
            instance,
            partition=day,
            asset_selection=[FEATURES_KEY],
        )
        logs = run_logs(instance, result.run_id)
    assert result.success, step_error(result)
    return metadata(result, FEATURES_KEY), logs


def test_the_graph_computes_a_feature_partition_through_pipes_as_the_local_path_does(
    trained_base: TrainedBase,
    fake: FakeWorkspace,
    dbx_environ: dict[str, str],
    tmp_path: Path,
) -> None:
    data_dir = copy_base(trained_base, tmp_path)
    day, other = trained_base.days[8], trained_base.days[2]  # day 9: a full lookback behind it
    untouched = read_lake(data_dir, FEATURES_KEY, other)

    local_meta, _ = compute_day(data_dir, day, pipes=False)
    local = read_lake(data_dir, FEATURES_KEY, day).sort(KEY)
    remote_meta, logs = compute_day(data_dir, day, pipes=True)
    remote = read_lake(data_dir, FEATURES_KEY, day).sort(KEY)

    assert local.height > 0
    assert remote.equals(local), differences(remote, local)
    same = ["features", "entities", "dagster/row_count", "dagster/table_name", "location"]
    assert {k: remote_meta[k] for k in same} == {k: local_meta[k] for k in same}
    assert remote_meta["table_version"] == local_meta["table_version"] + 1
    assert set(local_meta) - set(remote_meta) == set(), set(local_meta) - set(remote_meta)
    assert "Databricks Job Run ID" in remote_meta
    assert any(f"computed {local.height} rows of customer_features" in x for x in logs), logs
    assert any("step features finished" in line for line in logs), logs

    # idempotent, and only the day's partition is replaced
    again_meta, _ = compute_day(data_dir, day, pipes=True)
    again = read_lake(data_dir, FEATURES_KEY, day).sort(KEY)
    assert again.equals(remote), differences(again, remote)
    assert again_meta["table_version"] == remote_meta["table_version"] + 1
    assert read_lake(data_dir, FEATURES_KEY, other).equals(untouched)
    assert pl.concat([read_lake(data_dir, FEATURES_KEY, d) for d in trained_base.days]).height == (
        read_lake(data_dir, FEATURES_KEY).height
    )
