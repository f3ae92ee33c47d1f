"""Where feature partitions are computed: the environment binds ``feature_compute``; what a
feature job reports is read back into the summary and the commit the asset records."""

from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from mlops_assets.config.project import load_project
from mlops_assets.errors import StorageError
from mlops_assets.resources.factory import build_resources
from mlops_assets.resources.feature_compute import (
    LocalFeatureCompute,
    read_report,
)
from mlops_assets.resources.pipes_compute import PipesFeatureCompute
from mlops_assets.storage.delta import write_table
from mlops_assets.transforms.feature_partition import FeatureSummary
from mlops_assets_tests.conftest import CONFIGS_DIR
from mlops_assets_tests.resources.test_resources_factory import FAKE


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ("local", LocalFeatureCompute),
        ("databricks", LocalFeatureCompute),  # compute: connect
        ("databricks-dev", PipesFeatureCompute),  # compute: pipes
    ],
)
def test_each_environment_binds_its_feature_compute(
    data_dir: Path, env: str, expected: type
) -> None:
    environ = {**FAKE, "MLOPS_DATA_DIR": str(data_dir)}
    resources = build_resources(load_project(CONFIGS_DIR, env=env, environ=environ))
    compute = resources["feature_compute"]
    assert type(compute) is expected
    if isinstance(compute, PipesFeatureCompute):
        assert compute.databricks_pipes is resources["databricks_pipes"]
        assert compute.lakehouse is resources["lakehouse"]


def test_a_feature_report_gives_the_summary_the_commit_and_the_rest(tmp_path: Path) -> None:
    frame = pl.DataFrame({"customer_id": ["a", "b"], "tenure": [3, None]})
    written = write_table(tmp_path / "features", frame, partitions=["2026-01-02"])
    url = dg.MetadataValue.url("https://example.com/run/7")
    entries = {
        "nulls": dg.MetadataValue.json({"tenure": 1}),
        "entities": dg.MetadataValue.int(2),
        "write": dg.MetadataValue.json(written.model_dump(mode="json")),
        "Databricks Job Run URL": url,
    }
    summary, commit, rest = read_report(entries)
    assert summary == FeatureSummary(nulls={"tenure": 1}, entities=2)
    assert commit == written and commit.rows_written == 2
    assert rest == {"Databricks Job Run URL": url}


@pytest.mark.parametrize("missing", ["entities", "write"])
def test_a_report_without_summary_or_commit_fails_naming_it(missing: str) -> None:
    entries: dict[str, object] = {
        "nulls": {"tenure": 0},
        "entities": 2,
        "write": {"path": "/t", "version": 1, "rows_written": 2},
    }
    del entries[missing]
    with pytest.raises(StorageError, match="no usable summary or commit") as caught:
        read_report(entries)
    assert caught.value.fix is not None and "features" in caught.value.fix
