"""The labels file of a day: outcomes of the observations made `label_delay_days` earlier.

Each row references one earlier observation: its entity id, its event time (in the columns the
labels dataset shares with the observations, and in `training_set.label_timestamp`), its label,
and the time the outcome became known (the labels dataset's `event_time`: the observation's time
of day on the labels day). Columns the observations do not have are synthesized.
"""

import datetime as dt

import polars as pl

from mlops_assets.simulate.domains import POLARS_TYPES, synthesize
from mlops_assets.simulate.faults import Broken, apply_drift, break_rows
from mlops_assets.simulate.labels import EVENT_US, event_times, label_times
from mlops_assets.simulate.plan import DatasetPlan, SimulationPlan
from mlops_assets.simulate.streams import Stream, rng_for


def build_labels(
    lp: DatasetPlan, plan: SimulationPlan, pending: pl.DataFrame, day_index: int
) -> tuple[Broken, list[str]]:
    """The typed labels rows landing on `day_index` (after drift, defects and copies)."""
    config, roles = plan.config, plan.roles
    label_day: dt.date = config.date_of(day_index)
    rng = rng_for(config.seed, day_index, Stream.LABEL_COLUMNS, lp.stream)
    micros = pending[EVENT_US]
    columns: list[pl.Series] = []
    for spec in lp.config.columns:
        name, dtype = spec.name, POLARS_TYPES[spec.dtype]
        if name == lp.config.event_time and spec.dtype in ("date", "datetime"):
            columns.append(label_times(micros, label_day, dtype).alias(name))
        elif name in pending.columns and name != EVENT_US:
            columns.append(pending[name])
        elif name == roles.label_timestamp and spec.dtype in ("date", "datetime"):
            columns.append(event_times(micros, dtype).alias(name))
        else:
            columns.append(synthesize(lp.facts[name], pending.height, rng, label_day))
    frame = pl.DataFrame(columns)
    if frame.height and all(k in frame.columns for k in lp.config.keys):
        frame = frame.filter(pl.struct(lp.config.keys).is_first_distinct())  # one label per key
    frame, drifted = apply_drift(frame, lp, config, day_index)
    return break_rows(frame, lp, config, day_index), drifted
