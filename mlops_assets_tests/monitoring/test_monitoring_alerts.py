"""Alert delivery against real HTTP receivers on 127.0.0.1 (a webhook and a fake Slack API)."""

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mlops_assets.config.monitoring import AlertsConfig, SlackChannel, WebhookChannel
from mlops_assets.errors import AlertError
from mlops_assets.monitoring.alerts import Alert, send_alerts

SECRET_PATH = "/hooks/T000/B000/s3cr3t-t0ken"
SLACK_TOKEN = "xoxb-test-s3cr3t-slack-token"
ALERT = Alert(
    event="drift",
    severity="warning",
    title="Drift on churn features",
    message="5 of 8 columns drifted (share 0.62 >= 0.50).",
    context={"use_case": "churn", "partition": "2026-03-01", "drift_share": 0.625},
    links={"report": "http://127.0.0.1:3000/report.html"},
)


@dataclass
class Receiver:
    """A local HTTP server that records requests and answers with a chosen status/body."""

    status: int = 200
    body: dict[str, object] = field(default_factory=lambda: {"ok": True, "ts": "1.0"})
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    port: int = 0


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            state.requests.append((self.path, dict(self.headers), self.rfile.read(length)))
            payload = json.dumps(state.body).encode()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def webhook_config(**channel: object) -> AlertsConfig:
    return AlertsConfig(
        channels=[WebhookChannel(type="webhook", url_env="TEST_ALERT_URL", **channel)],
        events=["drift", "gate_failed"],
    )


def test_webhook_posts_the_alert_as_json_without_secrets(receiver: Receiver) -> None:
    url = f"http://127.0.0.1:{receiver.port}{SECRET_PATH}?key=q-s3cr3t"
    results = send_alerts(ALERT, webhook_config(), environ={"TEST_ALERT_URL": url})
    assert [r.status for r in results] == ["sent"]
    assert results[0].detail == "HTTP 200"
    assert results[0].channel == "webhook($TEST_ALERT_URL)"
    path, headers, body = receiver.requests[0]
    assert path == f"{SECRET_PATH}?key=q-s3cr3t"
    assert headers["Content-Type"] == "application/json"
    payload = json.loads(body)
    assert payload["event"] == "drift" and payload["severity"] == "warning"
    assert payload["title"] == ALERT.title and payload["message"] == ALERT.message
    assert payload["context"] == {
        "use_case": "churn",
        "partition": "2026-03-01",
        "drift_share": 0.625,
    }
    assert payload["links"] == ALERT.links
    assert payload["text"].startswith("[WARNING] Drift on churn features")
    for secret in ("s3cr3t", "q-s3cr3t", SECRET_PATH):
        assert secret not in body.decode()
        assert secret not in repr(results)


def test_severity_and_event_filters_skip_with_a_reason(receiver: Receiver) -> None:
    env = {"TEST_ALERT_URL": f"http://127.0.0.1:{receiver.port}/hook"}
    info = ALERT.model_copy(update={"severity": "info"})
    skipped = send_alerts(info, webhook_config(min_severity="warning"), environ=env)
    assert skipped[0].status == "skipped" and "below" in skipped[0].detail
    other = ALERT.model_copy(update={"event": "run_failed"})
    skipped = send_alerts(other, webhook_config(), environ=env)
    assert skipped[0].status == "skipped" and "not in alerts.events" in skipped[0].detail
    assert receiver.requests == []


def test_non_2xx_raises_with_status_and_fix_but_no_secret(receiver: Receiver) -> None:
    receiver.status = 403
    url = f"http://127.0.0.1:{receiver.port}{SECRET_PATH}"
    with pytest.raises(AlertError, match="HTTP 403") as info:
        send_alerts(ALERT, webhook_config(), environ={"TEST_ALERT_URL": url})
    assert info.value.context["status"] == 403
    assert info.value.fix and "TEST_ALERT_URL" in info.value.fix
    assert "s3cr3t" not in str(info.value)


def test_unreachable_webhook_raises_without_leaking_the_url(receiver: Receiver) -> None:
    url = f"http://127.0.0.1:1{SECRET_PATH}"  # nothing listens on port 1
    with pytest.raises(AlertError, match="could not be reached") as info:
        send_alerts(ALERT, webhook_config(timeout_s=2), environ={"TEST_ALERT_URL": url})
    assert "s3cr3t" not in str(info.value)


def test_missing_or_invalid_env_var_names_the_variable() -> None:
    with pytest.raises(AlertError, match="TEST_ALERT_URL is not set") as info:
        send_alerts(ALERT, webhook_config(), environ={})
    assert info.value.fix and "export TEST_ALERT_URL=" in info.value.fix
    with pytest.raises(AlertError, match="not an http"):
        send_alerts(ALERT, webhook_config(), environ={"TEST_ALERT_URL": "ftp://x/s3cr3t"})


def slack_config(port: int) -> AlertsConfig:
    channel = SlackChannel(
        type="slack", channel="#ml-alerts", api_base_url=f"http://127.0.0.1:{port}/api/"
    )
    return AlertsConfig(channels=[channel], events=["drift"])


def test_slack_message_through_the_web_api(receiver: Receiver) -> None:
    pytest.importorskip("slack_sdk")
    results = send_alerts(ALERT, slack_config(receiver.port), {"SLACK_BOT_TOKEN": SLACK_TOKEN})
    assert results[0].status == "sent" and results[0].channel == "slack(#ml-alerts)"
    path, headers, body = receiver.requests[0]
    assert path == "/api/chat.postMessage"
    assert headers["Authorization"] == f"Bearer {SLACK_TOKEN}"  # the only place it goes
    message = json.loads(body)
    assert message["channel"] == "#ml-alerts"
    assert message["blocks"][0]["text"]["text"] == ALERT.title
    assert SLACK_TOKEN not in body.decode()


def test_slack_api_error_is_explained_without_the_token(receiver: Receiver) -> None:
    pytest.importorskip("slack_sdk")
    receiver.body = {"ok": False, "error": "channel_not_found"}
    with pytest.raises(AlertError, match="channel_not_found") as info:
        send_alerts(ALERT, slack_config(receiver.port), {"SLACK_BOT_TOKEN": SLACK_TOKEN})
    assert info.value.fix and "invite the bot" in info.value.fix
    assert SLACK_TOKEN not in str(info.value)


def test_every_channel_is_attempted_when_one_fails(receiver: Receiver) -> None:
    config = AlertsConfig(
        channels=[
            WebhookChannel(type="webhook", url_env="MISSING_URL"),
            WebhookChannel(type="webhook", url_env="GOOD_URL"),
        ],
        events=["drift"],
    )
    env = {"GOOD_URL": f"http://127.0.0.1:{receiver.port}/hook"}
    with pytest.raises(AlertError, match="MISSING_URL is not set"):
        send_alerts(ALERT, config, environ=env)
    assert len(receiver.requests) == 1  # the good channel still received the alert
