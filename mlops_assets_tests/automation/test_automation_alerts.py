"""Alerts delivered to a real local webhook receiver; the URL (a secret) never shows anywhere."""

import http.server
import json
import logging
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from mlops_assets.resources.alerts import AlertsResource
from mlops_assets_tests.assets.ml.conftest import weak_run_config
from mlops_assets_tests.assets.ml.lifecycle_helpers import (
    CHAMPION_KEY,
    DRIFT_FROM,
    DRIFT_KEY,
    EVALUATION_KEY,
    MODEL,
    MODEL_KEY,
    TrainedBase,
    copy_base,
    defs_for,
    metadata,
    run_job,
    step_error,
    trained_base,
)
from mlops_assets_tests.assets.monitoring.monitoring_tables import (
    tick,
    write_windows,
)
from mlops_assets_tests.conftest import CONFIGS_DIR

__all__ = ["trained_base"]

URL_ENV = "MLOPS_TEST_ALERT_WEBHOOK"
TOKEN = "T0ken-s3cret-path-4f9c"
KEY = "k3y-s3cret-query-81ab"
OVERLAY = f"""\
monitoring:
  alerts:
    channels:
      - {{type: webhook, url_env: {URL_ENV}, min_severity: info, timeout_s: 5}}
    events: [drift, performance, gate_failed, run_failed, retrain_started]
"""


@dataclass
class Receiver:
    """What the local webhook received, and the status it answers with."""

    url: str = ""
    status: int = 200
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def payloads(self, event: str) -> list[dict[str, Any]]:
        return [body for _, body in self.received if body.get("event") == event]


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    """A real HTTP receiver on 127.0.0.1; its URL (token in path and query) is in ``URL_ENV``."""
    state = Receiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append((self.path, json.loads(body)))
            self.send_response(state.status)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/{TOKEN}?key={KEY}"
    monkeypatch.setenv(URL_ENV, state.url)
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def alert_configs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's configs plus a local overlay that adds the webhook channel."""
    target = tmp_path_factory.mktemp("alert_configs") / "configs"
    shutil.copytree(CONFIGS_DIR, target, ignore=shutil.ignore_patterns("schema"))
    (target / "use_cases" / "churn.local.yaml").write_text(OVERLAY, encoding="utf-8")
    return target


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in (TOKEN, KEY, "/hooks/"):
            assert secret not in text


def run_record(instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult) -> str:
    """Everything Dagster stored about a run: event log (logs, metadata, errors) and tags."""
    entries = instance.all_logs(result.run_id)
    run = instance.get_run_by_id(result.run_id)
    return "\n".join([repr(e) for e in entries] + [repr(run)])


def test_drift_alert_reaches_the_webhook_without_leaking_its_url(
    trained_base: TrainedBase,
    tmp_path: Path,
    alert_configs: Path,
    receiver: Receiver,
    capfd: pytest.CaptureFixture[str],
) -> None:
    data_dir = copy_base(trained_base, tmp_path)
    day = trained_base.days[DRIFT_FROM - 1]
    defs = defs_for(data_dir, configs=alert_configs)
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_job(
            defs, "churn_monitoring", instance, partition=day, asset_selection=[DRIFT_KEY]
        )
        assert result.success, step_error(result)
        record = run_record(instance, result)
    meta = metadata(result, DRIFT_KEY)
    assert meta["dataset_drift"] is True
    ((path, payload),) = receiver.received
    assert path == f"/hooks/{TOKEN}?key={KEY}"
    assert payload["source"] == "mlops_assets"
    assert (payload["event"], payload["severity"]) == ("drift", "warning")
    assert payload["title"] == f"churn: data drift on {day}"
    assert payload["context"]["partition"] == day
    assert payload["context"]["use_case"] == "churn"
    assert payload["context"]["drift_share"] == pytest.approx(meta["drift_share"])
    report = data_dir / "reports" / "churn" / "drift" / f"{day}.html"
    assert payload["links"]["report"] == report.as_uri()
    assert "monthly_charges" in payload["message"]
    assert "alert 'drift' delivered to 1 channel(s)" in record
    out, err = capfd.readouterr()
    assert_no_secret(record, repr(meta), out, err)


def test_run_failure_alert_reaches_the_webhook(
    tmp_path: Path,
    alert_configs: Path,
    receiver: Receiver,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    defs = defs_for(tmp_path / "data", configs=alert_configs)
    with dg.DagsterInstance.ephemeral() as instance:
        failed = run_job(defs, "churn_deployment", instance)  # no champion state yet
        assert not failed.success
        (entry,) = instance.all_logs(failed.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
        run = instance.get_run_by_id(failed.run_id)
        assert run is not None and entry.dagster_event is not None
        sensor = defs.resolve_sensor_def("churn_run_failure_alerts")
        with (
            dg.build_run_status_sensor_context(
                sensor_name=sensor.name,
                dagster_event=entry.dagster_event,
                dagster_instance=instance,
                dagster_run=run,
                resources=defs.resources,
            ).for_run_failure() as context,
            caplog.at_level(logging.DEBUG),
        ):
            sensor(context)
        record = run_record(instance, failed)
    (payload,) = receiver.payloads("run_failed")
    assert payload["severity"] == "error"
    assert payload["title"] == "churn: run of churn_deployment failed"
    assert payload["context"] == {
        "use_case": "churn",
        "job": "churn_deployment",
        "run_id": failed.run_id,
    }
    # what failed and why: the step's own error, first line (no context/fix block)
    summary, cause = payload["message"].splitlines()
    assert summary.startswith('Execution of run for "churn_deployment" failed.')
    assert cause.startswith("- churn__serving__endpoint: ")
    assert "StorageError: no stored state for churn/models/champion" in cause
    out, err = capfd.readouterr()
    assert_no_secret(record, caplog.text, out, err)


def test_rejected_challenger_raises_a_gate_failed_alert(
    trained_base: TrainedBase, tmp_path: Path, alert_configs: Path, receiver: Receiver
) -> None:
    data_dir = copy_base(trained_base, tmp_path)
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_job(
            defs_for(data_dir, configs=alert_configs),
            "churn_training",
            instance,
            run_config=weak_run_config(),
            asset_selection=[MODEL_KEY, EVALUATION_KEY, CHAMPION_KEY],
        )
        assert result.success, step_error(result)
        record = run_record(instance, result)
    assert metadata(result, EVALUATION_KEY)["decision"] == "reject"
    (payload,) = receiver.payloads("gate_failed")
    assert payload["severity"] == "warning"
    assert payload["title"] == f"churn: {MODEL} v2 failed the promotion gates"
    assert payload["context"]["version"] == "2"
    assert payload["context"]["champion"] == "1"
    assert payload["context"]["gate_mode"] == "enabled"
    assert "it is rejected" in payload["message"]
    assert_no_secret(record)


def test_retrain_alert_and_a_failing_receiver_never_block_the_sensor(
    tmp_path: Path,
    alert_configs: Path,
    receiver: Receiver,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    data_dir = tmp_path / "data"
    write_windows(data_dir, ["ok", "drift", "drift"])
    defs = defs_for(data_dir, configs=alert_configs)
    with dg.DagsterInstance.ephemeral() as instance, caplog.at_level(logging.DEBUG):
        fired = tick(defs, instance)
        assert fired.run_requests is not None
        (request,) = fired.run_requests
        (payload,) = receiver.payloads("retrain_started")
        assert payload["severity"] == "info"
        assert payload["context"]["run_key"] == request.run_key
        assert payload["message"] == request.tags["mlops/reason"]

        receiver.status = (
            500  # the receiver breaks: retried, then the sensor still asks for the run
        )
        again = tick(defs, instance)
    assert again.run_requests is not None
    assert [r.run_key for r in again.run_requests] == [request.run_key]
    attempts = AlertsResource().attempts
    assert len(receiver.payloads("retrain_started")) == 1 + attempts
    out, err = capfd.readouterr()
    logged = caplog.text + out + err
    assert "alert not delivered: The webhook answered HTTP 500" in logged
    assert f"attempts={attempts}" in logged
    assert URL_ENV in logged
    assert_no_secret(logged, repr(again))
