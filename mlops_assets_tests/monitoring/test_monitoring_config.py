"""Monitoring configuration: defaults, validation and the alert channel union."""

import pytest
from pydantic import BaseModel, ValidationError

from mlops_assets.config.monitoring import (
    AlertsConfig,
    DriftConfig,
    MonitoringConfig,
    PerformanceConfig,
    RetrainingPolicy,
    SlackChannel,
    WebhookChannel,
)


def test_defaults_follow_evidently() -> None:
    cfg = MonitoringConfig()
    assert cfg.drift.drift_share == 0.5
    assert cfg.drift.default_numeric_method == cfg.drift.default_categorical_method == "auto"
    assert cfg.retraining.violations_required <= cfg.retraining.window_count
    assert cfg.alerts.channels == []


def test_channels_parse_from_yaml_like_dicts() -> None:
    cfg = AlertsConfig.model_validate(
        {
            "channels": [
                {"type": "webhook", "url_env": "ALERT_WEBHOOK_URL", "min_severity": "info"},
                {"type": "slack", "channel": "#ml-alerts"},
            ],
            "events": ["drift", "retrain_started"],
        }
    )
    assert isinstance(cfg.channels[0], WebhookChannel) and cfg.channels[0].timeout_s == 10
    assert isinstance(cfg.channels[1], SlackChannel)
    assert cfg.channels[1].token_env == "SLACK_BOT_TOKEN"


@pytest.mark.parametrize(
    ("model", "data", "message"),
    [
        (RetrainingPolicy, {"violations_required": 4, "window_count": 3}, "cannot exceed"),
        (DriftConfig, {"default_numeric_method": "chisquare"}, "only applies to categorical"),
        (DriftConfig, {"default_categorical_method": "ks"}, "only applies to numeric"),
        (DriftConfig, {"drift_share": 0}, "greater than 0"),
        (PerformanceConfig, {"metrics": ["f1"], "max_degradation": {"auc": 0.1}}, "not in"),
        (PerformanceConfig, {"metrics": ["rocauc"]}, "Did you mean 'roc_auc'"),
        (AlertsConfig, {"channels": [{"type": "email", "to": "x"}]}, "does not match any"),
        (AlertsConfig, {"channels": [{"type": "webhook", "url": "https://x"}]}, "url_env"),
        (WebhookChannel, {"type": "webhook", "url_env": "https://hooks/secret"}, "pattern"),
    ],
)
def test_invalid_configs_are_rejected(
    model: type[BaseModel], data: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        model.model_validate(data)


def test_metric_aliases_are_normalised() -> None:
    cfg = PerformanceConfig(metrics=["AUC", "f1"], max_degradation={"auc": 0.02})
    assert cfg.metrics == ["roc_auc", "f1"]
    assert cfg.max_degradation == {"roc_auc": 0.02}
