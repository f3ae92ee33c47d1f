"""Alerts as a resource: assets and sensors report drift, gate failures and failed checks.

Delivery problems never fail the step that noticed something: they are logged as warnings with
the channel and the environment variable involved (never its value).
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
        """Send an alert to ``config``'s channels; returns how many deliveries succeeded."""
        if not config.channels:
            return 0
        if not self.enabled:
            if log is not None:
                log.info(f"alerts disabled: not sending {event!r}: {title}")
            return 0
        from mlops_assets.monitoring.alerts import Alert, send_alerts

        alert = Alert(
            event=event,
            severity=severity,
            title=title,
            message=message,
            context=facts or {},
            links=links or {},
        )
        try:
            results = send_alerts(alert, config, os.environ)
        except AlertError as exc:
            if log is not None:
                log.warning(f"alert not delivered: {exc}")
            return 0
        sent = sum(r.status == "sent" for r in results)
        if log is not None:
            log.info(f"alert {event!r} delivered to {sent} channel(s)")
        return sent
