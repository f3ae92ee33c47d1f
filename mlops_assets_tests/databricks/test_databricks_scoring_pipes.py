"""`compute: pipes` in the graph: the batch inference asset of the real project scores remotely.

On a copy of the shared trained base, one day is scored twice: by the local
``scoring_compute`` (the lakehouse IO manager writes the partition), then by the Pipes-backed one
(the fake workspace runs ``pipes_entry.py`` as a real subprocess, which scores with the same core
and replaces the partition itself; the IO manager writes nothing). Both partitions must be the
same rows, the Pipes logs and metadata must come back, and a re-run must change nothing.
"""

from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
import pytest

from mlops_assets.assets.keys import op_name
from mlops_assets.build import build_use_case_definitions
from mlops_assets.ml.batch import MODEL_LOADS
from mlops_assets.resources.factory import BuildOptions, build_resources
from mlops_assets.resources.pipes_compute import PipesScoringCompute
from mlops_assets.resources.scoring_compute import LocalScoringCompute
from mlops_assets.storage.delta import PARTITIONS_KEY, RUN_ID_KEY
from mlops_assets_tests.assets.ml.lifecycle_helpers import (
    FEATURES_KEY,
    MODEL,
    PREDICTIONS_KEY,
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

__all__ = ["trained_base"]

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::dagster.PreviewWarning")]
BATCH_SIZE = 150
RUN_CONFIG = {"ops": {op_name(PREDICTIONS_KEY): {"config": {"batch_size": BATCH_SIZE}}}}
STAMP = "scored_at"  # when the rows were scored: the one column that differs between runs
KEY = ["customer_id", "event_ts"]  # a table has no row order: rows are compared by key


def definitions(data_dir: Path, *, pipes: bool) -> dg.Definitions:
    """The churn use case with the environment's resources, scoring bound to Pipes or not."""
    project = project_for(data_dir)
    resources = build_resources(project, BuildOptions(keep_serving=False))
    assert isinstance(resources["scoring_compute"], LocalScoringCompute)  # local default
    if pipes:
        resources["scoring_compute"] = PipesScoringCompute(
            databricks_pipes=pipes_resource("serverless"), lakehouse=resources["lakehouse"]
        )
    return dg.Definitions.merge(
        build_use_case_definitions(project.use_case(USE_CASE)), dg.Definitions(resources=resources)
    )


def score_day(data_dir: Path, day: str, *, pipes: bool) -> tuple[dict[str, Any], list[str]]:
    """Score ``day`` (batch size :data:`BATCH_SIZE`): the materialization metadata and the logs."""
    with dg.instance_for_test() as instance:
        result = run_job(
            definitions(data_dir, pipes=pipes),
            "churn_batch_inference",
            instance,
            partition=day,
            run_config=RUN_CONFIG,
        )
        logs = run_logs(instance, result.run_id)
    assert result.success, step_error(result)
    return {**metadata(result, PREDICTIONS_KEY), "run_id": result.run_id}, logs


def rows(frame: pl.DataFrame) -> pl.DataFrame:
    """A predictions partition without its scoring instant, in key order."""
    return frame.drop(STAMP).sort(KEY)


def differences(a: pl.DataFrame, b: pl.DataFrame) -> dict[str, object]:
    """Where two predictions partitions differ (the assertion message): per column, how many
    rows, and the schemas when they differ."""
    if a.schema != b.schema or a.height != b.height:
        return {"schema": (a.schema, b.schema), "rows": (a.height, b.height)}
    return {c: int((a[c].ne_missing(b[c])).sum()) for c in a.columns if not a[c].equals(b[c])}


def last_commit(data_dir: Path) -> dict[str, Any]:
    from deltalake import DeltaTable

    table = DeltaTable(str(data_dir.joinpath("lakehouse", *PREDICTIONS_KEY.path)))
    commit: dict[str, Any] = table.history(1)[0]
    return commit


def test_the_graph_scores_a_day_through_pipes_as_the_local_path_does(
    trained_base: TrainedBase,
    fake: FakeWorkspace,
    dbx_environ: dict[str, str],
    tmp_path: Path,
) -> None:
    data_dir = copy_base(trained_base, tmp_path)
    day, other = trained_base.days[4], trained_base.days[5]
    untouched = read_lake(data_dir, PREDICTIONS_KEY, other)
    n = read_lake(data_dir, FEATURES_KEY, day).height
    batches = -(-n // BATCH_SIZE)
    assert batches > 1, n  # the batch size of the run config reaches the remote job

    local_meta, _ = score_day(data_dir, day, pipes=False)
    local = read_lake(data_dir, PREDICTIONS_KEY, day)
    loads = dict(MODEL_LOADS)
    remote_meta, logs = score_day(data_dir, day, pipes=True)
    remote = read_lake(data_dir, PREDICTIONS_KEY, day)

    # the job scored (this process loaded no model) and wrote the partition: the same rows
    assert dict(MODEL_LOADS) == loads
    assert remote.height == local.height == n
    assert rows(remote).equals(rows(local)), differences(rows(remote), rows(local))
    assert remote[STAMP].n_unique() == 1 and remote[STAMP][0] > local[STAMP][0]
    assert remote["model_name"].unique().to_list() == [MODEL]
    commit = last_commit(data_dir)
    assert commit[RUN_ID_KEY] == remote_meta["run_id"] and commit[PARTITIONS_KEY] == day

    # the same metadata as the local run (the summary and the commit), plus the job's own
    assert remote_meta["scoring_batches"] == local_meta["scoring_batches"] == batches
    same = ["model_version", "mean_probability", "positive_rate", "dagster/row_count"]
    assert {k: remote_meta[k] for k in same} == {k: local_meta[k] for k in same}
    assert remote_meta["dagster/row_count"] == n and remote_meta["model_version"] == 1
    assert remote_meta["table_version"] == local_meta["table_version"] + 1
    assert remote_meta["dagster/table_name"] == local_meta["dagster/table_name"]
    assert remote_meta["location"] == local_meta["location"]
    assert set(local_meta) - set(remote_meta) == set(), set(local_meta) - set(remote_meta)
    assert "Databricks Job Run ID" in remote_meta
    assert any(f"scored {n} rows with models:/{MODEL}/1" in line for line in logs), logs
    assert any("step score finished" in line for line in logs), logs

    # idempotent: the partition scored again is the same rows; the other days are untouched
    again_meta, _ = score_day(data_dir, day, pipes=True)
    again = read_lake(data_dir, PREDICTIONS_KEY, day)
    assert rows(again).equals(rows(remote)), differences(rows(again), rows(remote))
    assert again_meta["table_version"] == remote_meta["table_version"] + 1
    assert read_lake(data_dir, PREDICTIONS_KEY, other).equals(untouched)
    whole = read_lake(data_dir, PREDICTIONS_KEY)
    assert whole.height == sum(
        read_lake(data_dir, FEATURES_KEY, d).height for d in trained_base.days
    )
