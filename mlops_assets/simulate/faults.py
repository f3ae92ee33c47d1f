"""Faults applied to a day's typed rows, the same way for every dataset: drift, bad rows, copies."""

from dataclasses import dataclass

import numpy as np
import polars as pl

from mlops_assets.simulate.config import SimulationConfig
from mlops_assets.simulate.defects import DefectKind, defect_expr
from mlops_assets.simulate.drift import drift_expr
from mlops_assets.simulate.plan import DatasetPlan
from mlops_assets.simulate.streams import Stream, rng_for
from mlops_assets.simulate.text import text_expr

# Defects that keep a typed value are applied before those that turn a column into text.
_TYPED_FIRST = {
    DefectKind.OUT_OF_RANGE: 0,
    DefectKind.NULL: 1,
    DefectKind.UNKNOWN_VALUE: 2,
    DefectKind.PATTERN: 3,
    DefectKind.UNPARSEABLE: 4,
}


@dataclass(frozen=True)
class Broken:
    """Rows after defects and duplicates, with what was done."""

    frame: pl.DataFrame
    kind: np.ndarray  # per original row: index of its defect in plan.defects, -1 when clean
    bad_rows: int
    duplicates: int


def apply_drift(
    frame: pl.DataFrame, dp: DatasetPlan, config: SimulationConfig, day_index: int
) -> tuple[pl.DataFrame, list[str]]:
    """`frame` with every drift of `dp` active on `day_index`, and the drifted column names."""
    drifted: list[str] = []
    for target in dp.drifts:
        if target.injection.from_day > day_index:
            continue
        rng = rng_for(config.seed, day_index, Stream.DRIFT + target.position, dp.stream)
        column = target.column
        reference = dp.base[column] if dp.base is not None and column in dp.base.columns else None
        expr = drift_expr(target, rng, frame.height, frame.schema[column], reference)
        frame = frame.with_columns(expr.alias(column))
        drifted.append(column)
    return frame, drifted


def break_rows(
    frame: pl.DataFrame, dp: DatasetPlan, config: SimulationConfig, day_index: int
) -> Broken:
    """Break a `dp.bad_rate` share of rows (one defect each), then append re-sent copies."""
    n = frame.height
    bad_rng = rng_for(config.seed, day_index, Stream.BAD, dp.stream)
    n_bad = int(bad_rng.binomial(n, dp.bad_rate)) if dp.defects else 0
    kind = np.full(n, -1, dtype=np.int32)
    kind[bad_rng.choice(n, n_bad, replace=False)] = bad_rng.integers(0, len(dp.defects), n_bad)
    frame = _apply_defects(frame, dp, kind)

    good = np.flatnonzero(kind < 0)
    dup_rng = rng_for(config.seed, day_index, Stream.DUPLICATE, dp.stream)
    n_dup = min(int(dup_rng.binomial(n, dp.duplicate_rate)), good.size)
    if n_dup:
        resent = np.sort(good[dup_rng.choice(good.size, n_dup, replace=False)])
        frame = pl.concat([frame, frame[resent]])
    return Broken(frame=frame, kind=kind, bad_rows=n_bad, duplicates=n_dup)


def _apply_defects(frame: pl.DataFrame, dp: DatasetPlan, kind: np.ndarray) -> pl.DataFrame:
    """Break only the hit rows (gathered, broken, scattered back), one column at a time."""
    by_column: dict[str, list[int]] = {}
    for index, defect in enumerate(dp.defects):
        by_column.setdefault(defect.column, []).append(index)
    updates: list[pl.Series] = []
    for column, indexes in by_column.items():
        rows = np.flatnonzero(np.isin(kind, indexes))
        if rows.size == 0:
            continue
        dtype = frame.schema[column]
        hit = frame.select(column)[rows]
        for index in sorted(indexes, key=lambda i: _TYPED_FIRST[dp.defects[i].kind]):
            defect = dp.defects[index]
            mask = pl.lit(pl.Series(kind[rows] == index))
            fact = dp.facts[column]
            hit = hit.with_columns(defect_expr(defect, fact, hit.schema[column], mask))
        series = frame[column]
        if hit.schema[column] != dtype:  # a value is text now: so is the whole column
            series = frame.select(text_expr(column, dtype)).to_series()
        updates.append(series.clone().scatter(rows, hit[column]))
    return frame.with_columns(updates) if updates else frame
