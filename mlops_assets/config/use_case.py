"""A use case: datasets through gold, features, a model and its monitoring, in one YAML file."""

from datetime import date
from typing import Literal

from pydantic import Field, model_validator

from mlops_assets.config.base import StrictModel
from mlops_assets.config.datasets import NAME_PATTERN, DatasetConfig
from mlops_assets.config.estimators import locate_problem
from mlops_assets.config.gate_checks import gate_problems
from mlops_assets.config.ml import ModelConfig, SklearnFlavor
from mlops_assets.config.monitoring import MonitoringConfig
from mlops_assets.config.problems import ConfigProblemsError, Problem
from mlops_assets.config.references import use_case_problems
from mlops_assets.config.tables import FeatureTableConfig, GoldTable, TrainingSetConfig


class SchedulesConfig(StrictModel):
    """Cron schedules of the lifecycle jobs (set one to null to disable it)."""

    timezone: str = Field(default="UTC", description="IANA timezone of the cron expressions.")
    ingestion: str | None = Field(default="0 2 * * *", description="Daily ingestion to gold.")
    inference: str | None = Field(default="0 4 * * *", description="Daily batch inference.")
    monitoring: str | None = Field(default="0 6 * * *", description="Daily drift monitoring.")
    retraining: str | None = Field(default="0 3 * * 1", description="Weekly retraining.")


class UseCaseConfig(StrictModel):
    """Everything one ML use case needs, from landing files to monitoring."""

    name: str = Field(pattern=NAME_PATTERN, description="Use case name; first asset key part.")
    description: str = Field(default="", description="Shown in the README and the UI.")
    owners: list[str] = Field(default_factory=list, description="Dagster owners (emails/teams).")
    start_date: date = Field(description="First daily partition.")
    end_offset_days: int = Field(
        default=0, ge=0, description="Days past today that partitions extend to."
    )
    datasets: list[DatasetConfig] = Field(min_length=1, description="Bronze/silver datasets.")
    gold: list[GoldTable] = Field(default_factory=list, description="Gold tables.")
    feature_tables: list[FeatureTableConfig] = Field(
        default_factory=list, description="Feature tables."
    )
    training_set: TrainingSetConfig | None = Field(
        default=None, description="Point-in-time training set for the model."
    )
    model: ModelConfig | None = Field(default=None, description="The model trained and served.")
    monitoring: MonitoringConfig = Field(
        default_factory=MonitoringConfig, description="Drift, performance, retraining, alerts."
    )
    schedules: SchedulesConfig = Field(
        default_factory=SchedulesConfig, description="Job schedules."
    )

    def table_names(self) -> dict[str, Literal["silver", "gold"]]:
        names: dict[str, Literal["silver", "gold"]] = {}
        for ds in self.datasets:
            names[f"silver.{ds.name}"] = "silver"
        for gold in self.gold:
            names[f"gold.{gold.name}"] = "gold"
        return names

    @model_validator(mode="after")
    def _references(self) -> "UseCaseConfig":
        problems = use_case_problems(self)
        if self.model is not None:
            problems += [
                Problem(("model", "gates", *p.loc), p.message, p.fix)
                for p in gate_problems(self.model.gates)
            ]
            if isinstance(self.model.flavor, SklearnFlavor):
                missing = locate_problem(self.model.flavor.estimator)
                if missing is not None:
                    problems.append(Problem(("model", "flavor", "estimator"), *missing))
        if problems:
            raise ConfigProblemsError(problems)
        return self

    def feature_table(self, name: str) -> FeatureTableConfig:
        return next(f for f in self.feature_tables if f.name == name)
