"""Labels: synthesized when the source has none, and the delayed labels file of a day.

A synthesized label is a noisy function of the entity's features (a seeded linear score of the
standardised numeric columns plus a seeded effect per category), so a model can learn it:
binary (about 30 % positive) or multiclass from the accepted values, regression inside the range
rule (or around 100 without one).
"""

import datetime as dt
from typing import Literal

import numpy as np
import polars as pl

from mlops_assets.simulate.domains import MICROS_PER_DAY, ColumnFacts, typed_values

Task = Literal["classification", "binary", "multiclass", "regression"]
EVENT_US = "_event_us"
"""Internal column of pending labels: the observation's time in microseconds since the epoch."""
POSITIVE_SHARE = 0.3
_EPOCH = dt.date(1970, 1, 1)


def infer_task(facts: ColumnFacts, declared: Task | None) -> Task:
    """The model's task when declared, else what the label column's type suggests."""
    if declared is not None:
        return declared
    if facts.dtype in ("string", "bool") or facts.accepted:
        return "classification"
    return "regression"


def _score(base: pl.DataFrame, features: list[str], rng: np.random.Generator) -> np.ndarray:
    """A standardised latent score per row of `base`, plus noise."""
    z = np.zeros(base.height)
    for name in features:
        series = base[name]
        if series.dtype.is_numeric():
            values = series.cast(pl.Float64).to_numpy()
            if np.isnan(values).all():
                continue
            values = np.where(np.isnan(values), np.nanmedian(values), values)
            if values.std() > 0:
                z += rng.normal(0.0, 1.0) * (values - values.mean()) / values.std()
        elif series.dtype in (pl.String, pl.Boolean) or isinstance(series.dtype, pl.Enum):
            text = series.cast(pl.String).fill_null("")
            levels = text.unique().sort()
            effects = dict(zip(levels.to_list(), rng.normal(0.0, 0.7, levels.len()), strict=True))
            z += text.replace_strict(effects, return_dtype=pl.Float64).to_numpy()
    spread = z.std()
    z = (z - z.mean()) / spread if spread > 0 else z
    return np.asarray(z + rng.normal(0.0, 0.5, base.height))


def synthesize_labels(
    base: pl.DataFrame,
    features: list[str],
    facts: ColumnFacts,
    task: Task,
    positive: str | None,
    rng: np.random.Generator,
) -> pl.Series:
    """One label per row of `base`, learnable from its `features`."""
    z = _score(base, features, rng)
    name, n = facts.name, base.height
    if task == "regression":
        if facts.low is None and facts.high is None:
            values = 100.0 + 25.0 * z
        else:
            lo, hi = facts.bounds()
            values = lo + (hi - lo) / (1.0 + np.exp(-z))
        if facts.dtype == "int64":
            return pl.Series(name, np.round(values), dtype=pl.Float64).cast(pl.Int64)
        return pl.Series(name, np.round(values, 2), dtype=pl.Float64)
    if facts.accepted:
        classes = typed_values(facts.accepted, facts.dtype)
    elif facts.dtype == "bool":
        classes = pl.Series([True, False])
    elif facts.dtype == "string":
        classes = typed_values(
            [positive, f"not_{positive}"] if positive else ["yes", "no"], "string"
        )
    else:
        classes = typed_values(["1", "0"], facts.dtype)
    if classes.len() == 2:
        first = 0
        if positive is not None and positive in classes.cast(pl.String).to_list():
            first = classes.cast(pl.String).to_list().index(positive)
        p = 1.0 / (1.0 + np.exp(-(1.5 * z + np.log(POSITIVE_SHARE / (1 - POSITIVE_SHARE)))))
        picked = np.where(rng.random(n) < p, first, 1 - first)
    else:
        cuts = np.quantile(z, np.linspace(0, 1, classes.len() + 1)[1:-1])
        picked = np.searchsorted(cuts, z)
    return classes.gather(pl.Series(picked)).alias(name)


def event_times(micros: pl.Series, dtype: pl.DataType) -> pl.Series:
    """Epoch microseconds as the declared time type (Datetime or Date)."""
    stamps = micros.cast(pl.Datetime("us"))
    return stamps.dt.date() if isinstance(dtype, pl.Date) else stamps


def label_times(micros: pl.Series, label_day: dt.date, dtype: pl.DataType) -> pl.Series:
    """The observation's time of day on `label_day` (when the outcome became known)."""
    start = (label_day - _EPOCH).days * MICROS_PER_DAY
    return event_times(start + micros % MICROS_PER_DAY, dtype)
