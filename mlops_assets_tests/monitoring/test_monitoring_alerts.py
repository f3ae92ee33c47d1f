"""Alert delivery against real HTTP receivers on 127.0.0.1 (a webhook and a fake Slack API)."""

import itertools
import json
import time
from collections.abc import Iterator

import pytest

from mlops_assets.config.monitoring import AlertsConfig, SlackChannel, WebhookChannel
from mlops_assets.errors import AlertError
from mlops_assets.monitoring.alerts import Alert, DeliveryPolicy, send_alerts
from mlops_assets_tests.monitoring.http_receiver import Receiver, Reply, serve

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
FAST = DeliveryPolicy(attempts=3, backoff_s=0.05, max_backoff_s=0.5, deadline_s=10)
"""Retries with short waits, so a test of three attempts takes well under a second."""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serve() as state:
        yield state


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
        send_alerts(ALERT, webhook_config(timeout_s=2), {"TEST_ALERT_URL": url}, FAST)
    assert info.value.context["attempts"] == FAST.attempts  # unreachable is worth a retry
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


def _gaps(receiver: Receiver) -> list[float]:
    return [b - a for a, b in itertools.pairwise(receiver.received_at)]


def test_transient_failures_are_retried_with_backoff_until_delivered(receiver: Receiver) -> None:
    receiver.script = [Reply(503), Reply(502)]
    env = {"TEST_ALERT_URL": receiver.url(SECRET_PATH)}
    started = time.monotonic()
    (result,) = send_alerts(ALERT, webhook_config(), env, FAST)
    elapsed = time.monotonic() - started
    assert (result.status, result.detail, result.attempts) == ("sent", "HTTP 200", 3)
    assert len(receiver.requests) == 3
    first, second = _gaps(receiver)
    assert first >= FAST.backoff_s and second >= 2 * FAST.backoff_s  # the wait doubles
    assert elapsed < 5, f"three quick attempts took {elapsed:.1f} s"


def test_a_slow_receiver_times_out_and_the_retry_gets_through(receiver: Receiver) -> None:
    receiver.script = [Reply(200, delay_s=6.0)]  # answers the first request far too late
    env = {"TEST_ALERT_URL": receiver.url()}
    started = time.monotonic()
    (result,) = send_alerts(ALERT, webhook_config(timeout_s=1.0), env, FAST)
    elapsed = time.monotonic() - started
    assert (result.status, result.attempts) == ("sent", 2)
    assert elapsed < 5, f"the 1 s timeout did not bound the wait ({elapsed:.1f} s)"


def test_client_errors_are_not_retried(receiver: Receiver) -> None:
    receiver.status = 404
    env = {"TEST_ALERT_URL": receiver.url(SECRET_PATH)}
    with pytest.raises(AlertError, match="HTTP 404") as info:
        send_alerts(ALERT, webhook_config(), env, FAST)
    assert len(receiver.requests) == 1
    assert "attempts" not in info.value.context
    assert "s3cr3t" not in str(info.value)


def test_persistent_server_errors_stop_after_the_attempts(receiver: Receiver) -> None:
    receiver.status = 500
    env = {"TEST_ALERT_URL": receiver.url(SECRET_PATH)}
    with pytest.raises(AlertError, match="HTTP 500") as info:
        send_alerts(ALERT, webhook_config(), env, FAST)
    assert len(receiver.requests) == FAST.attempts
    assert info.value.context["attempts"] == FAST.attempts
    assert info.value.fix and "retried" in info.value.fix


def test_retry_after_is_honoured_but_capped(receiver: Receiver) -> None:
    receiver.script = [
        Reply(429, headers={"Retry-After": "0.4"}),
        Reply(503, headers={"Retry-After": "120"}),
    ]
    env = {"TEST_ALERT_URL": receiver.url()}
    started = time.monotonic()
    (result,) = send_alerts(ALERT, webhook_config(), env, FAST)
    elapsed = time.monotonic() - started
    assert result.attempts == 3
    asked, capped = _gaps(receiver)
    assert asked >= 0.4  # the receiver's Retry-After, longer than our own backoff
    assert FAST.max_backoff_s <= capped < 3  # 120 s asked, capped at max_backoff_s
    assert elapsed < 5


def test_the_deadline_bounds_the_retries(receiver: Receiver) -> None:
    receiver.status = 503
    policy = DeliveryPolicy(attempts=10, backoff_s=0.2, max_backoff_s=0.2, deadline_s=0.5)
    env = {"TEST_ALERT_URL": receiver.url()}
    started = time.monotonic()
    with pytest.raises(AlertError, match="HTTP 503"):
        send_alerts(ALERT, webhook_config(), env, policy)
    elapsed = time.monotonic() - started
    assert 2 <= len(receiver.requests) <= 3  # 10 allowed, but no retry may start after 0.5 s
    assert elapsed < 2, f"the 0.5 s deadline did not bound delivery ({elapsed:.1f} s)"


def test_slack_server_errors_are_retried(receiver: Receiver) -> None:
    pytest.importorskip("slack_sdk")
    receiver.script = [Reply(503)]
    (result,) = send_alerts(
        ALERT, slack_config(receiver.port), {"SLACK_BOT_TOKEN": SLACK_TOKEN}, FAST
    )
    assert (result.status, result.attempts) == ("sent", 2)
    assert [path for path, _, _ in receiver.requests] == ["/api/chat.postMessage"] * 2
