"""The heavy steps a Databricks job runs for us, as plain functions over the core modules.

Each step takes a Pydantic request (what the orchestrator sends as Pipes extras: no secret ever)
and returns JSON-ready metadata; :mod:`mlops_assets.databricks.pipes_entry` runs them remotely
and reports logs and metadata back through Dagster Pipes. They work on any machine: a table is a
Unity Catalog table read through the cluster's Spark session, or a Delta path read with Polars.

* ``profile``: rows, columns, null counts of a table;
* ``train``: the training asset's run (``mlops_assets.workflows.training``), then the model and its
  drift reference profiles logged and registered as a new version;
* ``score``: the batch inference asset's scoring of a feature partition with the version the
  asset resolved, the predictions partition replaced in the lakehouse;
* ``features``: one partition of a feature table computed from its source partitions (the
  feature-table asset's core), the partition replaced in the lakehouse.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import narwhals as nw
import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from mlops_assets.errors import StorageError
from mlops_assets.ml.batch import ScoringSpec
from mlops_assets.ml.tracking import MlflowSettings, RunTags
from mlops_assets.storage.lakehouse import Lakehouse, TableRef
from mlops_assets.transforms.feature_partition import FeatureSpec
from mlops_assets.workflows.training import TrainingSpec

StepName = Literal["profile", "train", "score", "features"]


class DeltaPath(BaseModel):
    """A Delta table at a path (local, or a Volume path on a cluster)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["delta"] = "delta"
    path: str = Field(description="Folder of the Delta table.")


class UnityCatalogTable(BaseModel):
    """A Unity Catalog table, read and written through the cluster's Spark session."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["uc"] = "uc"
    name: str = Field(pattern=r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")


TableSource = Annotated[DeltaPath | UnityCatalogTable, Field(discriminator="kind")]


class ProfileRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    table: TableSource
    columns: list[str] | None = Field(default=None, description="Columns (default: all).")


class TrainRequest(TrainingSpec):
    """A :class:`TrainingSpec` plus where the training set is and which MLflow to track in."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    table: TableSource = Field(description="The training set.")
    mlflow: MlflowSettings


class ScoreRequest(ScoringSpec):
    """A :class:`ScoringSpec` (version resolved by the asset) plus where the rows are, where the
    predictions go and which MLflow serves the model."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    table: TableSource = Field(description="Rows to score (the feature table).")
    output: TableSource = Field(description="The predictions table.")
    partition: str | None = Field(
        default=None,
        description="The daily partition read from `table` and replaced in `output` (none: the "
        "whole table is read and `output` overwritten).",
    )
    mlflow: MlflowSettings


class FeaturesRequest(FeatureSpec):
    """A :class:`FeatureSpec` (windows and end resolved by the asset) plus where the source and
    the feature table are."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    source: TableSource = Field(description="The source table (silver or gold).")
    source_partitions: list[str] | None = Field(
        description="The source partitions to read: the partition and its lookback history."
    )
    output: TableSource = Field(description="The feature table.")
    partition: str = Field(description="The daily partition replaced in `output`.")


class StepContext(BaseModel):
    """Provenance of the Dagster step that asked for the work."""

    model_config = ConfigDict(frozen=True)
    run_id: str
    asset_key: str
    partition_key: str | None = None


def table_source(lakehouse: Lakehouse, ref: TableRef) -> DeltaPath | UnityCatalogTable:
    """Where a job reads ``ref``: its Unity Catalog name, or its Delta folder (from the lakehouse,
    the one owner of locations)."""
    from mlops_assets.storage.unity_catalog import UnityCatalogLakehouse

    location = lakehouse.table_location(ref)
    if isinstance(lakehouse, UnityCatalogLakehouse):
        return UnityCatalogTable(name=location)
    return DeltaPath(path=location)


def read_table(source: DeltaPath | UnityCatalogTable, columns: list[str] | None) -> pl.DataFrame:
    """The table (only ``columns``) as a Polars frame on the driver."""
    try:
        if isinstance(source, DeltaPath):
            from mlops_assets.storage.delta import scan_delta

            lazy = scan_delta(Path(source.path))
            return (lazy if columns is None else lazy.select(columns)).collect()
        from pyspark.sql import SparkSession

        frame = SparkSession.builder.getOrCreate().table(source.name)
        if columns is not None:
            frame = frame.select(*columns)
        if hasattr(frame, "toArrow"):  # Spark 4
            return pl.from_arrow(frame.toArrow())  # type: ignore[return-value]
        return pl.from_pandas(frame.toPandas())  # Spark 3.5 runtimes (Arrow-backed)
    except Exception as exc:
        raise StorageError(
            f"could not read {source}: {type(exc).__name__}: {exc}",
            context={"table": source.model_dump()},
            fix="check the table exists and the job's principal may SELECT from it",
        ) from exc


def write_table(frame: pl.DataFrame, target: DeltaPath | UnityCatalogTable) -> None:
    """Overwrite ``target`` with ``frame``."""
    if isinstance(target, DeltaPath):
        frame.write_delta(target.path, mode="overwrite")
        return
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.getOrCreate()
    spark.createDataFrame(frame.to_pandas()).write.mode("overwrite").saveAsTable(target.name)


def run_profile(request: ProfileRequest, ctx: StepContext, log: logging.Logger) -> dict[str, Any]:
    frame = read_table(request.table, request.columns)
    nulls = {c: int(n) for c, n in zip(frame.columns, frame.null_count().row(0), strict=True)}
    log.info("profiled %s rows x %s columns", frame.height, frame.width)
    return {"row_count": frame.height, "column_count": frame.width, "null_counts": nulls}


def scan_table(source: DeltaPath | UnityCatalogTable) -> object:
    """The table as a lazy frame of its own engine (Polars over Delta, or the cluster's Spark)."""
    try:
        if isinstance(source, DeltaPath):
            from mlops_assets.storage.delta import scan_delta

            return scan_delta(Path(source.path))
        from pyspark.sql import SparkSession

        return SparkSession.builder.getOrCreate().table(source.name)
    except Exception as exc:
        raise StorageError(
            f"could not read {source}: {type(exc).__name__}: {exc}",
            context={"table": source.model_dump()},
            fix="check the table exists and the job's principal may SELECT from it",
        ) from exc


def run_train(request: TrainRequest, ctx: StepContext, log: logging.Logger) -> dict[str, Any]:
    """The training asset's run (:func:`mlops_assets.workflows.training.run_training`), then the
    model and its drift reference profiles logged and registered as a new version."""
    from mlops_assets.workflows.training import register_training, run_training

    table = request.table
    spec = request.model_copy(
        update={
            "tags": {**request.tags, "mlops.compute": "databricks-pipes"},
            "dataset_table": request.dataset_table
            or (table.name if isinstance(table, UnityCatalogTable) else request.dataset_name),
        }
    )
    tags = RunTags(
        dagster_run_id=ctx.run_id, asset_key=ctx.asset_key, partition_key=ctx.partition_key
    )
    outcome = run_training(scan_table(table), spec, request.mlflow, tags)
    result = outcome.result
    log.info("trained on %s rows, validated on %s", result.n_train, result.n_validation)
    version = register_training(outcome, spec, request.mlflow)
    log.info("registered %s version %s", version.name, version.version)
    return {
        "registered_model": version.name,
        "model_version": int(version.version),
        "model_uri": version.model_uri,
        "mlflow_run_id": outcome.run_id,
        "mlflow_experiment_id": outcome.experiment_id,
        "n_train": result.n_train,
        "n_validation": result.n_validation,
        "search_trials": len(result.trials),
        "params": json.dumps(result.params, sort_keys=True, default=str),
        **{f"validation_{k}": float(v) for k, v in result.validation_metrics.items()},
    }


def run_score(request: ScoreRequest, ctx: StepContext, log: logging.Logger) -> dict[str, Any]:
    """The batch inference asset's scoring (:func:`mlops_assets.ml.batch.score_features`) of
    one partition, written into the predictions table by the lakehouse's own writer (the
    partition replaced: re-running it is idempotent); reports the summary and the commit."""
    from mlops_assets.ml.batch import score_features
    from mlops_assets.ml.tracking import configure
    from mlops_assets.storage.delta import PARTITIONS_KEY, RUN_ID_KEY

    configure(request.mlflow)
    partitions = [request.partition] if request.partition is not None else None
    features = scan_partitions(request.table, partitions)
    spec = ScoringSpec.model_validate(request.model_dump(include=set(ScoringSpec.model_fields)))
    predictions, summary = score_features(features, spec)
    house, location = lakehouse_for(request.output)
    commit = {RUN_ID_KEY: ctx.run_id}
    if partitions is not None:
        commit[PARTITIONS_KEY] = ",".join(partitions)
    written = house.write(
        location, nw.from_native(predictions), partitions=partitions, commit_metadata=commit
    )
    log.info(
        "scored %s rows with %s, wrote version %s of %s",
        summary.rows,
        request.version.model_uri,
        written.version,
        location,
    )
    return {
        **summary.model_dump(exclude_none=True),  # the task's figures only
        "model_uri": request.version.model_uri,
        "write": written.model_dump(mode="json"),
    }


def scan_partitions(
    source: DeltaPath | UnityCatalogTable, partitions: list[str] | None
) -> nw.LazyFrame[Any]:
    """``source`` (only ``partitions``, without the partition column) as a lazy frame of its
    engine, read the way the lakehouse reads it."""
    house, location = lakehouse_for(source)
    try:
        return house.scan(location, partitions)
    except Exception as exc:
        raise StorageError(
            f"could not read {source}: {type(exc).__name__}: {exc}",
            context={"table": source.model_dump(), "partitions": partitions},
            fix="check the table exists and the job's principal may SELECT from it",
        ) from exc


def lakehouse_for(source: DeltaPath | UnityCatalogTable) -> tuple[Lakehouse, str]:
    """The lakehouse implementation that owns ``source`` on this machine, and its location:
    delta-rs for a Delta path, the cluster's Spark session for a Unity Catalog table (the
    writers the IO manager uses, so a remote write commits exactly like a local one)."""
    if isinstance(source, DeltaPath):
        from mlops_assets.storage.lakehouse import LocalLakehouse

        path = Path(source.path)
        return LocalLakehouse(path.parent), source.path
    from pyspark.sql import SparkSession

    from mlops_assets.storage.unity_catalog import UnityCatalogLakehouse

    catalog, schema, _ = source.name.split(".")
    return UnityCatalogLakehouse(catalog, schema, SparkSession.builder.getOrCreate), source.name


def run_features(request: FeaturesRequest, ctx: StepContext, log: logging.Logger) -> dict[str, Any]:
    """The feature-table asset's computation
    (:func:`mlops_assets.transforms.feature_partition.feature_partition`) of one partition,
    written into the feature table by the lakehouse's own writer (the partition replaced)."""
    from mlops_assets.storage.delta import PARTITIONS_KEY, RUN_ID_KEY
    from mlops_assets.transforms.feature_partition import feature_partition

    source = scan_partitions(request.source, request.source_partitions)
    spec = FeatureSpec.model_validate(request.model_dump(include=set(FeatureSpec.model_fields)))
    features, summary = feature_partition(source, spec)
    house, location = lakehouse_for(request.output)
    written = house.write(
        location,
        features,
        partitions=[request.partition],
        commit_metadata={RUN_ID_KEY: ctx.run_id, PARTITIONS_KEY: request.partition},
    )
    log.info(
        "computed %s rows of %s for %s, wrote version %s of %s",
        written.rows_written,
        request.table.name,
        request.partition,
        written.version,
        location,
    )
    return {**summary.model_dump(), "write": written.model_dump(mode="json")}


Step = Callable[[Any, StepContext, logging.Logger], dict[str, Any]]
STEPS: dict[str, tuple[type[BaseModel], Step]] = {
    "profile": (ProfileRequest, run_profile),
    "train": (TrainRequest, run_train),
    "score": (ScoreRequest, run_score),
    "features": (FeaturesRequest, run_features),
}
