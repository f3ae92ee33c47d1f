"""Vectorised generation of one simulated day of an observation dataset.

Sample base rows (or the day's slice of a replayed source), perturb them (`noise.NoisePlan`), add
the day's unique sorted event timestamps, drift, keep one row per key, remember what the labels
file of a later day needs, then break and duplicate rows (`faults`). Text columns stay `Enum`
codes until the file is written.
"""

from dataclasses import dataclass

import numpy as np
import polars as pl

from mlops_assets.config.datasets import rule_columns
from mlops_assets.simulate.domains import MICROS_PER_DAY
from mlops_assets.simulate.faults import apply_drift, break_rows
from mlops_assets.simulate.labels import EVENT_US, event_times
from mlops_assets.simulate.plan import DatasetPlan, SimulationPlan
from mlops_assets.simulate.rulecheck import failing, value_rules
from mlops_assets.simulate.streams import Stream, rng_for

_EPOCH_DAYS = 719_163  # date(1970, 1, 1).toordinal()


@dataclass(frozen=True)
class DayBatch:
    """One generated day of a dataset: typed rows to write and the observations to label later."""

    frame: pl.DataFrame
    pending: pl.DataFrame | None
    observations: int
    bad_rows: int
    duplicates: int
    drifted_columns: tuple[str, ...]


def day_start_us(day_ordinal: int) -> int:
    """Microseconds since the epoch at 00:00 UTC of the day with proleptic ordinal `day_ordinal`."""
    return (day_ordinal - _EPOCH_DAYS) * MICROS_PER_DAY


def _sample(dp: DatasetPlan, plan: SimulationPlan, day_index: int, n: int) -> np.ndarray:
    assert dp.base is not None
    rng = rng_for(plan.config.seed, day_index, Stream.SAMPLE, dp.stream)
    if not dp.replay:
        return rng.integers(0, dp.base.height, n)
    height, days = dp.base.height, plan.config.days
    lo = min((day_index - 1) * height // days, height - 1)
    hi = max(day_index * height // days, lo + 1)
    return lo + rng.integers(0, hi - lo, n)


def _noisy(
    frame: pl.DataFrame, dp: DatasetPlan, plan: SimulationPlan, day_index: int
) -> pl.DataFrame:
    noise, config, n = dp.noise, plan.config, frame.height
    assert dp.base is not None
    original = frame
    if noise.jitter:
        rng = rng_for(config.seed, day_index, Stream.NOISE, dp.stream)
        exprs = []
        for jitter in noise.jitter:
            draws = rng.normal(0.0, jitter.sd, n)
            col = pl.col(jitter.column)
            if jitter.multiplicative:
                value = col * pl.Series(1.0 + draws)
            else:
                value = (col.cast(pl.Float64) + pl.Series(draws)).clip(jitter.lo, jitter.hi)
            if jitter.integer:
                value = value.round(0).cast(pl.Int64)
            elif jitter.decimals is not None:
                value = value.round(jitter.decimals)
            if jitter.keep_zero:
                value = pl.when(col == 0).then(col).otherwise(value)
            exprs.append(value.alias(jitter.column))
        frame = frame.with_columns(exprs)
    if noise.resample and config.resample_rate > 0:
        rng = rng_for(config.seed, day_index, Stream.RESAMPLE, dp.stream)
        redrawn = []
        for column in noise.resample:
            picked = np.flatnonzero(rng.random(n) < config.resample_rate)
            donors = dp.base[column].gather(pl.Series(rng.integers(0, dp.base.height, picked.size)))
            redrawn.append(frame[column].scatter(picked, donors))
        frame = frame.with_columns(redrawn)
    if noise.evolve is not None:
        frame = noise.evolve(frame, day_index)
    if noise.guard and (noise.jitter or noise.resample):
        frame = _undo_rule_breaks(frame, original, dp)
    return frame


def _undo_rule_breaks(frame: pl.DataFrame, original: pl.DataFrame, dp: DatasetPlan) -> pl.DataFrame:
    """Rows the noise made fail a row rule they passed get their original values back."""
    changed = [j.column for j in dp.noise.jitter] + list(dp.noise.resample)
    rules = [
        r
        for r in value_rules(dp.config.rules, frame.columns)
        if set(rule_columns(r)) & set(changed)
    ]
    if not rules:
        return frame
    read = sorted({c for r in rules for c in rule_columns(r)})
    undo = failing(frame.select(read), rules) & ~failing(original.select(read), rules)
    if not undo.any():
        return frame
    return frame.with_columns(
        pl.when(undo).then(original[c]).otherwise(pl.col(c)).alias(c) for c in changed
    )


def generate_day(dp: DatasetPlan, plan: SimulationPlan, day_index: int) -> DayBatch:
    """The rows of `dp`'s file on the 1-based `day_index` (see the module docstring)."""
    assert dp.base is not None
    config, n = plan.config, plan.config.rows_per_day
    rows = _sample(dp, plan, day_index, n)
    frame = _noisy(dp.base[rows], dp, plan, day_index)
    if dp.time is not None:
        start = day_start_us(config.date_of(day_index).toordinal())
        rng = rng_for(config.seed, day_index, Stream.TIME, dp.stream)
        offsets = np.sort(rng.integers(0, MICROS_PER_DAY - n + 1, n))
        micros = pl.Series(start + offsets + np.arange(n, dtype=np.int64), dtype=pl.Int64)
        time_type = pl.Date() if dp.facts[dp.time].dtype == "date" else pl.Datetime("us")
        frame = frame.with_columns(event_times(micros, time_type).alias(dp.time))
    typed, drifted = apply_drift(frame, dp, config, day_index)
    if dp.time is None or dp.time not in dp.config.keys or dp.facts[dp.time].dtype == "date":
        typed = typed.filter(pl.struct(dp.config.keys).is_first_distinct())
    pending = _pending(typed, dp, plan, day_start_us(config.date_of(day_index).toordinal()))
    broken = break_rows(typed.select(c.name for c in dp.config.columns), dp, config, day_index)
    if pending is not None:
        hidden = [i for i, d in enumerate(dp.defects) if d.column in (dp.entity, dp.time)]
        pending = pending.filter(pl.Series(~np.isin(broken.kind, hidden)))
    return DayBatch(
        frame=broken.frame,
        pending=pending,
        observations=typed.height,
        bad_rows=broken.bad_rows,
        duplicates=broken.duplicates,
        drifted_columns=tuple(drifted),
    )


def _pending(
    typed: pl.DataFrame, dp: DatasetPlan, plan: SimulationPlan, day_start: int
) -> pl.DataFrame | None:
    """What the labels file needs of each observation: shared columns, label, event time."""
    labels, roles = plan.labels, plan.roles
    if labels is None or dp.name != roles.primary or roles.label is None:
        return None
    wanted = [c.name for c in labels.config.columns if c.name in typed.columns]
    wanted = list(dict.fromkeys([*wanted, roles.label]))
    if dp.time is not None:
        micros = typed[dp.time].cast(pl.Datetime("us")).cast(pl.Int64)
    else:
        micros = pl.Series([day_start] * typed.height, dtype=pl.Int64)
    return typed.select(wanted).with_columns(micros.alias(EVENT_US))
