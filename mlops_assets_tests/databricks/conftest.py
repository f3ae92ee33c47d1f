"""Fixtures of the Databricks tests: a fake workspace on loopback and a real MLflow registry.

* ``fake``: a :class:`FakeWorkspace` on a free port, stopped (and its job processes killed) at
  teardown; it accepts the PAT ``TOKEN`` and the OAuth client ``CLIENT_ID``/``CLIENT_SECRET``.
* ``dbx_environ``: the process environment holding those credentials under the variable NAMES
  the tests configure (``TEST_DBX_*``), like a deployment would.
* ``uc_store``: a migrated SQLite MLflow store per session, where models get three-level names.
* ``served_models``: two real versions of ``dev.churn.churn_model`` trained once per session.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlops_assets.databricks.auth import AuthSettings
from mlops_assets.ml.model_store import ModelVersionInfo
from mlops_assets.ml.tracking import MlflowSettings
from mlops_assets_tests.databricks.fake_workspace import FakeWorkspace

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("OMP_NUM_THREADS", "1")  # as `make test` sets it: no OpenMP busy-waiting

TOKEN = "dapi-CANARY-7f3e9a1b2c4d5e6f"  # recognisable: tests scan outputs for it
CLIENT_ID = "sp-client-0001"
CLIENT_SECRET = "dose-CANARY-SECRET-b8c7d6e5f4"
HOST_ENV, TOKEN_ENV = "TEST_DBX_HOST", "TEST_DBX_TOKEN"
CLIENT_ID_ENV, CLIENT_SECRET_ENV = "TEST_DBX_CLIENT_ID", "TEST_DBX_CLIENT_SECRET"
MODEL = "dev.churn.churn_model"


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeWorkspace]:
    workspace = FakeWorkspace(
        tmp_path / "workspace", token=TOKEN, client_id=CLIENT_ID, client_secret=CLIENT_SECRET
    ).start()
    workspace.job_env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    try:
        yield workspace
    finally:
        workspace.stop()


@pytest.fixture
def dbx_environ(fake: FakeWorkspace, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        HOST_ENV: fake.host,
        TOKEN_ENV: TOKEN,
        CLIENT_ID_ENV: CLIENT_ID,
        CLIENT_SECRET_ENV: CLIENT_SECRET,
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


def auth_settings(auth_type: str = "pat", retry_timeout_s: float = 30.0) -> AuthSettings:
    return AuthSettings(
        auth_type=auth_type,
        host_env=HOST_ENV,
        token_env=TOKEN_ENV,
        client_id_env=CLIENT_ID_ENV,
        client_secret_env=CLIENT_SECRET_ENV,
        retry_timeout_s=retry_timeout_s,
        http_timeout_s=10.0,
    )


@pytest.fixture(scope="session")
def uc_store(tmp_path_factory: pytest.TempPathFactory) -> MlflowSettings:
    """A SQLite tracking + registry store (the local stand-in for ``databricks-uc``)."""
    from mlops_assets.ml.tracking import configure

    root = tmp_path_factory.mktemp("uc-mlflow")
    settings = MlflowSettings(
        tracking_uri=f"sqlite:///{root / 'mlflow.db'}",
        experiment_name="/Shared/mlops_assets/tests",
        artifact_location=(root / "artifacts").as_uri(),
    )
    configure(settings)
    return settings


@pytest.fixture(scope="session")
def served_models(uc_store: MlflowSettings) -> list[ModelVersionInfo]:
    """Two registered versions of ``dev.churn.churn_model`` (logistic regressions)."""
    from mlops_assets.ml.model_store import log_and_register
    from mlops_assets.ml.split import split_frame
    from mlops_assets.ml.tracking import RunTags, start_run
    from mlops_assets.ml.training import train_model
    from mlops_assets_tests.ml.conftest import make_churn_frame, model_config

    splits = split_frame(make_churn_frame(600), "customer_id", model_config().split)
    flavors = [
        {
            "type": "sklearn",
            "estimator": "sklearn.linear_model.LogisticRegression",
            "params": {"max_iter": 200, "C": c},
        }
        for c in (1.0, 0.05)
    ]
    versions = []
    for flavor in flavors:
        config = model_config(flavor=flavor)
        tags = RunTags(dagster_run_id="test", asset_key="churn/models/churn_model")
        with start_run(uc_store, "train", tags):
            result = train_model(splits["train"], splits["validation"], config)
            versions.append(
                log_and_register(
                    result, config, uc_store, splits["train"].head(5), registered_name=MODEL
                )
            )
    return versions
