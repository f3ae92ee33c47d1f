"""Where the batch inference asset scores: in the Dagster process, or as a Databricks job (Pipes).

The environment binds one implementation as ``scoring_compute`` (``resources/factory.py``, by its
``compute`` setting), like ``training_compute``: the asset resolves the version, hands the
resource a :class:`~mlops_assets.ml.batch.ScoringSpec` and records what comes back.

* :class:`LocalScoringCompute` runs :func:`~mlops_assets.ml.batch.score_features` on the frame
  the IO manager loaded and returns the predictions (the lakehouse IO manager writes them);
* :class:`PipesScoringCompute` (in :mod:`mlops_assets.resources.pipes_compute`) sends the spec to
  the ``score`` step of a Databricks job, which runs the same function on the feature partition and
  replaces the predictions partition itself; no predictions come back (the IO manager has nothing to
  write), only the summary and the commit's metadata (rows, schema, table version, location), as a
  local write reports them.
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import dagster as dg

from mlops_assets.engines.frames import DataFrame
from mlops_assets.resources.pipes_report import read_write_report

if TYPE_CHECKING:
    from mlops_assets.ml.batch import ScoringSpec, ScoringSummary
    from mlops_assets.ml.tracking import MlflowSettings
    from mlops_assets.storage.delta import WriteResult
    from mlops_assets.storage.lakehouse import TableRef


@dataclass(frozen=True)
class ScoringOutput:
    """The predictions (None: already written where the lakehouse keeps them) and what to record."""

    predictions: DataFrame | None
    summary: "ScoringSummary"
    metadata: dict[str, Any] = field(default_factory=dict)


class ScoringComputeResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Scores one feature partition (abstract: bind :class:`LocalScoringCompute` or
    :class:`PipesScoringCompute`)."""

    def score(
        self,
        context: dg.AssetExecutionContext,
        spec: "ScoringSpec",
        settings: "MlflowSettings",
        features: object,
        source: "TableRef",
        target: "TableRef",
    ) -> ScoringOutput:
        """Score ``features`` (the frame the IO manager loaded from ``source``, the asset's
        partition of it) with ``spec``; the predictions belong in ``target``."""
        raise NotImplementedError


class LocalScoringCompute(ScoringComputeResource):
    """Scores in the Dagster process; the lakehouse IO manager writes the predictions."""

    def score(
        self,
        context: dg.AssetExecutionContext,
        spec: "ScoringSpec",
        settings: "MlflowSettings",
        features: object,
        source: "TableRef",
        target: "TableRef",
    ) -> ScoringOutput:
        import narwhals as nw

        from mlops_assets.ml.batch import score_features

        scored, summary = score_features(features, spec)
        return ScoringOutput(nw.from_native(scored), summary)


def read_report(
    entries: dict[str, Any],
) -> tuple["ScoringSummary", "WriteResult", dict[str, Any]]:
    """What the ``score`` step reported: its summary, its commit, and the other entries (the
    Pipes client's job run id and URL) as they came (StorageError when the summary or the
    commit is missing or malformed)."""
    from mlops_assets.ml.batch import ScoringSummary

    return read_write_report(entries, ScoringSummary, job="scoring", step="score", did="scored")
