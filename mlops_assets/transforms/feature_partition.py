"""One daily partition of a feature table and its summary, the same wherever it is computed.

The feature-table asset computes it in the Dagster process on the frame the IO manager loaded;
the ``features`` step of a Databricks job (:mod:`mlops_assets.databricks.steps`) on the source
partitions it reads itself. Both call :func:`feature_partition`.
"""

from datetime import datetime
from typing import Any

import narwhals as nw
from pydantic import BaseModel, ConfigDict, Field

from mlops_assets.config.tables import FeatureTableConfig
from mlops_assets.engines.frames import persist
from mlops_assets.transforms.features import compute_features


class FeatureSpec(BaseModel):
    """What to compute, as the Dagster process resolved it from the partition and run config."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    table: FeatureTableConfig = Field(description="The feature table, with this run's windows.")
    start: datetime = Field(description="First instant of the partition (inclusive).")
    end: datetime = Field(
        description="End of the rows computed (exclusive; as_of or the day's end)."
    )


class FeatureSummary(BaseModel):
    """What the asset records about a computed partition."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    nulls: dict[str, int] = Field(description="Null count per feature, in declaration order.")
    entities: int = Field(description="Distinct entities in the partition.")


def feature_partition(
    source: nw.LazyFrame[Any], spec: FeatureSpec
) -> tuple[nw.LazyFrame[Any], FeatureSummary]:
    """The partition's features (computed once: :func:`~mlops_assets.engines.frames.persist`) and
    their summary; ``source`` holds the partition and its lookback history."""
    table = spec.table
    out = persist(compute_features(source, table, start=spec.start, end=spec.end))
    stats = out.select(
        *[nw.col(f.name).null_count().alias(f.name) for f in table.features],
        nw.col(table.entity_key).n_unique().alias("_entities"),
    ).collect()
    summary = FeatureSummary(
        nulls={f.name: int(stats[f.name][0]) for f in table.features},
        entities=int(stats["_entities"][0]),
    )
    return out, summary
