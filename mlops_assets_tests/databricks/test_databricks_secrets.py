"""No secret leaks: recognisable credentials, real flows, and a scan of everything they produce.

The PAT and the OAuth client secret of the fake workspace are canaries. The serving flows (deploy,
a failed smoke test with rollback, a retry budget running out) and the Pipes flows (a step that
succeeds and one that fails) run against the fake; then every log record (DEBUG and up, SDK
included), the Dagster event log, materialization metadata, exceptions with their causes and
context, the resources' config, the process output, the Volume files a job could read and the
job's environment are searched for the canaries and their prefixes.
"""

import logging
import traceback
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from mlops_assets.errors import MLOpsError
from mlops_assets.ml.model_store import ModelVersionInfo
from mlops_assets.ml.tracking import MlflowSettings, configure
from mlops_assets.resources.databricks import (
    DatabricksResource,
    DatabricksServingResource,
)
from mlops_assets_tests.databricks.conftest import (
    CLIENT_ID_ENV,
    CLIENT_SECRET,
    CLIENT_SECRET_ENV,
    HOST_ENV,
    MODEL,
    TOKEN,
    TOKEN_ENV,
)
from mlops_assets_tests.databricks.fake_workspace import FakeWorkspace
from mlops_assets_tests.databricks.test_databricks_pipes import pipes_resource, profile_asset

pytestmark = pytest.mark.filterwarnings("ignore::dagster.PreviewWarning")
CANARIES = [TOKEN, CLIENT_SECRET, TOKEN[:8], CLIENT_SECRET[:8]]


def exception_text(exc: BaseException) -> str:
    parts = ["".join(traceback.format_exception(exc))]
    current: BaseException | None = exc
    while current is not None:
        parts.append(repr(current))
        if isinstance(current, MLOpsError):
            parts += [repr(current.context), str(current.fix)]
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


def serving_resource(auth_type: str, retry_timeout_s: float = 30) -> DatabricksServingResource:
    databricks = DatabricksResource(
        auth_type=auth_type,
        host_env=HOST_ENV,
        token_env=TOKEN_ENV,
        client_id_env=CLIENT_ID_ENV,
        client_secret_env=CLIENT_SECRET_ENV,
        retry_timeout_s=retry_timeout_s,
    )
    settings = '{"ready_timeout_s": 20, "poll_interval_s": 0.05, "smoke_rows": 3}'
    return DatabricksServingResource(databricks=databricks, settings_json=settings)


def test_no_secret_reaches_logs_metadata_errors_or_jobs(
    fake: FakeWorkspace,
    dbx_environ: dict[str, str],
    uc_store: MlflowSettings,
    served_models: list[ModelVersionInfo],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.serving.registry_uri = uc_store.tracking_uri
    configure(uc_store)  # the deployer reads the MLmodel through this process's MLflow
    produced: list[str] = []
    v1, v2 = served_models

    # Serving over OAuth M2M: a deployment, a failed smoke test that rolls back, a 429 budget.
    for auth_type in ("oauth-m2m", "pat"):
        resource = serving_resource(auth_type)
        produced.append(repr(resource) + repr(resource.databricks.model_dump()))
        produced.append(resource.deploy_version("churn", MODEL, v1.version).model_dump_json())
    fake.serving.answers[(MODEL, v2.version)] = "http_500"
    with pytest.raises(MLOpsError) as rolled_back:
        serving_resource("oauth-m2m").deploy_version("churn", MODEL, v2.version)
    produced.append(exception_text(rolled_back.value))
    fake.inject("GET", r"^/api/2\.0/serving-endpoints/", 429, times=None, retry_after=0.3)
    with pytest.raises(MLOpsError) as budget:
        serving_resource("pat", retry_timeout_s=1).deploy_version("churn", MODEL, v1.version)
    produced.append(exception_text(budget.value))
    fake.clear_faults()

    # Pipes: a step that succeeds and one that fails, with the Dagster event log.
    table = tmp_path / "table"
    pl.DataFrame({"a": [1, 2]}).write_delta(table)
    for path in (table, tmp_path / "missing"):
        with dg.instance_for_test() as instance:
            result = dg.materialize(
                [profile_asset(path)],
                resources={"databricks_pipes": pipes_resource("serverless")},
                instance=instance,
                raise_on_error=False,
            )
            produced += [repr(entry) for entry in instance.all_logs(result.run_id)]
        produced += [repr(event) for event in result.all_events]
    assert "rolled back" in rolled_back.value.message  # the flows did run
    assert "retry budget" in budget.value.message
    assert any("profiled 2 rows" in line for line in produced)

    # What a job could see: its environment, its output and every file in the Volume.
    for run in fake.jobs.runs.values():
        produced.append(repr(run.env) + " ".join(run.command))
        assert run.log_dir is not None
        produced += [p.read_text(errors="replace") for p in run.log_dir.iterdir()]
    produced += [
        p.read_text(errors="replace") for p in (fake.root / "fs").rglob("*") if p.is_file()
    ]
    produced += [record.getMessage() for record in caplog.records]
    out, err = capfd.readouterr()
    produced += [out, err]

    text = "\n".join(produced)
    assert len(text) > 10_000  # a real haystack
    leaks = [canary for canary in CANARIES if canary in text]
    assert leaks == [], f"secret material found in outputs: {[c[:4] + '...' for c in leaks]}"
