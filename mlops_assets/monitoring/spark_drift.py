"""Drift at cluster scale: the statistics of :mod:`.statistics` from Spark aggregates, never rows.

:func:`compute_drift` (the exact engine) sorts every current value on the driver. Here the
driver receives only aggregates, and at most ``max_driver_rows`` rows in all (checked before the
job that could return the most rows runs):

1. one row: per column the count, null count, finite min and max, a quantile sketch
   (``percentile_approx`` at ``quantiles`` probabilities, rank error <= 1/``accuracy``), and for
   categorical columns the smallest and largest value unseen in the reference;
2. numeric columns with few reference values: at most 7 distinct unseen current values each;
3. ``GROUP BY`` jobs (a few columns each): per numeric column the count of every cell of a fine
   grid, and per categorical column the count of every reference category (plus the smallest
   unseen value, and one bucket for the other unseen values).

The grid of a numeric column is exact at its *knots* (the reference's PSI cut points and values,
the Sturges edges of the Jensen-Shannon histogram, the sketch quantiles, min and max: every value
is compared with them in a binary tree of CASE expressions) and uniform in between (``bins``
cells of width ``w = (max - min) / bins`` over the joint range of reference sample and current
data, by arithmetic).

Error bounds against the exact engine on the same data and reference profile (the reference side
is the profile's sample in both):

- PSI, Jensen-Shannon, chi-square and the Z-test: exact (counts at knots, or of categories; the
  unseen categories of one bucket change nothing: each adds ``q ln 2`` to Jensen-Shannon, makes
  chi-square's p-value 0, and the Z-test only looks at the smallest key, which is counted apart).
- Wasserstein: inside a cell the current CDF lies between its values before and after the cell;
  taking it linear there errs by at most the cell's mass, over the cell's width, so
  ``|W - W_exact| <= sum(cell width x cell mass) <= w`` (divided by the reference std, like W).
- KS: ``D`` is bracketed cell by cell (both CDFs are monotone): ``D_exact`` lies in
  ``[D_low, D_high]`` and ``D_high - D_low <=`` the largest current mass of a cell (about
  ``1/quantiles`` at most: the sketch puts knots at current quantiles; a heavy atom becomes a
  knot of its own). The p-value is scipy's for more than 10,000 values (``kstwo``), used for
  fewer values too (scipy's exact small-sample p-value differs slightly there).

Each column's interval is returned with the verdict; the verdict is certain (equal to the exact
engine's) when the threshold lies outside the interval.
"""

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from mlops_assets.config.monitoring import DriftConfig
from mlops_assets.engines.spark import is_spark_frame
from mlops_assets.errors import MonitoringError, SchemaMismatchError
from mlops_assets.monitoring import stattests as st
from mlops_assets.monitoring.columns import (
    _categorical_drift,
    _counts_statistic,
    _empty,
    _verdict,
    resolve_column_config,
)
from mlops_assets.monitoring.profile import CategoricalProfile, NumericProfile, ReferenceProfile
from mlops_assets.monitoring.schema import ColumnDrift, DriftResult
from mlops_assets.monitoring.spark_drift_grid import (
    UNSEEN_MAX,
    Cell,
    ColumnPlan,
    Grid,
    ks_pvalue,
    second_pass,
    unseen_values,
)
from mlops_assets.monitoring.statistics import _check_overrides, uncounted_window


class SparkDriftSettings(BaseModel):
    """How fine the aggregates are, and how many rows may reach the driver."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bins: int = Field(default=1000, ge=10, le=100_000, description="Uniform cells per column.")
    quantiles: int = Field(default=100, ge=2, le=1000, description="Sketch quantiles (knots).")
    accuracy: int = Field(
        default=10_000, ge=100, description="percentile_approx accuracy (rank error 1/accuracy)."
    )
    max_driver_rows: int = Field(
        default=100_000, ge=100, description="Most aggregate rows collected to the driver."
    )


class StatisticBound(BaseModel):
    """Where the exact engine's statistic lies, given the aggregates."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    low: float = Field(description="Lower bound of the exact statistic.")
    high: float = Field(description="Upper bound of the exact statistic.")
    exact: bool = Field(description="The statistic is the exact engine's (up to rounding).")

    def certain(self, threshold: float) -> bool:
        """Whether the verdict cannot differ from the exact engine's."""
        return self.exact or not self.low <= threshold <= self.high


class SparkDriftResult(BaseModel):
    """The drift verdict plus each column's error interval and the rows the driver received."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    result: DriftResult = Field(description="The verdict, in the exact engine's schema.")
    bounds: dict[str, StatisticBound] = Field(description="Per-column statistic interval.")
    driver_rows: int = Field(description="Aggregate rows collected to the driver.")


def compute_drift_spark(
    current: Any,
    profile: ReferenceProfile,
    config: DriftConfig,
    settings: SparkDriftSettings | None = None,
    *,
    columns: Sequence[str] | None = None,
    check_overrides: bool = True,
) -> SparkDriftResult:
    """Drift of a Spark DataFrame (bare or inside narwhals) against a reference profile.

    Raises:
        SchemaMismatchError: not a Spark frame, or a profiled column is missing or mistyped.
        ConfigError: a per-column override does not apply (as :func:`compute_drift`).
        MonitoringError: the aggregates could exceed ``settings.max_driver_rows`` rows.
    """
    import narwhals as nw

    opts = settings or SparkDriftSettings()
    is_narwhals = isinstance(current, nw.LazyFrame | nw.DataFrame)
    df: Any = current.to_native() if is_narwhals else current
    if not is_spark_frame(df):
        raise SchemaMismatchError(
            "compute_drift_spark needs a Spark DataFrame",
            context={"type": type(df).__name__},
            fix="use monitoring.statistics.compute_drift for Polars frames",
        )
    names = list(columns) if columns is not None else list(profile.columns)
    missing = [c for c in names if c not in df.columns or c not in profile.columns]
    if missing:
        raise SchemaMismatchError(
            "Current data does not have the profiled columns.",
            context={"missing": missing},
            fix="Monitor the same feature columns the model (and its reference profile) use.",
        )
    if check_overrides:
        _check_overrides(config, profile)
    types = {f.name: f.dataType for f in df.schema.fields}
    plans = [ColumnPlan.create(i, n, profile.columns[n], types[n]) for i, n in enumerate(names)]
    for plan in plans:
        resolve_column_config(plan.name, plan.prof, config)  # fail fast on bad overrides
    from pyspark.sql import functions as F  # noqa: N812

    exprs = [F.count(F.lit(1)).alias("n")]
    for plan in plans:
        exprs += plan.first_pass(opts.quantiles, opts.accuracy)
    first = df.agg(*exprs).collect()[0]
    n_current, driver_rows = int(first["n"]), 1
    if n_current < config.min_rows:
        return SparkDriftResult(
            result=_result([], profile, n_current, config), bounds={}, driver_rows=driver_rows
        )
    for plan in plans:
        plan.read_first_pass(first)
        if plan.needs_unseen_values:
            found = unseen_values(df, plan)
            driver_rows += len(found)
            plan.unseen = found if len(found) <= UNSEEN_MAX else None
        plan.resolve(config, opts.bins)
    planned = sum(p.max_cells(opts.bins) for p in plans)
    if planned + driver_rows > opts.max_driver_rows:
        raise MonitoringError(
            f"the drift aggregates could return {planned:,} rows, more than max_driver_rows",
            context={"max_driver_rows": opts.max_driver_rows, "columns": len(plans)},
            fix="lower `bins` or `quantiles`, or monitor fewer columns per call",
        )
    cells = second_pass(df, plans)
    driver_rows += sum(len(c) for c in cells.values())
    results, bounds = [], {}
    for plan in plans:
        drift, bound = _column(plan, cells.get(plan.index, []), config)
        results.append(uncounted_window(drift, profile))  # as the exact engine does
        bounds[plan.name] = bound
    return SparkDriftResult(
        result=_result(results, profile, n_current, config), bounds=bounds, driver_rows=driver_rows
    )


def _result(
    columns: list[ColumnDrift], profile: ReferenceProfile, n_current: int, config: DriftConfig
) -> DriftResult:
    status: Literal["ok", "drift", "insufficient_data"] = "insufficient_data"
    share, dataset_drift = 0.0, False
    if n_current >= config.min_rows:
        share = sum(c.drifted for c in columns) / len(columns) if columns else 0.0
        dataset_drift = bool(columns) and share >= config.drift_share
        status = "drift" if dataset_drift else "ok"
    return DriftResult(
        status=status,
        drift_share=share,
        dataset_drift=dataset_drift,
        n_reference=profile.n_rows,
        n_current=n_current,
        columns=columns,
        share_threshold=config.drift_share,
    )


def _column(
    plan: ColumnPlan, cells: list[Cell], config: DriftConfig
) -> tuple[ColumnDrift, StatisticBound]:
    method, threshold = resolve_column_config(plan.name, plan.prof, config)
    prof = plan.prof
    if isinstance(prof, CategoricalProfile):
        counts = {str(k): n for _, _, k, n in cells if k is not None}
        return _exact(_categorical_drift(plan.name, counts, prof, method, threshold))
    if plan.n_valid == 0 or plan.resolved is None:
        return _exact(_empty(plan.name, "numeric", method, threshold, prof.n_valid))
    return _numeric(plan, prof, Grid(plan, cells), threshold)


def _numeric(
    plan: ColumnPlan, prof: NumericProfile, grid: Grid, threshold: float | None
) -> tuple[ColumnDrift, StatisticBound]:
    ref = np.asarray(prof.sample, dtype=np.float64)
    n_cur, resolved = plan.n_valid, plan.resolved
    assert resolved is not None
    if resolved == "wasserstein":
        scale = max(prof.std, 0.001)
        w, err = grid.wasserstein(ref)
        drift = _verdict(plan.name, "numeric", resolved, w / scale, threshold)
        low, high = max(0.0, (w - err) / scale), (w + err) / scale
        return drift, StatisticBound(low=low, high=high, exact=False)
    if resolved == "ks":
        d_low, d_high = grid.ks_bounds(ref)
        p_mid = ks_pvalue((d_low + d_high) / 2, n_cur, ref.size)
        drift = _verdict(plan.name, "numeric", resolved, p_mid, threshold)
        p_low, p_high = ks_pvalue(d_high, n_cur, ref.size), ks_pvalue(d_low, n_cur, ref.size)
        return drift, StatisticBound(low=p_low, high=p_high, exact=False)
    stat: float
    if resolved == "psi":
        cur_counts = np.diff(np.concatenate(([0], grid.count_le(prof.psi_edges), [n_cur])))
        stat = st.psi_smoothed(np.asarray(prof.psi_counts), cur_counts)
    elif resolved == "jensenshannon" and prof.values is None:
        edges = plan.sturges_edges()
        hist = np.diff(np.append(grid.count_lt(edges[:-1]), n_cur)).astype(np.int64)
        stat = st.jensenshannon_counts(st.histogram_sorted(ref, edges), hist, ref.size, n_cur)
    else:
        assert prof.values is not None and prof.value_counts is not None
        ref_map = dict(zip(prof.values, prof.value_counts, strict=True))
        stat = _counts_statistic(resolved, ref_map, grid.value_counts(plan), prof.n_valid, n_cur)
    return _exact(_verdict(plan.name, "numeric", resolved, stat, threshold))


def _exact(drift: ColumnDrift) -> tuple[ColumnDrift, StatisticBound]:
    value = drift.statistic if drift.statistic is not None else float("nan")
    return drift, StatisticBound(low=value, high=value, exact=True)
