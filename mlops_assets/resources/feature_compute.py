"""Where a feature table's partition is computed: in the Dagster process, or as a Databricks job.

Bound per environment as ``feature_compute`` (``resources/factory.py``, by its ``compute``
setting), like ``training_compute`` and ``scoring_compute``:

* :class:`LocalFeatureCompute` runs
  :func:`~mlops_assets.transforms.feature_partition.feature_partition` on the frame the IO manager
  loaded and returns the features (the lakehouse IO manager writes them);
* :class:`PipesFeatureCompute` (in :mod:`mlops_assets.resources.pipes_compute`) sends the spec to
  the ``features`` step of a Databricks job, which reads the source partitions, runs the same
  function and replaces the feature partition itself; only the summary and the commit's metadata
  come back (nothing for the IO manager).
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import dagster as dg

from mlops_assets.engines.frames import LazyFrame
from mlops_assets.resources.pipes_report import read_write_report

if TYPE_CHECKING:
    from mlops_assets.storage.delta import WriteResult
    from mlops_assets.storage.lakehouse import TableRef
    from mlops_assets.transforms.feature_partition import FeatureSpec, FeatureSummary


@dataclass(frozen=True)
class FeatureOutput:
    """The features (None: already written where the lakehouse keeps them) and what to record."""

    features: LazyFrame | None
    summary: "FeatureSummary"
    metadata: dict[str, Any] = field(default_factory=dict)


class FeatureComputeResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Computes one feature partition (abstract: bind :class:`LocalFeatureCompute` or
    :class:`PipesFeatureCompute`)."""

    def compute(
        self,
        context: dg.AssetExecutionContext,
        spec: "FeatureSpec",
        source_frame: LazyFrame,
        source: "TableRef",
        target: "TableRef",
    ) -> FeatureOutput:
        """Compute ``spec`` from ``source_frame`` (what the IO manager loaded from ``source``:
        the partition and its lookback history); the features belong in ``target``."""
        raise NotImplementedError


class LocalFeatureCompute(FeatureComputeResource):
    """Computes in the Dagster process; the lakehouse IO manager writes the features."""

    def compute(
        self,
        context: dg.AssetExecutionContext,
        spec: "FeatureSpec",
        source_frame: LazyFrame,
        source: "TableRef",
        target: "TableRef",
    ) -> FeatureOutput:
        from mlops_assets.transforms.feature_partition import feature_partition

        features, summary = feature_partition(source_frame, spec)
        return FeatureOutput(features, summary)


def read_report(
    entries: dict[str, Any],
) -> tuple["FeatureSummary", "WriteResult", dict[str, Any]]:
    """What the ``features`` step reported: its summary, its commit, and the other entries as
    they came (StorageError when the summary or the commit is missing or malformed)."""
    from mlops_assets.transforms.feature_partition import FeatureSummary

    return read_write_report(
        entries, FeatureSummary, job="feature", step="features", did="computed"
    )
