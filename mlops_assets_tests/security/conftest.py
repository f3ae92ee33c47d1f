"""A small local lifecycle run with a recognisable secret in every secret-bearing variable.

``secret_lifecycle`` (session): configs copied with a webhook and a Slack alert channel pointing at
a real local HTTP receiver; the Databricks variables set too (the local lifecycle must not touch
them, nor print them). Then, through the Dagster API on an on-disk instance: 3 days ingested, a
champion trained, a day scored, a weak retrain rejected by the gates (a ``gate_failed`` alert
delivered to both channels), and a day of drift monitoring on drifted data.
"""

import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import pytest

from mlops_assets_tests.assets.ml.lifecycle_helpers import (
    MODEL_OP,
    USE_CASE,
    defs_for,
    project_for,
    run_job,
    step_error,
)
from mlops_assets_tests.config.config_helpers import load_use_case, write_use_case
from mlops_assets_tests.conftest import CONFIGS_DIR
from mlops_assets_tests.monitoring.http_receiver import Receiver, serve

DAYS = 4
ROWS_PER_DAY = 300
WEAK_PARAMS = {"max_iter": 1, "learning_rate": 0.001, "min_samples_leaf": 100_000}


@dataclass
class SecretLifecycle:
    """Where the lifecycle ran, with which secrets, and what the CLI and receivers saw."""

    data_dir: Path
    configs: Path
    dagster_home: Path
    env: dict[str, str]
    secrets: dict[str, str]
    days: list[str]
    receiver: Receiver
    results: dict[str, dg.ExecuteInProcessResult] = field(default_factory=dict)


def canary_secrets(webhook_base: str) -> tuple[dict[str, str], dict[str, str]]:
    """(environment, the secret parts that must never appear anywhere)."""
    token = secrets.token_hex(12)
    values = {
        "webhook": f"whkCANARY{token}",
        "slack": f"xoxb-4242-CANARY-{secrets.token_hex(10)}",
        "databricks_token": f"dapiCANARY{secrets.token_hex(14)}",
        "client_secret": f"doseCANARY{secrets.token_hex(14)}",
    }
    env = {
        "MLOPS_ALERT_WEBHOOK_URL": f"{webhook_base}/hooks/T00/B00/{values['webhook']}",
        "SLACK_BOT_TOKEN": values["slack"],
        "DATABRICKS_HOST": "https://adb-0000000000000000.0.azuredatabricks.net",
        "DATABRICKS_TOKEN": values["databricks_token"],
        "DATABRICKS_CLIENT_ID": "00000000-0000-0000-0000-000000000000",
        "DATABRICKS_CLIENT_SECRET": values["client_secret"],
    }
    return env, values


def _configs_with_alerts(target: Path, receiver: Receiver) -> Path:
    configs = target / "configs"
    shutil.copytree(CONFIGS_DIR, configs)
    data = load_use_case(configs)
    data["monitoring"]["alerts"]["channels"] = [
        {"type": "webhook", "url_env": "MLOPS_ALERT_WEBHOOK_URL", "min_severity": "info"},
        {
            "type": "slack",
            "channel": "#ml-alerts",
            "token_env": "SLACK_BOT_TOKEN",
            "api_base_url": receiver.url("/slack/"),
            "min_severity": "info",
        },
    ]
    write_use_case(configs, data)
    return configs


def _simulate(data_dir: Path, configs: Path) -> list[str]:
    from datetime import timedelta

    from mlops_assets.cli.demo_drift import DEFAULT_DRIFT
    from mlops_assets.simulate import SimulationConfig, simulate
    from mlops_assets.simulate.cli import parse_drift

    uc = project_for(data_dir, configs).use_case(USE_CASE)
    config = SimulationConfig(
        start_date=uc.start_date,
        days=DAYS,
        rows_per_day=ROWS_PER_DAY,
        label_delay_days=0,
        drift=[parse_drift(spec.format(day=DAYS)) for spec in DEFAULT_DRIFT],
        use_case=USE_CASE,
    )
    simulate(config, data_dir, uc)
    return [(uc.start_date + timedelta(days=i)).isoformat() for i in range(DAYS)]


def _run(
    life: SecretLifecycle, instance: dg.DagsterInstance, label: str, job: str, **kwargs: object
) -> dg.ExecuteInProcessResult:
    defs = defs_for(life.data_dir, configs=life.configs)
    result = run_job(defs, job, instance, **kwargs)  # type: ignore[arg-type]
    assert result.success, (label, step_error(result))
    life.results[label] = result
    return result


@pytest.fixture(scope="session")
def secret_lifecycle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecretLifecycle]:
    root = tmp_path_factory.mktemp("secret_lifecycle")
    with serve() as receiver, pytest.MonkeyPatch.context() as patch:
        env, values = canary_secrets(receiver.url("").rstrip("/"))
        for key, value in env.items():
            patch.setenv(key, value)
        home = root / "dagster_home"
        home.mkdir()
        patch.setenv("DAGSTER_HOME", str(home))
        life = SecretLifecycle(
            data_dir=root / "data",
            configs=_configs_with_alerts(root, receiver),
            dagster_home=home,
            env=env,
            secrets=values,
            days=[],
            receiver=receiver,
        )
        life.days = _simulate(life.data_dir, life.configs)
        with dg.DagsterInstance.from_config(str(home)) as instance:
            for day in life.days[:-1]:
                _run(life, instance, f"ingest {day}", f"{USE_CASE}_ingestion", partition=day)
            _run(life, instance, "train", f"{USE_CASE}_training")
            _run(life, instance, "ingest last", f"{USE_CASE}_ingestion", partition=life.days[-1])
            _run(
                life,
                instance,
                "score",
                f"{USE_CASE}_batch_inference",
                partition=life.days[-1],
            )
            weak = {"ops": {MODEL_OP: {"config": {"params": WEAK_PARAMS, "reason": "canary"}}}}
            _run(life, instance, "weak retrain", f"{USE_CASE}_training", run_config=weak)
            _run(life, instance, "monitor", f"{USE_CASE}_monitoring", partition=life.days[-1])
        yield life
