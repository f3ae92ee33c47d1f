"""Run configuration of the feature tables and the training set, for one run.

- feature table: ``as_of`` (rows of the day stamped later are left out) and, per window feature,
  ``window_days`` for this run: at most the YAML's window, because the asset loads exactly the
  YAML's lookback of history (a longer window would silently see less than it says).
- training set: ``as_of`` (labels stamped later are left out: the training set as it stood then)
  and ``max_feature_age_days`` (YAML default; 0: any age).
"""

from datetime import datetime
from typing import Any

from pydantic import Field, create_model

from mlops_assets.assets.run_config import AS_OF_DESCRIPTION, AsOf, AsOfRunConfig, RunConfigBase
from mlops_assets.config.tables import FeatureTableConfig, TrainingSetConfig, WindowFeature
from mlops_assets.engines.frames import LazyFrame


class FeatureRunConfigBase(AsOfRunConfig):
    """What every feature table's run configuration has."""

    def table(self, table: FeatureTableConfig) -> FeatureTableConfig:
        """``table`` with this run's window lengths."""
        windows: RunConfigBase | None = getattr(self, "window_days", None)
        if windows is None:
            return table
        days = windows.model_dump()
        features = [
            f.model_copy(update={"window_days": days[f.name]})
            if isinstance(f, WindowFeature)
            else f
            for f in table.features
        ]
        return table.model_copy(update={"features": features})

    def end(self, partition_end: datetime) -> datetime:
        """The exclusive end of the rows computed: the partition's end, or ``as_of`` before it."""
        as_of = self.as_of_time()
        return partition_end if as_of is None else min(partition_end, as_of)


def _windows_class(table: FeatureTableConfig) -> type[RunConfigBase] | None:
    windows = [f for f in table.features if isinstance(f, WindowFeature)]
    if not windows:
        return None
    fields: dict[str, Any] = {
        w.name: (
            int,
            Field(
                default=w.window_days,
                ge=1,
                le=w.window_days,
                description=f"Trailing window of `{w.name}` in days, 1 to the YAML's "
                f"{w.window_days} (the history loaded).",
            ),
        )
        for w in windows
    }
    name = f"{table.name.title().replace('_', '')}Windows"
    windows_cls: type[RunConfigBase] = create_model(name, __base__=RunConfigBase, **fields)
    return windows_cls


def feature_run_config(table: FeatureTableConfig) -> type[FeatureRunConfigBase]:
    """The feature table's run configuration (defaults: the YAML)."""
    fields: dict[str, Any] = {
        "as_of": (
            AsOf,
            Field(
                default="",
                description="Recompute the day as it stood at this time: source rows stamped "
                f"(`{table.timestamp}`) at or after it are left out. {AS_OF_DESCRIPTION}",
            ),
        )
    }
    windows_cls = _windows_class(table)
    if windows_cls is not None:
        fields["window_days"] = (
            windows_cls,
            Field(
                default_factory=windows_cls,
                description="Window length of each window feature for this run (YAML "
                "`window_days` by default; shorter only).",
            ),
        )
    config: type[FeatureRunConfigBase] = create_model(
        f"{table.name.title().replace('_', '')}FeatureRunConfig",
        __base__=FeatureRunConfigBase,
        **fields,
    )
    return config


class TrainingSetRunConfigBase(AsOfRunConfig):
    """What every training set's run configuration has."""

    max_feature_age_days: int = Field(default=0, ge=0, description="Oldest feature row, in days.")

    def training_set(self, ts: TrainingSetConfig) -> TrainingSetConfig:
        """``ts`` with this run's feature age."""
        age = self.max_feature_age_days or None
        return ts.model_copy(update={"max_feature_age_days": age})

    def labels(self, labels: LazyFrame, ts: TrainingSetConfig) -> LazyFrame:
        """The labels stamped at or before ``as_of`` (all of them without one)."""
        import narwhals as nw

        as_of = self.as_of_time()
        return labels if as_of is None else labels.filter(nw.col(ts.label_timestamp) <= as_of)


def training_set_run_config(ts: TrainingSetConfig) -> type[TrainingSetRunConfigBase]:
    """The training set's run configuration (defaults: the YAML)."""
    yaml_age = ts.max_feature_age_days or 0

    class TrainingSetRunConfig(TrainingSetRunConfigBase):
        """Knobs of one training-set build; every default is the YAML's."""

        as_of: AsOf = Field(
            default="",
            description=f"Build the training set as it stood at this time: labels whose "
            f"`{ts.label_timestamp}` is later are left out. {AS_OF_DESCRIPTION}",
        )
        max_feature_age_days: int = Field(
            default=yaml_age,
            ge=0,
            description="Ignore feature rows older than this many days at the label's time "
            f"(YAML `max_feature_age_days`: {ts.max_feature_age_days or 'not set'}; 0: any age).",
        )

    return TrainingSetRunConfig
