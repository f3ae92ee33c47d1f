"""Run configuration of the monitoring assets: the model version judged and drift thresholds.

Defaults are the YAML's (``monitoring.drift``) and the current ``@champion``. A per-column
threshold override names a model feature (a ``Literal``: a misspelt column is rejected when the
run is launched) and needs a reason, so no threshold is loosened silently.
"""

from typing import Any, Literal

from pydantic import Field, create_model

from mlops_assets.assets.ml.common import model_config
from mlops_assets.assets.run_config import RunConfigBase, run_config_tags
from mlops_assets.config.monitoring import ColumnDriftConfig, DriftConfig
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.resources.mlflow import MlflowResource

_VERSION = (
    "Registered model version whose references and metrics this run judges against; empty: "
    "the current @champion."
)


class ColumnThresholdBase(RunConfigBase):
    """One column's drift threshold for this run."""

    column: str = Field(description="Model feature.")
    threshold: float = Field(gt=0, description="Threshold of the column's drift method.")
    reason: str = Field(min_length=1, pattern=r"\S", description="Why, for this run.")


class MonitoringRunConfigBase(RunConfigBase):
    """The reference model version of a monitoring run."""

    model_version: str = Field(default="", pattern=r"^(\d+)?$", description=_VERSION)


class DriftRunConfigBase(MonitoringRunConfigBase):
    """What every use case's drift run configuration has."""

    drift_share: float = Field(default=0.5, gt=0, le=1, description="Share of drifting columns.")
    column_thresholds: list[ColumnThresholdBase] = Field(
        default_factory=list, description="Per-column thresholds."
    )
    render_report: bool = Field(
        default=True,
        description="Render the Evidently HTML report of the day (as configured); false skips "
        "it (the verdict of record is computed either way; an earlier report of the day is "
        "removed, so nothing stale is linked).",
    )

    def drift_config(self, base: DriftConfig) -> DriftConfig:
        """``base`` with this run's dataset share and column thresholds."""
        per_column = dict(base.per_column)
        for o in self.column_thresholds:
            current = per_column.get(o.column, ColumnDriftConfig())
            per_column[o.column] = current.model_copy(update={"threshold": o.threshold})
        return base.model_copy(update={"drift_share": self.drift_share, "per_column": per_column})


class PerformanceRunConfig(MonitoringRunConfigBase):
    """Knobs of one performance run: the model version whose held-out metrics are the baseline."""


def drift_run_config(uc: UseCaseConfig) -> type[DriftRunConfigBase]:
    """The drift asset's run configuration for ``uc`` (defaults: ``monitoring.drift``)."""
    features = tuple(model_config(uc).features)
    column_type: Any = Literal[features]
    drift = uc.monitoring.drift
    threshold: Any = create_model(
        "ColumnThreshold",
        __base__=ColumnThresholdBase,
        column=(column_type, Field(description=f"Model feature: {', '.join(features)}.")),
    )
    config: type[DriftRunConfigBase] = create_model(
        "DriftRunConfig",
        __base__=DriftRunConfigBase,
        drift_share=(
            float,
            Field(
                default=drift.drift_share,
                gt=0,
                le=1,
                description="Share of drifting columns that makes the dataset drift "
                f"(YAML `monitoring.drift.drift_share`: {drift.drift_share}).",
            ),
        ),
        column_thresholds=(
            list[threshold],
            Field(
                default_factory=list,
                description="Per-column drift thresholds for this run, each with a required "
                "`reason`; other columns keep the YAML's.",
            ),
        ),
    )
    return config


def tag_monitoring_run(
    mlflow: MlflowResource, use_case: str, run_id: str | None, config: RunConfigBase
) -> None:
    """The run config's non-default values as ``mlops.run_config.*`` tags of a monitoring run."""
    tags = run_config_tags(config)
    if not tags or run_id is None:
        return
    from mlflow import MlflowClient

    settings = mlflow.settings(use_case).for_monitoring()
    client = MlflowClient(tracking_uri=settings.tracking_uri)
    for tag, value in tags.items():
        client.set_tag(run_id, tag, value)
