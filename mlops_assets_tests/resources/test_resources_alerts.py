"""The alerts resource never fails its caller: retries within bounds, then a logged warning."""

import logging
import time
from collections.abc import Iterator

import pytest

from mlops_assets.config.monitoring import AlertsConfig, WebhookChannel
from mlops_assets.resources.alerts import AlertsResource
from mlops_assets_tests.monitoring.http_receiver import Receiver, Reply, serve

URL_ENV = "MLOPS_TEST_RESOURCE_WEBHOOK"
SECRET = "s3cr3t-resource-token"
CONFIG = AlertsConfig(
    channels=[WebhookChannel(type="webhook", url_env=URL_ENV, min_severity="info", timeout_s=2)],
    events=["drift"],
)
LOG = logging.getLogger("mlops_assets_tests.alerts")


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    """A local receiver whose URL (with a secret path) is in ``URL_ENV``; no proxy in between."""
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    with serve() as state:
        monkeypatch.setenv(URL_ENV, state.url(f"/hooks/{SECRET}"))
        yield state


def _notify(alerts: AlertsResource) -> int:
    return alerts.notify(
        LOG,
        CONFIG,
        event="drift",
        severity="warning",
        title="churn: data drift on 2026-03-01",
        message="60% of the columns drifted.",
        facts={"use_case": "churn"},
    )


def test_a_receiver_that_fails_then_recovers_gets_the_alert(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.script = [Reply(503), Reply(500)]
    alerts = AlertsResource(attempts=3, backoff_s=0.05)
    deadline = time.monotonic() + 10
    with caplog.at_level(logging.INFO):
        sent = _notify(alerts)
    assert time.monotonic() < deadline, "delivery with two retries took longer than 10 s"
    assert sent == 1
    assert len(receiver.requests) == 3
    assert "alert 'drift' delivered to 1 channel(s)" in caplog.text


def test_a_receiver_that_keeps_failing_is_a_warning_not_an_error(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.status = 502
    alerts = AlertsResource(attempts=2, backoff_s=0.05, deadline_s=5)
    with caplog.at_level(logging.INFO):
        sent = _notify(alerts)
    assert sent == 0
    assert len(receiver.requests) == 2
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "alert not delivered: The webhook answered HTTP 502" in warning.getMessage()
    assert "attempts=2" in warning.getMessage()
    assert URL_ENV in warning.getMessage()
    assert SECRET not in caplog.text


def test_a_malformed_url_is_reported_without_quoting_it(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(URL_ENV, receiver.url(f"/hooks/{SECRET} with spaces"))
    with caplog.at_level(logging.INFO):
        sent = _notify(AlertsResource(backoff_s=0.05))
    assert sent == 0
    assert receiver.requests == []
    assert f"The value of {URL_ENV} is not a valid URL" in caplog.text
    assert SECRET not in caplog.text


def test_disabled_alerts_send_nothing(receiver: Receiver, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        assert _notify(AlertsResource(enabled=False)) == 0
    assert receiver.requests == []
    assert "alerts disabled: not sending 'drift'" in caplog.text
