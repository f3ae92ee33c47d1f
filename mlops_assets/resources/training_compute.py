"""Where the training asset's fit runs: in the Dagster process, or as a Databricks job (Pipes).

The environment binds one implementation as ``training_compute`` (``resources/factory.py``, by
its ``compute`` setting), so the training asset has no environment test: it hands the resource
its :class:`~mlops_assets.workflows.training.TrainingSpec` and returns what comes back to the MLflow
model IO manager.

* :class:`LocalTrainingCompute` runs :func:`~mlops_assets.workflows.training.run_training` here and
  returns a :class:`TrainedModel` (the IO manager logs and registers it);
* :class:`PipesTrainingCompute` (in :mod:`mlops_assets.resources.pipes_compute`) sends the spec to
  the ``train`` step of a Databricks job, which runs the same function and registers the version
  itself; the asset returns a :class:`RegisteredModelVersion` (the IO manager only records it).
"""

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import dagster as dg

from mlops_assets.errors import RegistryError
from mlops_assets.resources.io_managers.mlflow_model import (
    MODEL_VERSION,
    RegisteredModelVersion,
    TrainedModel,
)
from mlops_assets.resources.metadata import markdown_table, rounded_all
from mlops_assets.resources.pipes_report import raw_value

if TYPE_CHECKING:
    from mlops_assets.ml.tracking import MlflowSettings, RunTags
    from mlops_assets.ml.training import TrainingResult
    from mlops_assets.storage.lakehouse import TableRef
    from mlops_assets.workflows.training import TrainingSpec

RECORDED_BY_IO_MANAGER = frozenset({"registered_model", MODEL_VERSION, "model_uri"})
"""Keys the MLflow model IO manager writes from the registry itself."""


@dataclass(frozen=True)
class TrainingOutput:
    """The training asset's output and the metadata that describes the run."""

    model: TrainedModel | RegisteredModelVersion
    metadata: dict[str, Any] = field(default_factory=dict)


class TrainingComputeResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Runs one training (abstract: bind :class:`LocalTrainingCompute` or
    :class:`PipesTrainingCompute`)."""

    def train(
        self,
        context: dg.AssetExecutionContext,
        spec: "TrainingSpec",
        settings: "MlflowSettings",
        tags: "RunTags",
        table: "TableRef",
        training_set: object,
    ) -> TrainingOutput:
        """Fit ``spec`` on the training set ``table`` (``training_set``: its frame as the IO
        manager loaded it), tracked with ``settings`` and ``tags``."""
        raise NotImplementedError


class LocalTrainingCompute(TrainingComputeResource):
    """Trains in the Dagster process, on the frame the IO manager loaded."""

    def train(
        self,
        context: dg.AssetExecutionContext,
        spec: "TrainingSpec",
        settings: "MlflowSettings",
        tags: "RunTags",
        table: "TableRef",
        training_set: object,
    ) -> TrainingOutput:
        from mlops_assets.ml.tracking import run_url
        from mlops_assets.workflows.training import run_training

        outcome = run_training(training_set, spec, settings, tags)
        url = run_url(settings, outcome.experiment_id, outcome.run_id)
        model = TrainedModel(
            result=outcome.result,
            config=spec.model,
            registered_name=spec.registered_name,
            input_example=outcome.input_example,
            profiles=outcome.profiles,
        )
        return TrainingOutput(model, training_metadata(outcome.result, outcome.run_id, url))


def registered_version(reported: dict[str, Any]) -> RegisteredModelVersion:
    """The version the job reported (RegistryError naming what is missing)."""
    keys = ("registered_model", MODEL_VERSION, "mlflow_run_id", "model_uri")
    values = {k: raw_value(reported.get(k)) for k in keys}
    missing = sorted(k for k, v in values.items() if v in (None, ""))
    if missing:
        raise RegistryError(
            f"the training job reported no {', '.join(missing)}",
            context={"reported": sorted(reported)},
            fix="check the job's logs: the `train` step reports the version it registered",
        )
    return RegisteredModelVersion(
        registered_name=str(values["registered_model"]),
        version=str(values[MODEL_VERSION]),
        run_id=str(values["mlflow_run_id"]),
        model_uri=str(values["model_uri"]),
    )


def training_metadata(result: "TrainingResult", run_id: str, run_url: str | None) -> dict[str, Any]:
    """Validation metrics (table and numbers), parameters, split sizes and the MLflow run."""
    metadata: dict[str, Any] = {
        **rounded_all(result.validation_metrics, prefix="validation_"),  # plotted first
        "validation_metrics": markdown_table(
            ["metric", "value"], sorted(result.validation_metrics.items())
        ),
        "params": json.dumps(result.params, sort_keys=True, default=str),
        "n_train": result.n_train,
        "n_validation": result.n_validation,
        "search_trials": len(result.trials),
        "mlflow_run_id": run_id,
    }
    if run_url:
        metadata["mlflow_run"] = dg.MetadataValue.url(run_url)
    return metadata
