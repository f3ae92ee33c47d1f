"""Alerts: what is sent (:class:`Alert`), to which channels, and how hard we try.

The transports (webhook, Slack) are in :mod:`mlops_assets.monitoring.alert_channels`. Secrets
stay in environment variables named by the config; they are read at send time and never written
into a payload, a result or an error message.

Delivery is bounded: every request has a timeout, and a transient failure (a timeout, an
unreachable receiver, HTTP 429 or 5xx) is retried a few times with exponential backoff within a
deadline (:class:`DeliveryPolicy`); anything else (a 4xx, a missing variable) fails at once.
"""

import os
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mlops_assets.config.monitoring import (
    AlertEvent,
    AlertsConfig,
    Severity,
    SlackChannel,
    WebhookChannel,
)
from mlops_assets.errors import AlertError
from mlops_assets.monitoring.alert_channels import (
    TransientAlertError,
    channel_label,
    send_slack,
    send_webhook,
)

SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "error": 2}


class Alert(BaseModel):
    """One alert, independent of where it is delivered."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event: AlertEvent = Field(description="What happened.")
    severity: Severity = Field(description="info, warning or error.")
    title: str = Field(min_length=1, description="One line, shown first.")
    message: str = Field(description="The explanation, with numbers (Markdown allowed).")
    context: dict[str, str | float | int] = Field(
        default_factory=dict, description="Facts: use case, partition, drift share, ..."
    )
    links: dict[str, str] = Field(
        default_factory=dict, description="Named links: Dagster run, report, MLflow run."
    )


class DeliveryPolicy(BaseModel):
    """How hard to try: attempts, backoff and a deadline per channel."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    attempts: int = Field(default=3, ge=1, le=10, description="Tries per channel, first included.")
    backoff_s: float = Field(
        default=0.5, ge=0, le=30, description="Wait before the first retry; doubled each time."
    )
    max_backoff_s: float = Field(
        default=5.0, ge=0, le=60, description="Longest single wait (also caps `Retry-After`)."
    )
    deadline_s: float = Field(
        default=30.0,
        gt=0,
        le=300,
        description="No retry starts later than this after the first try.",
    )
    slack_timeout_s: float = Field(
        default=10.0, gt=0, le=120, description="Timeout of one Slack API call."
    )

    def wait(self, retry: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        wanted = retry_after if retry_after is not None else self.backoff_s * 2 ** (retry - 1)
        return min(max(wanted, 0.0), self.max_backoff_s)


class DeliveryResult(BaseModel):
    """What happened to an alert on one channel."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channel: str = Field(description="Channel label, e.g. `webhook($ALERT_URL)`; no secret.")
    type: Literal["webhook", "slack"] = Field(description="Channel type.")
    status: Literal["sent", "skipped"] = Field(description="Delivered, or skipped on purpose.")
    detail: str = Field(description="HTTP status, or why it was skipped.")
    attempts: int = Field(default=0, description="Requests made (0 when skipped).")


def alert_payload(alert: Alert, sent_at: datetime | None = None) -> dict[str, Any]:
    """The JSON body posted to webhooks (``text`` makes Slack/Teams-style hooks show it)."""
    return {
        "source": "mlops_assets",
        "event": alert.event,
        "severity": alert.severity,
        "title": alert.title,
        "message": alert.message,
        "text": f"[{alert.severity.upper()}] {alert.title}\n{alert.message}",
        "context": alert.context,
        "links": alert.links,
        "sent_at": (sent_at or datetime.now(UTC)).isoformat(),
    }


def send_alerts(
    alert: Alert,
    config: AlertsConfig,
    environ: Mapping[str, str] = os.environ,
    policy: DeliveryPolicy | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> list[DeliveryResult]:
    """Deliver an alert to every configured channel that wants it.

    A channel is skipped when the event is not in ``config.events`` or the alert is below the
    channel's ``min_severity``. Every channel is attempted even if one fails; transient
    failures are retried as ``policy`` says (default :class:`DeliveryPolicy`).

    Raises:
        AlertError: at least one channel failed (the others were still attempted); the
            message names the channels and environment variables, never their values.
    """
    rules = policy or DeliveryPolicy()
    results: list[DeliveryResult] = []
    failures: list[AlertError] = []
    for channel in config.channels:
        label = channel_label(channel)
        if alert.event not in config.events:
            detail = f"event {alert.event!r} is not in alerts.events"
        elif SEVERITY_RANK[alert.severity] < SEVERITY_RANK[channel.min_severity]:
            detail = f"severity {alert.severity} is below the channel's {channel.min_severity}"
        else:
            try:
                detail, attempts = _deliver(alert, channel, environ, rules, sleep)
            except AlertError as exc:
                failures.append(exc)
                continue
            results.append(
                DeliveryResult(
                    channel=label,
                    type=channel.type,
                    status="sent",
                    detail=detail,
                    attempts=attempts,
                )
            )
            continue
        results.append(
            DeliveryResult(channel=label, type=channel.type, status="skipped", detail=detail)
        )
    if len(failures) == 1:
        raise failures[0]
    if failures:
        raise AlertError(
            f"{len(failures)} alert channels failed.",
            context={
                "errors": [f.message for f in failures],
                "sent": [r.channel for r in results if r.status == "sent"],
            },
            fix="; ".join(sorted({f.fix for f in failures if f.fix})),
        )
    return results


def _deliver(
    alert: Alert,
    channel: WebhookChannel | SlackChannel,
    environ: Mapping[str, str],
    policy: DeliveryPolicy,
    sleep: Callable[[float], None],
) -> tuple[str, int]:
    """Send on one channel, retrying transient failures; (detail, attempts) on success."""
    started = time.monotonic()
    attempt = 1
    while True:
        try:
            if isinstance(channel, WebhookChannel):
                return send_webhook(alert_payload(alert), channel, environ), attempt
            text = alert_payload(alert)["text"]
            blocks = _slack_blocks(alert)
            return send_slack(text, blocks, channel, environ, policy.slack_timeout_s), attempt
        except TransientAlertError as exc:
            wait = policy.wait(attempt, exc.retry_after)
            late = time.monotonic() - started + wait > policy.deadline_s
            if attempt >= policy.attempts or late:
                exc.context["attempts"] = attempt
                raise
        sleep(wait)
        attempt += 1


def _slack_blocks(alert: Alert) -> list[dict[str, Any]]:
    icon = {"info": ":information_source:", "warning": ":warning:", "error": ":rotating_light:"}
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": alert.title[:150]}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"{icon[alert.severity]} {alert.message}"[:3000]},
        },
    ]
    if alert.context:
        fields = [
            {"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in list(alert.context.items())[:10]
        ]
        blocks.append({"type": "section", "fields": fields})
    if alert.links:
        text = "  ".join(f"<{url}|{name}>" for name, url in alert.links.items())
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": text}]})
    return blocks
