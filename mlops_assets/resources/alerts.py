"""Alerts as a resource: assets and sensors report drift, gate failures and failed checks.

Delivery never fails the step or sensor that noticed something: each request has a timeout,
transient failures (timeouts, 429, 5xx) are retried a few times with backoff within a deadline,
and what still fails is logged as a warning naming the channel and the environment variable
involved (never its value).
"""

import logging
import os
from typing import Literal

import dagster as dg
from pydantic import Field

from mlops_assets.config.monitoring import AlertEvent, AlertsConfig
from mlops_assets.errors import AlertError

Severity = Literal["info", "warning", "error"]


class AlertsResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Sends alerts to the channels a use case configures (webhook, Slack)."""

    enabled: bool = Field(
        default=True, description="Deliver alerts (False: log what would have been sent)."
    )
    attempts: int = Field(
        default=3, ge=1, le=10, description="Tries per channel for transient failures."
    )
    backoff_s: float = Field(
        default=0.5, ge=0, le=30, description="Wait before the first retry, doubled each time."
    )
    deadline_s: float = Field(
        default=30.0, gt=0, le=300, description="No retry starts later than this per channel."
    )
    slack_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=120,
        description="Timeout of one Slack API call (webhooks use their channel's `timeout_s`).",
    )

    def notify(
        self,
        log: logging.Logger | dg.DagsterLogManager | None,
        config: AlertsConfig,
        *,
        event: AlertEvent,
        severity: Severity,
        title: str,
        message: str,
        facts: dict[str, str | float | int] | None = None,
        links: dict[str, str] | None = None,
    ) -> int:
        """Send an alert to ``config``'s channels; returns how many deliveries succeeded.

        Never raises: a failed delivery is logged as a warning and counts as not delivered.
        """
        if not config.channels:
            return 0
        if not self.enabled:
            if log is not None:
                log.info(f"alerts disabled: not sending {event!r}: {title}")
            return 0
        from mlops_assets.monitoring.alerts import Alert, DeliveryPolicy, send_alerts

        policy = DeliveryPolicy(
            attempts=self.attempts,
            backoff_s=self.backoff_s,
            deadline_s=self.deadline_s,
            slack_timeout_s=self.slack_timeout_s,
        )
        try:
            alert = Alert(
                event=event,
                severity=severity,
                title=title or event,
                message=message,
                context=facts or {},
                links=links or {},
            )
            results = send_alerts(alert, config, os.environ, policy)
        except AlertError as exc:
            if log is not None:
                log.warning(f"alert not delivered: {exc}")
            return 0
        except Exception as exc:  # an alert must never fail what raised it
            if log is not None:  # the type only: an unexpected message might quote a secret
                log.warning(f"alert {event!r} not delivered: unexpected {type(exc).__name__}")
            return 0
        sent = sum(r.status == "sent" for r in results)
        if log is not None:
            log.info(f"alert {event!r} delivered to {sent} channel(s)")
        return sent
