"""Monitoring configuration: data drift, model performance, the retraining policy and alerts.

The drift methods and thresholds follow Evidently 0.7 (see ``mlops_assets.monitoring``), so a
threshold tuned in an Evidently notebook means the same thing here.
"""

from typing import Annotated, Literal

from pydantic import Field, model_validator

from mlops_assets.config.base import EnvVarName, StrictModel
from mlops_assets.config.ml import MetricName

DriftMethod = Literal["auto", "wasserstein", "ks", "jensenshannon", "chisquare", "psi", "ztest"]
"""A drift method; ``auto`` picks Evidently's default for the column type and reference size."""
Severity = Literal["info", "warning", "error"]
"""Alert severity, in increasing order."""
AlertEvent = Literal[
    "drift", "performance", "gate_failed", "run_failed", "check_failed", "retrain_started"
]
"""The kinds of events that can raise an alert."""


TriggerKind = Literal["drift", "performance"]
"""A verdict that can count as a retraining trigger."""


def _default_triggers() -> list[TriggerKind]:
    return ["drift", "performance"]


def _default_events() -> list[AlertEvent]:
    return ["drift", "performance", "gate_failed", "run_failed"]


class ColumnDriftConfig(StrictModel):
    """Drift method and threshold for one column (overrides the defaults)."""

    method: DriftMethod = Field(
        default="auto",
        description="Drift method. Distances (`wasserstein`, `jensenshannon`, `psi`) flag drift "
        "when the value is >= threshold; p-value tests (`ks`, `chisquare`, `ztest`) when the "
        "p-value is below it. `auto`: Evidently's choice by column type and reference size.",
    )
    threshold: float | None = Field(
        default=None,
        gt=0,
        description="Threshold of the method; null uses the method's default (0.1 for distances "
        "and PSI, 0.05 for p-values).",
    )


class DriftConfig(StrictModel):
    """Data drift of the model's input features against the training reference profile."""

    drift_share: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="Dataset drift when the share of drifted columns is >= this (Evidently's "
        "`drift_share`).",
    )
    min_rows: int = Field(
        default=200,
        ge=1,
        description="Fewer current rows than this give the status `insufficient_data` and no "
        "verdict.",
    )
    per_column: dict[str, ColumnDriftConfig] = Field(
        default_factory=dict, description="Per-column method/threshold overrides."
    )
    default_numeric_method: DriftMethod = Field(
        default="auto", description="Method for numeric columns without an override."
    )
    default_categorical_method: DriftMethod = Field(
        default="auto", description="Method for categorical columns without an override."
    )
    reference_sample_size: int = Field(
        default=20_000,
        ge=2_000,
        le=1_000_000,
        description="Rows of the training frame kept (uniform sample) in the reference profile "
        "for KS / Wasserstein / Jensen-Shannon; results are exact below this many rows.",
    )
    report_sample_size: int = Field(
        default=5_000,
        ge=100,
        le=200_000,
        description="Rows per side given to Evidently for the HTML report (bounded for speed).",
    )
    psi_bins: int = Field(
        default=10,
        ge=2,
        le=100,
        description="Quantile bins of the reference used by the `psi` method.",
    )

    @model_validator(mode="after")
    def _numeric_defaults(self) -> "DriftConfig":
        if self.default_numeric_method in ("chisquare", "ztest"):
            raise ValueError(
                f"default_numeric_method {self.default_numeric_method!r} only applies to "
                "categorical columns; use auto, wasserstein, ks, jensenshannon or psi"
            )
        if self.default_categorical_method in ("wasserstein", "ks"):
            raise ValueError(
                f"default_categorical_method {self.default_categorical_method!r} only applies to "
                "numeric columns; use auto, jensenshannon, chisquare, ztest or psi"
            )
        return self


class PerformanceConfig(StrictModel):
    """Model quality on labelled production predictions, against the training baseline."""

    metrics: list[MetricName] = Field(
        default_factory=lambda: ["roc_auc", "f1", "precision", "recall", "accuracy"],
        min_length=1,
        description="Metrics computed on labelled predictions (classification: roc_auc, pr_auc, "
        "f1, precision, recall, accuracy, log_loss, brier; regression: rmse, mae, r2).",
    )
    max_degradation: dict[MetricName, float] = Field(
        default_factory=lambda: {"roc_auc": 0.05, "f1": 0.05},
        description="Largest tolerated absolute worsening of a metric versus its baseline "
        "(a drop for roc_auc/f1/..., a rise for log_loss/rmse/...). Breaching one degrades.",
    )
    min_labelled_rows: int = Field(
        default=200,
        ge=1,
        description="Fewer labelled rows than this give `insufficient_data` and no verdict.",
    )
    label_lookback_days: int = Field(
        default=14,
        ge=0,
        le=365,
        description="Labels arriving on a day may refer to predictions made up to this many "
        "days earlier (the label delay plus slack).",
    )

    @model_validator(mode="after")
    def _degradation_metrics_computed(self) -> "PerformanceConfig":
        missing = sorted(set(self.max_degradation) - set(self.metrics))
        if missing:
            raise ValueError(f"max_degradation names metrics not in `metrics`: {missing}")
        negative = sorted(k for k, v in self.max_degradation.items() if v < 0)
        if negative:
            raise ValueError(f"max_degradation must be >= 0, got negative values for {negative}")
        return self


class RetrainingPolicy(StrictModel):
    """When monitoring verdicts start a retraining run (N violations out of the last M windows)."""

    violations_required: int = Field(
        default=2, ge=1, description="N: violated windows needed among the last M."
    )
    window_count: int = Field(
        default=3,
        ge=1,
        description="M: the number of recent windows. Daily windows are the M days ending at "
        "the latest one, judged against the latest window's champion; a day without a verdict "
        "counts as clean.",
    )
    require_latest: bool = Field(
        default=True, description="Also require the latest window to be violated."
    )
    cooldown_hours: float = Field(
        default=24.0, ge=0, description="Minimum time between two retraining runs."
    )
    min_new_rows: int = Field(
        default=1_000, ge=0, description="Minimum new rows since the last training."
    )
    max_retrains: int = Field(default=3, ge=1, description="At most this many retrains ...")
    max_retrains_period_days: int = Field(default=7, ge=1, description="... per this many days.")
    triggers: list[TriggerKind] = Field(
        default_factory=_default_triggers,
        min_length=1,
        description="Which verdicts count as a violation.",
    )

    @model_validator(mode="after")
    def _n_of_m(self) -> "RetrainingPolicy":
        if self.violations_required > self.window_count:
            raise ValueError(
                f"violations_required ({self.violations_required}) cannot exceed window_count "
                f"({self.window_count})"
            )
        return self


class WebhookChannel(StrictModel):
    """A JSON POST to an HTTP(S) endpoint (Teams, Mattermost, PagerDuty, a Slack webhook...)."""

    type: Literal["webhook"] = Field(description="Generic JSON webhook.")
    url_env: EnvVarName = Field(
        description="Name of the environment variable holding the URL (URLs carry tokens: they "
        "never go in YAML).",
    )
    timeout_s: float = Field(default=10.0, gt=0, le=120, description="HTTP timeout in seconds.")
    min_severity: Severity = Field(default="warning", description="Lowest severity sent.")


class SlackChannel(StrictModel):
    """A Slack message through the Web API (`chat.postMessage`; needs the `slack` extra)."""

    type: Literal["slack"] = Field(description="Slack bot message.")
    token_env: EnvVarName = Field(
        default="SLACK_BOT_TOKEN",
        description="Name of the environment variable holding the bot token (`xoxb-...`).",
    )
    channel: str = Field(min_length=1, description="Channel name or id, e.g. `#ml-alerts`.")
    min_severity: Severity = Field(default="warning", description="Lowest severity sent.")
    api_base_url: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="Override of `https://slack.com/api/` (a proxy or a local test server).",
    )


AlertChannel = Annotated[WebhookChannel | SlackChannel, Field(discriminator="type")]
"""One alert destination."""


class AlertsConfig(StrictModel):
    """Where alerts go and which events raise them."""

    channels: list[AlertChannel] = Field(
        default_factory=list, description="Destinations; empty disables alerting."
    )
    events: list[AlertEvent] = Field(
        default_factory=_default_events,
        description="Events that raise an alert.",
    )


class MonitoringConfig(StrictModel):
    """Everything that watches a deployed model and decides when to retrain it."""

    drift: DriftConfig = Field(default_factory=DriftConfig, description="Data drift.")
    performance: PerformanceConfig = Field(
        default_factory=PerformanceConfig, description="Performance on labelled predictions."
    )
    retraining: RetrainingPolicy = Field(
        default_factory=RetrainingPolicy, description="When to retrain."
    )
    alerts: AlertsConfig = Field(default_factory=AlertsConfig, description="Alerting.")
