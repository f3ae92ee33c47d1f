"""The two alert transports: a JSON webhook (urllib, no extra dependency) and Slack
(``slack_sdk``, optional). One request per call, with a timeout; the retry policy is the
caller's (:func:`mlops_assets.monitoring.alerts.send_alerts`).

Secrets are read from the environment at send time and never appear in an error message: a
transport failure that is worth retrying raises :class:`TransientAlertError`, anything else
:class:`~mlops_assets.errors.AlertError`.
"""

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from mlops_assets.config.monitoring import SlackChannel, WebhookChannel
from mlops_assets.errors import AlertError

_SLACK_FIXES = {
    "invalid_auth": "check that {env} holds a valid bot token (xoxb-...)",
    "not_authed": "check that {env} holds a valid bot token (xoxb-...)",
    "channel_not_found": "check the channel name, and invite the bot to it",
    "not_in_channel": "invite the bot to the channel (/invite @your-bot)",
    "missing_scope": "give the Slack app the chat:write scope and reinstall it",
}


class TransientAlertError(AlertError):
    """A failure worth retrying (timeout, unreachable, 429, 5xx)."""

    def __init__(self, *args: Any, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retry_after = retry_after


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


def channel_label(channel: WebhookChannel | SlackChannel) -> str:
    """How a channel is named in results and errors (never with a secret)."""
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


def send_webhook(
    payload: dict[str, Any], channel: WebhookChannel, environ: Mapping[str, str]
) -> str:
    """POST ``payload`` as JSON to the URL in ``channel.url_env``; the HTTP status on success."""
    label = channel_label(channel)
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
        data=json.dumps(payload).encode("utf-8"),
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
            raise TransientAlertError(
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
        raise TransientAlertError(
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


def send_slack(
    text: str,
    blocks: list[dict[str, Any]],
    channel: SlackChannel,
    environ: Mapping[str, str],
    timeout_s: float,
) -> str:
    """Post a message with ``chat.postMessage``; the message timestamp on success."""
    label = channel_label(channel)
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
        response = client.chat_postMessage(channel=channel.channel, text=text, blocks=blocks)
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
            raise TransientAlertError(
                message, context=context, fix=fix, retry_after=retry_after
            ) from None
        raise AlertError(message, context=context, fix=fix) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise TransientAlertError(
            f"Slack could not be reached: {_redact(str(getattr(exc, 'reason', exc)), token)}.",
            context={"channel": channel.channel},
            fix="Check network access to slack.com (or api_base_url).",
        ) from None
    return f"Slack ok, ts={response.get('ts')}"
