"""A recognisable secret in every secret-bearing variable never appears anywhere we write.

The lifecycle of ``secret_lifecycle`` ran with canary secrets (alert webhook URL, Slack token,
Databricks token and client secret). Scanned afterwards: every file the run left (Dagster's
event log storage and run storage, MLflow's store and artifacts, JSON state, reports, server
logs), every Delta table decoded row by row, Dagster's event log and all asset metadata through
the API, MLflow's params, tags, metrics and descriptions through its client, the alert bodies the
receivers got, and the output and error messages of CLI commands run with the same environment.
"""

import json
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from mlops_assets_tests.conftest import REPO_ROOT
from mlops_assets_tests.security.conftest import SecretLifecycle

# the shared lifecycle is built by the first test that asks (minutes on a loaded 2-core machine)
pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]


def _leaks(text: str, life: SecretLifecycle) -> list[str]:
    return [name for name, value in life.secrets.items() if value in text]


def _scan(where: str, texts: Iterable[str], life: SecretLifecycle) -> int:
    count = 0
    for text in texts:
        count += 1
        found = _leaks(text, life)
        assert not found, f"{found} leaked into {where}: ...{text[:300]}..."
    return count


def _file_texts(root: Path) -> Iterable[str]:
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        if path.suffix == ".parquet":
            frame = pl.read_parquet(path)
            yield f"{path}: " + frame.cast(pl.String, strict=False).write_csv()
        yield f"{path}: " + path.read_bytes().decode("latin-1")


def test_no_file_the_lifecycle_wrote_holds_a_secret(secret_lifecycle: SecretLifecycle) -> None:
    life = secret_lifecycle
    scanned = _scan("files", _file_texts(life.data_dir), life)
    scanned += _scan("Dagster storage files", _file_texts(life.dagster_home), life)
    assert scanned > 100, scanned  # the run really wrote: tables, MLflow store, event log
    assert any(p.suffix == ".db" for p in life.dagster_home.rglob("*"))  # on-disk event log


def test_every_delta_table_is_clean_row_by_row(secret_lifecycle: SecretLifecycle) -> None:
    from mlops_assets.storage.delta import read_table

    life = secret_lifecycle
    lake = life.data_dir / "lakehouse"
    tables = [log.parent for log in lake.rglob("_delta_log") if "_staging" not in log.parts]
    assert len(tables) >= 10, tables
    for table in tables:
        frame = read_table(table)
        _scan(f"table {table}", [frame.cast(pl.String, strict=False).write_csv()], life)


def test_event_log_and_asset_metadata_are_clean(secret_lifecycle: SecretLifecycle) -> None:
    life = secret_lifecycle
    with dg.DagsterInstance.from_config(str(life.dagster_home)) as instance:
        runs = instance.get_runs()
        assert len(runs) == len(life.results)
        events = [str(e) for run in runs for e in instance.all_logs(run.run_id)]
        _scan("the Dagster event log", events, life)
        _scan(
            "run tags and config",
            [json.dumps([r.tags, r.run_config], default=str) for r in runs],
            life,
        )
    metadata = [
        str(m.materialization.metadata)
        for result in life.results.values()
        for m in result.get_asset_materialization_events()
    ]
    assert len(metadata) > 20
    _scan("asset metadata", metadata, life)


def test_mlflow_params_tags_metrics_and_versions_are_clean(
    secret_lifecycle: SecretLifecycle,
) -> None:
    import mlflow

    life = secret_lifecycle
    store = f"sqlite:///{life.data_dir / 'mlflow' / 'mlflow.db'}"
    client = mlflow.MlflowClient(store, store)
    runs = [r for e in client.search_experiments() for r in client.search_runs([e.experiment_id])]
    assert len(runs) >= 3
    _scan(
        "MLflow runs",
        [json.dumps([r.data.params, r.data.tags, list(r.data.metrics)]) for r in runs],
        life,
    )
    versions = client.search_model_versions()
    assert len(versions) >= 2
    _scan("model versions", [json.dumps([v.tags, v.description, v.source]) for v in versions], life)


def test_alerts_were_delivered_without_the_secret_in_their_bodies(
    secret_lifecycle: SecretLifecycle,
) -> None:
    life = secret_lifecycle
    paths = [path for path, _, _ in life.receiver.requests]
    assert any(p.startswith("/hooks/") for p in paths), paths  # the webhook got the alert
    assert any(p.startswith("/slack/") for p in paths), paths  # and Slack did
    # the canaries were live: the receivers got them where they belong (URL path, auth header)
    assert any(life.secrets["webhook"] in p for p in paths)
    headers = [h.get("Authorization", "") for _, h, _ in life.receiver.requests]
    assert f"Bearer {life.secrets['slack']}" in headers
    _scan(
        "alert bodies",
        [body.decode("utf-8", "replace") for _, _, body in life.receiver.requests],
        life,
    )


@pytest.mark.parametrize(
    "args",
    [["validate"], ["serve", "--use-case", "churn", "--version", "999"], ["config", "show"]],
    ids=["validate", "serve-a-missing-version", "config-show"],
)
def test_cli_output_and_errors_are_clean(
    secret_lifecycle: SecretLifecycle, args: list[str]
) -> None:
    life = secret_lifecycle
    env = {
        **os.environ,
        **life.env,
        "MLOPS_DATA_DIR": str(life.data_dir),
        "MLOPS_CONFIG_DIR": str(life.configs),
        "DAGSTER_HOME": str(life.dagster_home),
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
    done = subprocess.run(
        [sys.executable, "-m", "mlops_assets.cli", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = done.stdout + done.stderr
    assert output.strip(), args  # it said something (an answer or an error)
    _scan(f"`mlops-assets {' '.join(args)}`", [output], life)
