"""Alerts: a JSON webhook (urllib, no extra dependency) and Slack (``slack_sdk``, optional).

Secrets stay in environment variables named by the config; they are read at send time and
never written into a payload, a result or an error message.

Delivery is bounded: every request has a timeout, and a transient failure (a timeout, an
unreachable receiver, HTTP 429 or 5xx) is retried a few times with exponential backoff within a
deadline (:class:`DeliveryPolicy`); anything else (a 4xx, a missing variable) fails at once.
"""

import http.client
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
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

SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "error": 2}
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


class _TransientAlertError(AlertError):
    """A failure worth retrying (timeout, unreachable, 429, 5xx)."""

    def __init__(self, *args: Any, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retry_after = retry_after


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
        label = _label(channel)
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
                return _send_webhook(alert, channel, environ), attempt
            return _send_slack(alert, channel, environ, policy.slack_timeout_s), attempt
        except _TransientAlertError as exc:
            wait = policy.wait(attempt, exc.retry_after)
            late = time.monotonic() - started + wait > policy.deadline_s
            if attempt >= policy.attempts or late:
                exc.context["attempts"] = attempt
                raise
        sleep(wait)
        attempt += 1


def _retry_after(headers: Any) -> float | None:
    """A numeric ``Retry-After`` header in seconds (HTTP dates are ignored)."""
    if headers is None:
        return None
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _transient_status(status: int) -> bool:
    return status == 429 or status >= 500


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
        message = f"The webhook answered HTTP {exc.code} {_redact(str(exc.reason), *secrets)}."
        context = {**where, "status": exc.code}
        fix = (
            f"A 4xx means the URL in {channel.url_env} is wrong or revoked: create a new webhook "
            "and update the variable; a 429 or 5xx is the receiver's: it was retried, try later."
        )
        if _transient_status(exc.code):
            raise _TransientAlertError(
                message, context=context, fix=fix, retry_after=_retry_after(exc.headers)
            ) from None
        raise AlertError(message, context=context, fix=fix) from None
    except (ValueError, http.client.InvalidURL):  # their messages quote the URL: never repeat it
        raise AlertError(
            f"The value of {channel.url_env} is not a valid URL.",
            context={"channel": label, "variable": channel.url_env},
            fix=f"Set {channel.url_env} to the full webhook URL (no spaces or control characters).",
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise _TransientAlertError(
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


def _send_slack(
    alert: Alert, channel: SlackChannel, environ: Mapping[str, str], timeout_s: float
) -> str:
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
        timeout=int(max(1, round(timeout_s))),
        base_url=channel.api_base_url or WebClient.BASE_URL,
    )
    try:
        response = client.chat_postMessage(
            channel=channel.channel, text=alert_payload(alert)["text"], blocks=_slack_blocks(alert)
        )
    except SlackApiError as exc:
        error = str(exc.response.get("error", "unknown_error"))
        status = int(getattr(exc.response, "status_code", 200))
        message = f"Slack refused the message: {_redact(error, token)}."
        context = {"channel": channel.channel, "error": _redact(error, token), "status": status}
        fix = _SLACK_FIXES.get(error, "see https://api.slack.com/methods/chat.postMessage").format(
            env=channel.token_env
        )
        if _transient_status(status):
            retry_after = _retry_after(getattr(exc.response, "headers", None))
            raise _TransientAlertError(
                message, context=context, fix=fix, retry_after=retry_after
            ) from None
        raise AlertError(message, context=context, fix=fix) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise _TransientAlertError(
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
