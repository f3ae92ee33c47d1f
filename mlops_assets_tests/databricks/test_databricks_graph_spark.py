"""The whole data graph on the Spark path: ``MLOPS_ENV=databricks`` Definitions over Spark Connect.

The code location's Definitions are built for the ``databricks`` environment (fake workspace
credentials; ``SPARK_REMOTE`` pointing at a real Spark Connect server with Delta Lake, Sail) and
the medallion and feature assets of the churn use case (bronze -> silver + quarantine -> gold ->
features -> training set) are materialized for one simulated day, reading the landing files from
the Volume folder the Unity Catalog lakehouse names (``<volume_root>/<catalog>/<schema>/landing``,
mapped to a local folder). The same graph then runs on the local environment (Polars + delta-rs)
and every table is compared row for row: rows sorted by every column, strings, integers and
timestamps exactly, floats within ``FLOAT_REL_TOL`` relative (both engines compute in IEEE
doubles; only the order of a sum may differ).
"""

import importlib
import operator
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg
import polars as pl
import pytest

from mlops_assets.build import build_definitions
from mlops_assets.config.environment import DatabricksEnvironment
from mlops_assets.config.project import ProjectConfig, load_project
from mlops_assets.storage.lakehouse import Lakehouse, TableRef
from mlops_assets.storage.tables import UseCaseTables
from mlops_assets_tests.conftest import CONFIGS_DIR
from mlops_assets_tests.engines.engines_helpers import assert_same_rows
from mlops_assets_tests.engines.sail_server import (
    SailServer,
    SailSettings,
    missing_reason,
    sail_executable,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = [pytest.mark.spark, pytest.mark.slow]

DAY = "2026-01-01"
CATALOG, SCHEMA = "dev", "churn"
FLOAT_REL_TOL = 1e-9
FLOAT_ABS_TOL = 1e-9
FAKE_CREDENTIALS = {"DATABRICKS_HOST": "http://127.0.0.1:9", "DATABRICKS_TOKEN": "dapi-fake"}


@pytest.fixture(scope="module")
def graph_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One simulated day of churn landing files (labels on the same day, a few broken rows)."""
    from mlops_assets.simulate import SimulationConfig, simulate

    root = tmp_path_factory.mktemp("graph-landing")
    config = SimulationConfig(days=1, rows_per_day=80, seed=5, label_delay_days=0, bad_row_rate=0.1)
    simulate(config, root)
    return root / "landing"


@pytest.fixture(scope="module")
def graph_spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, "SparkSession"]]:
    """A Sail server serving catalog ``dev`` schema ``churn``, and the process's session to it."""
    from mlops_assets.engines.spark import stop_spark
    from mlops_assets.resources.lakehouse import remote_session

    if sail_executable() is None:
        pytest.skip(missing_reason())
    settings = SailSettings(catalog=CATALOG, databases=[SCHEMA])
    with SailServer(tmp_path_factory.mktemp("graph-sail"), settings) as server:
        # the session the lakehouse resource will share, opened with an absolute warehouse
        session = remote_session(
            server.url, conf={"spark.sql.warehouse.dir": str(server.warehouse)}
        )
        yield server.url, session
        stop_spark(session)


def _without_try_divide(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sail lacks ``try_divide`` on floats (Databricks has it): narwhals' guarded division there
    uses plain ``/`` instead. The guard is unchanged (the divisor is never zero where ``/`` runs,
    zero divisors give NaN/inf as in Polars), so the values are the same."""
    utils = importlib.import_module("narwhals._spark_like.utils")
    original = utils.true_divide

    def plain_divide(functions: object, left: object, right: object) -> object:
        shim = type("NoTryDivide", (), {})()
        for name in ("lit", "when"):
            setattr(shim, name, getattr(functions, name))
        shim.try_divide = operator.truediv
        return original(shim, left, right)

    for module in ("narwhals._spark_like.expr", "narwhals._spark_like.namespace"):
        monkeypatch.setattr(importlib.import_module(module), "true_divide", plain_divide)


def _databricks_project(root: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> ProjectConfig:
    environ = {
        **FAKE_CREDENTIALS,
        "MLOPS_CATALOG": CATALOG,
        "MLOPS_SCHEMA": SCHEMA,
        "SPARK_REMOTE": url,
    }
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    project = load_project(CONFIGS_DIR, env="databricks", environ=environ)
    env = project.environment
    assert isinstance(env, DatabricksEnvironment)
    # the Volumes mapped to a local folder; scratch (locks, caches) in the test's folder
    local = env.model_copy(update={"volume_root": root / "Volumes", "data_dir": root / "scratch"})
    return project.model_copy(update={"environment": local})


def _local_project(root: Path) -> ProjectConfig:
    return load_project(CONFIGS_DIR, env="local", environ={"MLOPS_DATA_DIR": str(root)})


def _graph_keys(project: ProjectConfig) -> list[dg.AssetKey]:
    """Every medallion and feature asset of churn, and the training set."""
    refs = _tables(project)
    return [dg.AssetKey(list(ref.parts)) for ref in refs]


def _tables(project: ProjectConfig) -> list[TableRef]:
    uc = project.use_case("churn")
    t = UseCaseTables(uc)
    refs: list[TableRef] = []
    for ds in uc.datasets:
        refs += [t.bronze(ds.name), t.silver(ds.name), t.quarantine(ds.name)]
    refs += [t.gold(g.name) for g in uc.gold]
    refs += [t.features(f.name) for f in uc.feature_tables]
    refs.append(t.training_set)
    return refs


def _materialize(project: ProjectConfig, instance: dg.DagsterInstance) -> Lakehouse:
    """Load the environment's Definitions and run the data graph for DAY, then the training set."""
    defs = build_definitions(project)
    job = defs.resolve_implicit_global_asset_job_def()
    keys = _graph_keys(project)
    partitioned = [k for k in keys if k.path[-1] != "training_set"]
    unpartitioned = [k for k in keys if k.path[-1] == "training_set"]
    for selection, partition in ((partitioned, DAY), (unpartitioned, None)):
        result = job.execute_in_process(
            instance=instance, partition_key=partition, asset_selection=selection
        )
        assert result.success, [
            e.step_failure_data.error.to_string()
            for e in result.all_events
            if e.is_step_failure and e.step_failure_data.error is not None
        ]
    house = (defs.resources or {})["lakehouse"]
    return house.get()  # type: ignore[no-any-return]


def test_the_data_graph_on_spark_connect_equals_the_local_graph(
    tmp_path: Path,
    graph_landing: Path,
    graph_spark: tuple[str, "SparkSession"],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, _ = graph_spark
    _without_try_divide(monkeypatch)
    spark_project = _databricks_project(tmp_path / "dbx", url, monkeypatch)
    local_project = _local_project(tmp_path / "local")

    # landing files where each lakehouse looks for them (the Volume folder on Databricks)
    for project in (spark_project, local_project):
        house = _lakehouse(project)
        shutil.copytree(graph_landing / "churn", house.landing_dir("churn", "x").parent)
    with dg.DagsterInstance.ephemeral() as instance:
        spark_house = _materialize(spark_project, instance)
    with dg.DagsterInstance.ephemeral() as instance:
        local_house = _materialize(local_project, instance)

    assert type(spark_house).__name__ == "UnityCatalogLakehouse"
    compared = []
    for ref in _tables(spark_project):
        spark_location = spark_house.table_location(ref)
        assert spark_location.startswith(f"{CATALOG}.{SCHEMA}.")
        expected = _collect(local_house, local_house.table_location(ref))
        got = _collect(spark_house, spark_location)
        assert got.height == expected.height, ref.parts
        assert_same_rows(expected, got, rel_tol=FLOAT_REL_TOL, abs_tol=FLOAT_ABS_TOL)
        compared.append((".".join(ref.parts), got.height))
    # the comparison is not vacuous: the simulated day fills every table
    empty = [name for name, rows in compared if rows == 0 and "quarantine" not in name]
    assert empty == [], empty
    quarantine = ".".join(
        UseCaseTables(spark_project.use_case("churn")).quarantine("customers").parts
    )
    assert dict(compared)[quarantine] > 0, compared  # the broken rows took the quarantine path


def _lakehouse(project: ProjectConfig) -> Lakehouse:
    from mlops_assets.resources.factory import build_resources

    return build_resources(project)["lakehouse"].get()  # type: ignore[no-any-return]


def _collect(house: Lakehouse, location: str) -> pl.DataFrame:
    from mlops_assets.engines.frames import to_polars

    frame = to_polars(house.scan(location))
    internal = [c for c in frame.columns if c.startswith("_") and c != "_partition_date"]
    return frame.drop(internal) if internal else frame
