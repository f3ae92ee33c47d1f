"""The environment decides the resources: local delta-rs + SQLite MLflow, or Unity Catalog +
Databricks MLflow + the Databricks clients, for the same asset graph."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_assets.config.project import load_project
from mlops_assets.ml.tracking import model_version_url
from mlops_assets.resources.databricks import DatabricksServingResource
from mlops_assets.resources.factory import build_resources
from mlops_assets.resources.lakehouse import LakehouseResource, UnityCatalogLakehouseResource
from mlops_assets.resources.mlflow import MlflowResource
from mlops_assets.resources.serving import LocalServingResource
from mlops_assets.storage.lakehouse import LocalLakehouse, TableRef
from mlops_assets_tests.conftest import CONFIGS_DIR, REPO_ROOT

FAKE = {
    "DATABRICKS_HOST": "http://127.0.0.1:9",
    "DATABRICKS_TOKEN": "dapi-not-a-real-token",
    "MLOPS_CATALOG": "dev",
    "MLOPS_SCHEMA": "churn",
}


def _databricks_environ(data_dir: Path) -> dict[str, str]:
    return {**FAKE, "MLOPS_DATA_DIR": str(data_dir), "MLOPS_ENV": "databricks"}


def test_local_resources_share_one_lakehouse(data_dir: Path) -> None:
    project = load_project(CONFIGS_DIR, env="local", environ={"MLOPS_DATA_DIR": str(data_dir)})
    resources = build_resources(project)
    lakehouse = resources["lakehouse"]
    assert type(lakehouse) is LakehouseResource
    house = lakehouse.get()
    assert isinstance(house, LocalLakehouse)
    ref = TableRef(use_case="churn", layer="silver", name="customers")
    assert house.table_location(ref) == str(
        data_dir / "lakehouse" / "churn" / "silver" / "customers"
    )
    # the IO managers store where the resource says, not where they would decide themselves
    assert resources["lakehouse_io"].lakehouse.get().table_location(ref) == house.table_location(
        ref
    )
    assert resources["state_io"].lakehouse.data_dir == str(data_dir)
    assert isinstance(resources["serving"], LocalServingResource)  # mlflow models serve


def test_databricks_resources_name_unity_catalog_tables(data_dir: Path) -> None:
    project = load_project(CONFIGS_DIR, env="databricks", environ=_databricks_environ(data_dir))
    resources = build_resources(project)
    lakehouse = resources["lakehouse"]
    assert isinstance(lakehouse, UnityCatalogLakehouseResource)
    house = lakehouse.get()  # no session yet: names need no Spark
    ref = TableRef(use_case="churn", layer="silver", name="customers")
    assert house.table_location(ref) == "dev.churn.silver_customers"
    assert str(house.landing_dir("churn", "customers")).startswith("/Volumes/dev/churn/landing")
    assert resources["lakehouse_io"].lakehouse is lakehouse
    mlflow = resources["mlflow"]
    assert isinstance(mlflow, MlflowResource)
    assert (mlflow.tracking_uri, mlflow.registry_uri) == ("databricks", "databricks-uc")
    assert mlflow.settings("churn").experiment_name == "/Shared/mlops_assets/churn"
    assert {"databricks", "databricks_serving"} <= set(resources)
    # one serving interface for the endpoint asset: Model Serving here
    assert isinstance(resources["serving"], DatabricksServingResource)
    assert resources["serving"] is resources["databricks_serving"]


def test_databricks_metadata_links_open_the_workspace(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workspace URL (the host variable the config names; not a secret) is the base of the
    MLflow links in asset metadata; the token never is part of any link."""
    monkeypatch.setenv("DATABRICKS_HOST", "https://adb-42.7.azuredatabricks.net")
    project = load_project(CONFIGS_DIR, env="databricks", environ=_databricks_environ(data_dir))
    settings = build_resources(project)["mlflow"].settings("churn")
    assert settings.ui_url == "https://adb-42.7.azuredatabricks.net"
    url = model_version_url(settings, "churn_classifier", "4")
    assert url == (
        "https://adb-42.7.azuredatabricks.net/explore/data/models/dev/churn/churn_classifier/version/4"
    )
    assert "dapi" not in settings.model_dump_json()


def test_unity_catalog_lakehouse_needs_a_spark_connect_url(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlops_assets.errors import ConfigError

    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    resource = UnityCatalogLakehouseResource(
        data_dir=str(data_dir), catalog="dev", schema_name="churn"
    )
    with pytest.raises(ConfigError) as info:
        resource.session()
    assert "SPARK_REMOTE" in str(info.value) and info.value.fix


def test_the_databricks_code_location_loads_with_fake_credentials(data_dir: Path) -> None:
    """``MLOPS_ENV=databricks`` builds the same graph; no secret reaches the definitions."""
    script = (
        "import json, sys\n"
        "from mlops_assets.definitions import defs\n"
        "repo = defs.get_repository_def()\n"
        "print(json.dumps({'assets': sorted(k.to_user_string() for k in repo.assets_defs_by_key),"
        " 'resources': sorted(repo.get_top_level_resources()),"
        " 'heavy': sorted(m for m in ('mlflow', 'sklearn', 'evidently', 'pyspark', 'scipy',"
        " 'polars', 'numpy', 'narwhals') if m in sys.modules)}))\n"
    )
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("MLOPS_", "DATABRICKS_"))
    } | _databricks_environ(data_dir)
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", script],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert "churn/silver/customers" in loaded["assets"]
    assert "churn/monitoring/drift" in loaded["assets"]
    assert {"lakehouse", "lakehouse_io", "mlflow", "databricks"} <= set(loaded["resources"])
    assert loaded["heavy"] == []
    assert FAKE["DATABRICKS_TOKEN"] not in done.stdout + done.stderr
