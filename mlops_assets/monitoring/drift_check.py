"""One day of drift: the model's inputs and predictions against the profiles stored at training.

:func:`check_drift` is what the drift asset runs. It takes frames of any engine (Polars locally,
Spark on Databricks): the statistics read only the profiled columns (on Spark as aggregates
computed on the cluster, :func:`drift_of`), and only a bounded sample of them reaches the driver,
for the Evidently report.
"""

from pathlib import Path
from typing import Any

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from mlops_assets.config.monitoring import DriftConfig
from mlops_assets.engines.frames import lazy, row_count, to_polars
from mlops_assets.engines.spark import is_spark_frame
from mlops_assets.monitoring.profile import ReferenceProfile
from mlops_assets.monitoring.schema import DriftResult
from mlops_assets.monitoring.windows import DriftWindow
from mlops_assets.storage.lakehouse import safe_partition
from mlops_assets.storage.parquet_files import ParquetFiles


class DriftOutcome(BaseModel):
    """What a day's drift check found: the stored row and the results behind it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    window: DriftWindow = Field(description="The row written to the drift table.")
    inputs: DriftResult = Field(description="Drift of the model's input columns.")
    predictions: DriftResult | None = Field(
        description="Drift of the model's outputs (None: the model has no prediction profile)."
    )
    report: Path | None = Field(description="The Evidently HTML (None: no verdict, no report).")


def report_location(reports_dir: Path, window: str) -> Path:
    """Where the Evidently report of a day goes, inside the use case's reports folder."""
    return reports_dir.joinpath("drift", f"{safe_partition(window)}.html")


def check_drift(
    features: object,
    predictions: object,
    *,
    reference: ReferenceProfile,
    prediction_profile: ReferenceProfile | None,
    config: DriftConfig,
    window: str,
    model_version: str,
    reports_dir: Path,
    seed: int = 0,
    render_report: bool = True,
    feature_files: ParquetFiles | None = None,
) -> DriftOutcome:
    """Drift of a day's features (and predictions) against the champion's reference profiles.

    The verdict of record is computed on every row of the day; the Evidently report is rendered
    from at most ``config.report_sample_size`` rows. A day with too few rows has no verdict and
    no report (an earlier report of that day is removed, so nothing stale is ever linked); a day
    checked with ``render_report=False`` has its verdict and no report either.

    ``feature_files``: the Parquet files that hold exactly ``features``' rows, when the
    lakehouse can name them; the statistics then read those (their string columns are counted
    from the files' dictionaries), and the report still samples ``features``.
    """
    inputs = drift_of(features if feature_files is None else feature_files, reference, config)
    outputs = None
    if prediction_profile is not None:
        outputs = drift_of(predictions, prediction_profile, config, check_overrides=False)
    target = report_location(reports_dir, window)
    report: Path | None = None
    if inputs.status == "insufficient_data" or not render_report:
        target.unlink(missing_ok=True)
    else:
        report = render_day_report(features, reference, config, target, seed)
    row = DriftWindow.from_results(window, model_version, inputs, outputs, report)
    return DriftOutcome(window=row, inputs=inputs, predictions=outputs, report=report)


def drift_of(
    frame: object, profile: ReferenceProfile, config: DriftConfig, *, check_overrides: bool = True
) -> DriftResult:
    """The drift of ``frame``'s profiled columns, computed where the frame lives.

    A Spark frame is reduced to aggregates on the cluster (:func:`~mlops_assets.monitoring.
    spark_drift.compute_drift_spark`: bounded driver rows, each statistic within its stated
    bound of the exact one); any other frame goes to the exact engine
    (:func:`~mlops_assets.monitoring.statistics.compute_drift`), which also reads Parquet
    files as they are (:class:`~mlops_assets.storage.parquet_files.ParquetFiles`).
    """
    if isinstance(frame, ParquetFiles):
        from mlops_assets.monitoring.statistics import compute_drift

        return compute_drift(frame, profile, config, check_overrides=check_overrides)
    selected = profiled(frame, profile)
    if is_spark_frame(lazy(selected).to_native()):
        from mlops_assets.monitoring.spark_drift import compute_drift_spark

        return compute_drift_spark(
            selected, profile, config, check_overrides=check_overrides
        ).result
    from mlops_assets.monitoring.statistics import compute_drift

    return compute_drift(selected, profile, config, check_overrides=check_overrides)


def render_day_report(
    features: object, reference: ReferenceProfile, config: DriftConfig, target: Path, seed: int
) -> Path:
    """The Evidently report of a day from bounded samples of both sides; returns its path."""
    from mlops_assets.monitoring.evidently_report import render_report

    columns = reference.numeric + reference.categorical
    render_report(
        reference.report_frame(),
        bounded_sample(features, columns, config.report_sample_size, seed),
        reference.numeric,
        reference.categorical,
        target,
        sample_size=config.report_sample_size,
        seed=seed,
        config=config,
    )
    return target


def profiled(frame: object, profile: ReferenceProfile) -> Any:
    """``frame`` restricted to the profile's columns, still lazy on its own engine.

    A Polars frame is handed over as a ``polars.LazyFrame`` (read a few columns at a time);
    any other engine's frame stays where it is until the statistics collect those columns.
    Missing columns are left for :func:`compute_drift` to report.
    """
    table = lazy(frame)
    names = set(table.collect_schema().names())
    selected = table.select(*[c for c in profile.columns if c in names])
    native = selected.to_native()
    return native if isinstance(native, pl.LazyFrame) else selected


def bounded_sample(frame: object, columns: list[str], size: int, seed: int) -> pl.DataFrame:
    """At most ``size`` rows of ``columns`` on the driver, as Polars.

    Polars samples ``size`` rows uniformly; a Spark frame is sampled on the cluster first
    (a Bernoulli sample a little larger than needed), so only the sample travels.
    """
    table = lazy(frame).select(*columns)
    native: Any = table.to_native()
    if isinstance(native, pl.LazyFrame):
        data = native.collect()
        return data if data.height <= size else data.sample(n=size, seed=seed)
    total = row_count(table)
    if total > size and callable(getattr(native, "sample", None)):
        fraction = min(1.0, 1.2 * size / total)
        table = lazy(native.sample(withReplacement=False, fraction=fraction, seed=seed))
    return to_polars(table.head(size))
