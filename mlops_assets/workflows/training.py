"""One training run, tracked in MLflow: the ONE core of the training asset, local or remote.

The training asset (in the Dagster process) and the Databricks ``train`` step
(:mod:`mlops_assets.databricks.steps`, in a job) both call :func:`run_training`: collect the
columns, check them, split by entity, then inside an MLflow run record why it ran and with which
run configuration, log the training and validation datasets, fit with the run's estimator
overrides and build the drift reference profiles (window features profiled on the rows whose
history was complete). :func:`register_training` logs the model and those profiles to the run and
registers the version (what the MLflow model IO manager does locally after the asset returns).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from mlops_assets.config.ml import ModelConfig, ParamValue
from mlops_assets.config.monitoring import DriftConfig
from mlops_assets.monitoring.reference_profiles import HistoryWindows

if TYPE_CHECKING:
    import polars as pl

    from mlops_assets.ml.model_store import ModelVersionInfo
    from mlops_assets.ml.tracking import MlflowSettings, RunTags
    from mlops_assets.ml.training import TrainingResult
    from mlops_assets.monitoring.reference_profiles import ReferenceProfiles

REASON_TAG = "mlops.reason"


class TrainingSpec(BaseModel):
    """What one training run does, independent of where it runs (JSON-ready: it travels)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: ModelConfig = Field(description="The run's model config (split and search applied).")
    registered_name: str = Field(description="Registry name (bare, or three-level on UC).")
    overrides: dict[str, ParamValue] = Field(
        default_factory=dict, description="Estimator parameters this run changes."
    )
    reason: str = Field(default="", description="Why this run was started.")
    tags: dict[str, str] = Field(
        default_factory=dict, description="Extra MLflow run tags (e.g. `mlops.run_config.*`)."
    )
    dataset_name: str = Field(default="training_set", description="Name of the logged dataset.")
    dataset_table: str = Field(
        default="", description="Table name recorded with the logged datasets (empty: the name)."
    )
    drift: DriftConfig = Field(
        default_factory=DriftConfig, description="How the drift reference profiles are built."
    )
    history: HistoryWindows | None = Field(
        default=None, description="Window features profiled on complete-history rows only."
    )


@dataclass(frozen=True)
class TrainingOutcome:
    """A finished training run: the fit, where it was tracked and what goes with the model."""

    result: TrainingResult
    run_id: str
    experiment_id: str
    input_example: pl.DataFrame
    profiles: ReferenceProfiles


def run_training(
    training_set: object, spec: TrainingSpec, settings: MlflowSettings, tags: RunTags
) -> TrainingOutcome:
    """Fit ``spec`` on ``training_set`` (any narwhals-supported frame) inside a new MLflow run.

    Only the columns the model reads reach the driver; window-feature history rows are filtered
    on the frame's own engine.

    Raises:
        SchemaMismatchError: a column the model needs is missing (before any run starts).
        TrainingError: the fit failed.
    """
    import mlflow

    from mlops_assets.ml.columns import collect_columns, training_columns
    from mlops_assets.ml.frames import check_columns
    from mlops_assets.ml.split import split_frame
    from mlops_assets.ml.tracking import log_dataset, start_run
    from mlops_assets.ml.training import train_model
    from mlops_assets.monitoring.reference_profiles import (
        build_reference_profiles,
        complete_history_rows,
    )

    model = spec.model
    rows = collect_columns(training_set, training_columns(model))
    check_columns(rows, model, need_label=True, what="training")  # typed, before any run
    splits = split_frame(rows, model.entity_key, model.split)
    train, validation = splits["train"], splits["validation"]
    with start_run(settings, f"train {spec.registered_name}", tags) as run:
        if spec.reason:
            mlflow.set_tag(REASON_TAG, spec.reason)
        if spec.tags:
            mlflow.set_tags(spec.tags)
        mlflow.log_params({"n_train": train.height, "n_validation": validation.height})
        for split, rows_of_split in (("training", train), ("validation", validation)):
            log_dataset(
                rows_of_split,
                name=spec.dataset_name,
                table=spec.dataset_table or spec.dataset_name,
                context=split,
                targets=model.label,
            )
        result = train_model(train, validation, model, spec.overrides)
        profiles = build_reference_profiles(
            result.pipeline,
            train,
            validation,
            model,
            spec.drift,
            complete_history_rows(training_set, spec.history),  # window features
        )
    return TrainingOutcome(
        result=result,
        run_id=run.info.run_id,
        experiment_id=run.info.experiment_id,
        input_example=train.head(5),
        profiles=profiles,
    )


def register_training(
    outcome: TrainingOutcome, spec: TrainingSpec, settings: MlflowSettings
) -> ModelVersionInfo:
    """Log the model and its drift reference profiles to the run and register a new version.

    The profiles become ``mlops.artifact.reference_profile`` / ``prediction_profile`` version
    tags: where the drift asset looks for the champion's reference.
    """
    from mlops_assets.ml.model_store import log_and_register
    from mlops_assets.monitoring.reference_profiles import saved_profiles

    with saved_profiles(outcome.profiles) as files:
        return log_and_register(
            outcome.result,
            spec.model,
            settings,
            outcome.input_example,
            files,
            registered_name=spec.registered_name,
        )
