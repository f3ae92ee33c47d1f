"""Where batch scoring runs: the environment binds ``scoring_compute``; what a scoring job
reports is read back into the summary and the commit the asset records."""

from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from mlops_assets.config.project import load_project
from mlops_assets.errors import StorageError
from mlops_assets.ml.batch import ScoringSummary
from mlops_assets.resources.factory import build_resources
from mlops_assets.resources.pipes_compute import PipesScoringCompute
from mlops_assets.resources.scoring_compute import (
    LocalScoringCompute,
    read_report,
)
from mlops_assets.storage.delta import write_table
from mlops_assets_tests.conftest import CONFIGS_DIR
from mlops_assets_tests.resources.test_resources_factory import FAKE


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ("local", LocalScoringCompute),
        ("databricks", LocalScoringCompute),  # compute: connect
        ("databricks-dev", PipesScoringCompute),  # compute: pipes
    ],
)
def test_each_environment_binds_its_scoring_compute(
    data_dir: Path, env: str, expected: type
) -> None:
    environ = {**FAKE, "MLOPS_DATA_DIR": str(data_dir)}
    resources = build_resources(load_project(CONFIGS_DIR, env=env, environ=environ))
    compute = resources["scoring_compute"]
    assert type(compute) is expected
    if isinstance(compute, PipesScoringCompute):
        assert compute.databricks_pipes is resources["databricks_pipes"]
        assert compute.lakehouse is resources["lakehouse"]


def test_a_scoring_report_gives_the_summary_the_commit_and_the_rest(tmp_path: Path) -> None:
    frame = pl.DataFrame({"customer_id": ["a", "b", "c"], "probability": [0.1, 0.7, 0.4]})
    written = write_table(tmp_path / "predictions", frame, partitions=["2026-01-02"])
    summary = ScoringSummary(
        rows=3, model_version=4, mean_probability=0.4, positive_rate=1 / 3, scoring_batches=2
    )
    url = dg.MetadataValue.url("https://example.com/run/7")
    entries = {
        "rows": dg.MetadataValue.int(3),
        "model_version": dg.MetadataValue.int(4),
        "mean_probability": dg.MetadataValue.float(0.4),
        "positive_rate": dg.MetadataValue.float(1 / 3),
        "scoring_batches": 2,
        "write": dg.MetadataValue.json(written.model_dump(mode="json")),
        "Databricks Job Run URL": url,
        "model_uri": "models:/m/4",
    }
    got, commit, rest = read_report(entries)
    assert got == summary
    assert commit == written and commit.partitions == ["2026-01-02"] and commit.rows_written == 3
    assert rest == {"Databricks Job Run URL": url, "model_uri": "models:/m/4"}


@pytest.mark.parametrize("missing", ["rows", "write"])
def test_a_report_without_summary_or_commit_fails_naming_it(missing: str) -> None:
    entries = {
        "rows": 3,
        "model_version": 1,
        "mean_probability": 0.5,
        "positive_rate": 0.5,
        "scoring_batches": 1,
        "write": {"path": "/t", "version": 1, "rows_written": 3},
    }
    del entries[missing]
    with pytest.raises(StorageError, match="no usable summary or commit") as caught:
        read_report(entries)
    assert caught.value.fix is not None and "score" in caught.value.fix
    assert missing not in str(caught.value.context["reported"])
