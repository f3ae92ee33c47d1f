"""Drift on any declared column of any dataset: resolved against the use case, applied per day.

`COLUMN` names the one dataset declaring it (the observations win over the labels when both do);
`DATASET.COLUMN` is explicit. Numeric drift scales and shifts int64/float64 columns (clipped at 0
when the column never goes below it, rounded like the column) or shifts date/datetime columns by
`add` days; categorical drift moves a share of rows to a value parsed as the column's type.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from mlops_assets.config.datasets import DType
from mlops_assets.errors import ConfigError
from mlops_assets.simulate.config import CategoricalDrift, NumericDrift
from mlops_assets.simulate.domains import MICROS_PER_DAY, ColumnFacts, typed_values
from mlops_assets.simulate.noise import decimals_of
from mlops_assets.simulate.roles import Roles, unknown

_NUMERIC_TYPES = ("int64", "float64", "date", "datetime")


@dataclass(frozen=True)
class DriftTarget:
    """One drift injection resolved to a dataset's column."""

    position: int  # in config.drift: keys the random stream
    injection: NumericDrift | CategoricalDrift
    dataset: str
    column: str
    dtype: DType
    value: object = None  # the typed to_value of a categorical drift

    @property
    def enum_value(self) -> bool:
        """Whether the value must join the categories of a text column."""
        return isinstance(self.injection, CategoricalDrift) and self.dtype == "string"


Facts = dict[str, dict[str, ColumnFacts]]


def _locate(target: str, facts: Facts, roles: Roles) -> tuple[str, str]:
    if "." in target:
        dataset, column = target.split(".", 1)
        if dataset not in facts:
            raise unknown("dataset", dataset, list(facts), f"--drift {target!r}")
        if column not in facts[dataset]:
            raise unknown("column", column, list(facts[dataset]), f"--drift {target!r}")
        return dataset, column
    owners = [d for d in facts if target in facts[d]]
    if not owners:
        everything = sorted({c for cols in facts.values() for c in cols})
        raise unknown("column", target, everything, f"--drift {target!r}")
    observed = [d for d in owners if d != roles.labels]
    if len(owners) == 1 or len(observed) == 1:
        return (observed or owners)[0], target
    raise ConfigError(
        f"--drift column {target!r} is declared by datasets {owners}",
        context={"datasets": owners},
        fix=f"write DATASET.COLUMN, e.g. {owners[0]}.{target}",
    )


def resolve_drifts(
    drifts: Sequence[NumericDrift | CategoricalDrift], facts: Facts, roles: Roles
) -> dict[str, list[DriftTarget]]:
    """Every drift resolved to (dataset, column), by dataset; ConfigError when it cannot be."""
    out: dict[str, list[DriftTarget]] = {}
    for position, injection in enumerate(drifts):
        dataset, column = _locate(injection.column, facts, roles)
        dtype = facts[dataset][column].dtype
        value: object = None
        if isinstance(injection, NumericDrift):
            if dtype not in _NUMERIC_TYPES:
                raise ConfigError(
                    f"numeric drift needs an int64, float64, date or datetime column; "
                    f"{dataset}.{column} is {dtype}",
                    context={"drift": injection.column},
                    fix=f"use to_value=...,fraction=... to remap {column!r} instead",
                )
            if dtype in ("date", "datetime") and injection.multiply != 1.0:
                raise ConfigError(
                    f"{dataset}.{column} is a {dtype}: it can be shifted (add/shift, in days), "
                    "not multiplied",
                    fix=f"write {injection.column}:{injection.from_day}:shift=DAYS",
                )
        else:
            try:
                value = typed_values([injection.to_value], dtype)[0]
            except pl.exceptions.PolarsError:
                value = None
            if value is None:
                raise ConfigError(
                    f"to_value {injection.to_value!r} is not a valid {dtype} for "
                    f"{dataset}.{column}",
                    context={"drift": injection.column},
                    fix=f"give a {dtype} value" + (" such as 0 or 1" if dtype == "int64" else ""),
                )
        target = DriftTarget(position, injection, dataset, column, dtype, value)
        out.setdefault(dataset, []).append(target)
    return out


def drift_expr(
    target: DriftTarget,
    rng: np.random.Generator,
    n: int,
    dtype: pl.DataType,
    reference: pl.Series | None,
) -> pl.Expr:
    """The drifted column (`reference`: the column's base values, for clipping and rounding)."""
    injection, col = target.injection, pl.col(target.column)
    if isinstance(injection, CategoricalDrift):
        moved = pl.lit(pl.Series(rng.random(n) < injection.fraction))
        return pl.when(moved).then(pl.lit(target.value).cast(dtype)).otherwise(col)
    if target.dtype == "datetime":
        return col + pl.duration(microseconds=round(injection.add * MICROS_PER_DAY))
    if target.dtype == "date":
        return col + pl.duration(days=round(injection.add))
    shifted = col.cast(pl.Float64) * injection.multiply + injection.add
    if reference is None or _at_least_zero(reference):
        shifted = shifted.clip(lower_bound=0)
    if target.dtype == "int64":
        return shifted.round(0).cast(pl.Int64)
    digits = 2 if reference is None else decimals_of(reference)
    return shifted.round(digits) if digits is not None else shifted


def _at_least_zero(series: pl.Series) -> bool:
    low = series.cast(pl.Float64).min()
    return isinstance(low, float) and not math.isnan(low) and low >= 0
