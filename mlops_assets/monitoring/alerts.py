"""Alerts: a JSON webhook (urllib, no extra dependency) and Slack (``slack_sdk``, optional).

Secrets stay in environment variables named by the config; they are read at send time and
never written into a payload, a result or an error message.
"""

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
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

SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "error": 2}
SLACK_TIMEOUT_S = 10
_SLACK_FIXES = {
    "invalid_auth": "check that {env} holds a valid bot token (xoxb-...)",
    "not_authed": "check that {env} holds a valid bot token (xoxb-...)",
    "channel_not_found": "check the channel name, and invite the bot to it",
    "not_in_channel": "invite the bot to the channel (/invite @your-bot)",
    "missing_scope": "give the Slack app the chat:write scope and reinstall it",
}


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


class DeliveryResult(BaseModel):
    """What happened to an alert on one channel."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channel: str = Field(description="Channel label, e.g. `webhook($ALERT_URL)`; no secret.")
    type: Literal["webhook", "slack"] = Field(description="Channel type.")
    status: Literal["sent", "skipped"] = Field(description="Delivered, or skipped on purpose.")
    detail: str = Field(description="HTTP status, or why it was skipped.")


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
    alert: Alert, config: AlertsConfig, environ: Mapping[str, str] = os.environ
) -> list[DeliveryResult]:
    """Deliver an alert to every configured channel that wants it.

    A channel is skipped when the event is not in ``config.events`` or the alert is below the
    channel's ``min_severity``. Every channel is attempted even if one fails.

    Raises:
        AlertError: at least one channel failed (the others were still attempted); the
            message names the channels and environment variables, never their values.
    """
    results: list[DeliveryResult] = []
    failures: list[AlertError] = []
    for channel in config.channels:
        label = _label(channel)
        if alert.event not in config.events:
            detail = f"event {alert.event!r} is not in alerts.events"
        elif SEVERITY_RANK[alert.severity] < SEVERITY_RANK[channel.min_severity]:
            detail = f"severity {alert.severity} is below the channel's {channel.min_severity}"
        else:
            try:
                if isinstance(channel, WebhookChannel):
                    detail = _send_webhook(alert, channel, environ)
                else:
                    detail = _send_slack(alert, channel, environ)
            except AlertError as exc:
                failures.append(exc)
                continue
            results.append(
                DeliveryResult(channel=label, type=channel.type, status="sent", detail=detail)
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


def _label(channel: WebhookChannel | SlackChannel) -> str:
    if isinstance(channel, WebhookChannel):
        return f"webhook(${channel.url_env})"
    return f"slack({channel.channel})"


def _secret(environ: Mapping[str, str], name: str, label: str, what: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise AlertError(
            f"Environment variable {name} is not set, so {label} cannot send.",
            context={"channel": label, "variable": name},
            fix=f"export {name}=<{what}> in the environment of the Dagster code location "
            "(never in YAML), or remove the channel.",
        )
    return value


def _redact(text: str, *secrets: str) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def _send_webhook(alert: Alert, channel: WebhookChannel, environ: Mapping[str, str]) -> str:
    label = _label(channel)
    url = _secret(environ, channel.url_env, label, "the webhook URL")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AlertError(
            f"The value of {channel.url_env} is not an http(s) URL.",
            context={"channel": label, "variable": channel.url_env},
            fix=f"Set {channel.url_env} to the full webhook URL, starting with https://.",
        )
    secrets = (url, parts.path, parts.query, parts.password or "")
    request = urllib.request.Request(
        url,
        data=json.dumps(alert_payload(alert)).encode("utf-8"),
        headers={"Content-Type": "application/json", "User-Agent": "mlops-assets-alerts/1"},
        method="POST",
    )
    where = {"channel": label, "host": parts.hostname}
    try:
        with urllib.request.urlopen(request, timeout=channel.timeout_s) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        raise AlertError(
            f"The webhook answered HTTP {exc.code} {_redact(str(exc.reason), *secrets)}.",
            context={**where, "status": exc.code},
            fix="A 4xx means the URL in "
            f"{channel.url_env} is wrong or revoked: create a new webhook and update the "
            "variable; a 5xx is the receiver's fault: retry later.",
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise AlertError(
            f"The webhook could not be reached: {_redact(str(reason), *secrets)}.",
            context={**where, "timeout_s": channel.timeout_s},
            fix=f"Check network access to {parts.hostname} and the URL in {channel.url_env}.",
        ) from None
    if not 200 <= status < 300:
        raise AlertError(
            f"The webhook answered HTTP {status}, not a 2xx success.",
            context={**where, "status": status},
            fix=f"Check the receiver and the URL in {channel.url_env}.",
        )
    return f"HTTP {status}"


def _send_slack(alert: Alert, channel: SlackChannel, environ: Mapping[str, str]) -> str:
    label = _label(channel)
    token = _secret(environ, channel.token_env, label, "the Slack bot token (xoxb-...)")
    try:
        from slack_sdk import WebClient
        from slack_sdk.errors import SlackApiError
    except ImportError:
        raise AlertError(
            "Slack alerts need the slack_sdk package.",
            context={"channel": label},
            fix="Install the extra: uv sync --extra slack",
        ) from None
    client = WebClient(
        token=token,
        timeout=SLACK_TIMEOUT_S,
        base_url=channel.api_base_url or WebClient.BASE_URL,
    )
    try:
        response = client.chat_postMessage(
            channel=channel.channel, text=alert_payload(alert)["text"], blocks=_slack_blocks(alert)
        )
    except SlackApiError as exc:
        error = str(exc.response.get("error", "unknown_error"))
        raise AlertError(
            f"Slack refused the message: {_redact(error, token)}.",
            context={"channel": channel.channel, "error": _redact(error, token)},
            fix=_SLACK_FIXES.get(
                error, "see https://api.slack.com/methods/chat.postMessage"
            ).format(env=channel.token_env),
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise AlertError(
            f"Slack could not be reached: {_redact(str(getattr(exc, 'reason', exc)), token)}.",
            context={"channel": channel.channel},
            fix="Check network access to slack.com (or api_base_url).",
        ) from None
    return f"Slack ok, ts={response.get('ts')}"


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
