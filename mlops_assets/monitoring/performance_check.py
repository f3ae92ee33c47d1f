"""One day of model quality: the labels that arrived, joined to the predictions made for them.

:func:`check_performance` is what the performance asset runs. The join happens on the frames'
own engine; only the label, prediction and probability of the joined rows reach the driver,
where the metrics are computed.
"""

import narwhals as nw
from pydantic import BaseModel, ConfigDict, Field

from mlops_assets.config.ml import as_task
from mlops_assets.config.monitoring import PerformanceConfig
from mlops_assets.engines.frames import lazy, row_count, to_polars
from mlops_assets.monitoring.performance import PerformanceResult, compute_performance
from mlops_assets.monitoring.windows import PerformanceWindow

PREDICTION = "prediction"
PROBABILITY = "probability"


class PerformanceOutcome(BaseModel):
    """What a day's performance check found: the stored row and the result behind it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    window: PerformanceWindow = Field(description="The row written to the performance table.")
    result: PerformanceResult = Field(description="Metrics, baseline and verdict.")


def check_performance(
    labels: object,
    predictions: object,
    *,
    keys: list[str],
    label_column: str,
    task: str,
    baseline: dict[str, float],
    config: PerformanceConfig,
    window: str,
    model_version: str,
    positive_label: str | int | bool | None = None,
) -> PerformanceOutcome:
    """Score the predictions whose labels arrived on ``window`` against the champion's baseline.

    ``keys`` identify an observation in both tables (entity and observation time). Classifiers
    are scored on P(positive): the hard prediction is re-derived as ``probability >= 0.5`` so it
    is compared in the label's own terms (e.g. "Yes"/"No"), not as a class index.
    """
    arrived = lazy(labels)
    joined = arrived.select(*keys, label_column).join(
        lazy(predictions).select(*keys, PREDICTION, PROBABILITY), on=keys, how="inner"
    )
    binary = as_task(task) == "binary"  # multiclass: the class label; regression: the number
    scored = [label_column, PROBABILITY if binary else PREDICTION]
    result = compute_performance(
        to_polars(joined.select(*[nw.col(c) for c in scored])),
        label_column,
        None if binary else PREDICTION,
        PROBABILITY if binary else None,
        task,
        baseline,
        config,
        positive_label=positive_label,
    )
    row = PerformanceWindow.from_result(window, model_version, result, row_count(arrived))
    return PerformanceOutcome(window=row, result=result)
