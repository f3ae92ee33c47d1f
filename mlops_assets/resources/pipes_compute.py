"""The heavy steps as Databricks jobs through Dagster Pipes (``compute: pipes``).

Each class here binds one of the compute resources (``feature_compute``, ``training_compute``,
``scoring_compute``) to a step of the Databricks job: the asset hands over the same typed spec
as to its local implementation, the job runs the same function on Spark and writes (or
registers) the result itself, and only the summary and the commit's metadata come back.

Only the ``databricks`` environment binds them (``resources/factory.py``), so the local code
location never imports the Databricks clients.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import dagster as dg

from mlops_assets.engines.frames import LazyFrame
from mlops_assets.resources.databricks import DatabricksPipesResource
from mlops_assets.resources.feature_compute import FeatureComputeResource, FeatureOutput
from mlops_assets.resources.feature_compute import read_report as read_feature_report
from mlops_assets.resources.lakehouse import LakehouseResource
from mlops_assets.resources.pipes_report import raw_value
from mlops_assets.resources.scoring_compute import ScoringComputeResource, ScoringOutput
from mlops_assets.resources.scoring_compute import read_report as read_scoring_report
from mlops_assets.resources.training_compute import (
    RECORDED_BY_IO_MANAGER,
    TrainingComputeResource,
    TrainingOutput,
    registered_version,
)

if TYPE_CHECKING:
    from pydantic import BaseModel

    from mlops_assets.ml.batch import ScoringSpec
    from mlops_assets.ml.tracking import MlflowSettings, RunTags
    from mlops_assets.storage.delta import WriteResult
    from mlops_assets.storage.lakehouse import Lakehouse, TableRef
    from mlops_assets.transforms.feature_partition import FeatureSpec
    from mlops_assets.workflows.training import TrainingSpec

Summary = TypeVar("Summary")


def _run_writing_step(
    pipes: DatabricksPipesResource,
    context: dg.AssetExecutionContext,
    step: str,
    request: "BaseModel",
    read: Callable[[dict[str, Any]], tuple[Summary, "WriteResult", dict[str, Any]]],
    house: "Lakehouse",
    target: "TableRef",
) -> tuple[Summary, dict[str, Any]]:
    """Run a step that writes ``target`` itself: its summary, and as metadata the Pipes entries
    (the job run id and URL) and the commit, as the lakehouse IO manager reports a write."""
    from mlops_assets.resources.metadata import write_metadata

    invocation = pipes.run(context, step, request)
    summary, written, passed = read(dict(invocation.get_materialize_result().metadata or {}))
    return summary, {**passed, **write_metadata(written, house.table_location(target), target)}


class PipesFeatureCompute(FeatureComputeResource):
    """Computes in a Databricks job through Dagster Pipes (``compute: pipes``); the job reads the
    source partitions and replaces the feature partition where the lakehouse keeps it."""

    databricks_pipes: DatabricksPipesResource
    lakehouse: LakehouseResource

    def compute(
        self,
        context: dg.AssetExecutionContext,
        spec: "FeatureSpec",
        source_frame: LazyFrame,
        source: "TableRef",
        target: "TableRef",
    ) -> FeatureOutput:
        from mlops_assets.databricks.steps import FeaturesRequest, table_source

        house = self.lakehouse.get()
        request = FeaturesRequest(
            **spec.model_dump(),
            source=table_source(house, source),
            source_partitions=list(context.asset_partition_keys_for_input("source")),
            output=table_source(house, target),
            partition=context.partition_key,
        )
        summary, metadata = _run_writing_step(
            self.databricks_pipes, context, "features", request, read_feature_report, house, target
        )
        return FeatureOutput(None, summary, metadata)


class PipesTrainingCompute(TrainingComputeResource):
    """Trains in a Databricks job through Dagster Pipes (``compute: pipes``); the job reads the
    training set where the lakehouse keeps it and registers the version."""

    databricks_pipes: DatabricksPipesResource
    lakehouse: LakehouseResource

    def train(
        self,
        context: dg.AssetExecutionContext,
        spec: "TrainingSpec",
        settings: "MlflowSettings",
        tags: "RunTags",
        table: "TableRef",
        training_set: object,
    ) -> TrainingOutput:
        from mlops_assets.databricks.steps import TrainRequest, UnityCatalogTable, table_source
        from mlops_assets.ml.tracking import run_url

        source = table_source(self.lakehouse.get(), table)
        request = TrainRequest(
            **{
                **spec.model_dump(),
                "dataset_table": source.name
                if isinstance(source, UnityCatalogTable)
                else spec.dataset_table,
            },
            table=source,
            mlflow=settings,
        )
        invocation = self.databricks_pipes.run(context, "train", request)
        reported: dict[str, Any] = dict(invocation.get_materialize_result().metadata or {})
        model = registered_version(reported)
        metadata: dict[str, Any] = {
            k: v for k, v in reported.items() if k not in RECORDED_BY_IO_MANAGER
        }
        experiment = raw_value(reported.get("mlflow_experiment_id"))
        url = run_url(settings, str(experiment), model.run_id) if experiment else None
        if url:
            metadata["mlflow_run"] = dg.MetadataValue.url(url)
        return TrainingOutput(model, metadata)


class PipesScoringCompute(ScoringComputeResource):
    """Scores in a Databricks job through Dagster Pipes (``compute: pipes``); the job reads the
    feature partition and replaces the predictions partition where the lakehouse keeps them."""

    databricks_pipes: DatabricksPipesResource
    lakehouse: LakehouseResource

    def score(
        self,
        context: dg.AssetExecutionContext,
        spec: "ScoringSpec",
        settings: "MlflowSettings",
        features: object,
        source: "TableRef",
        target: "TableRef",
    ) -> ScoringOutput:
        from mlops_assets.databricks.steps import ScoreRequest, table_source

        house = self.lakehouse.get()
        request = ScoreRequest(
            **spec.model_dump(),
            table=table_source(house, source),
            output=table_source(house, target),
            partition=context.partition_key if context.has_partition_key else None,
            mlflow=settings,
        )
        summary, metadata = _run_writing_step(
            self.databricks_pipes, context, "score", request, read_scoring_report, house, target
        )
        return ScoringOutput(None, summary, metadata)
