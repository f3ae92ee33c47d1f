"""How a sampled row is perturbed: numeric jitter, category resampling, and the churn profile.

Generic sources get additive jitter (`noise` x the column's standard deviation, clipped to the
source's range, rounded like the source) on continuous columns and redraw a `resample_rate` share
of categorical values from the column itself. Noise that would break a row rule the original row
passed is undone for that row, so only injected defects are quarantined.

The shipped wa_churn table feeding a dataset with its columns keeps the demo's calibrated profile:
2 % multiplicative noise on monthly_charges, tenure advancing a month every 30 days with charges
accruing, and its four defect kinds.
"""

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from mlops_assets.simulate.defects import Defect, DefectKind
from mlops_assets.simulate.domains import ColumnFacts

MAX_RESAMPLED_INT_LEVELS = 20
"""Integer columns with at most this many distinct values are categories (flags, counts)."""
ZERO_INFLATED = 0.01
"""Columns with at least this share of exact zeros keep them (jitter only moves other values)."""
DAYS_PER_TENURE_MONTH = 30
_MAX_DECIMALS = 10


@dataclass(frozen=True)
class Jitter:
    """Noise on one numeric column."""

    column: str
    sd: float
    multiplicative: bool = False
    lo: float | None = None
    hi: float | None = None
    integer: bool = False
    decimals: int | None = None
    keep_zero: bool = False  # zero-inflated columns (no basement: 0 sq ft) keep their zeros


@dataclass(frozen=True)
class NoisePlan:
    """What happens to a dataset's sampled rows before drift and defects."""

    jitter: tuple[Jitter, ...] = ()
    resample: tuple[str, ...] = ()
    guard: bool = True
    evolve: Callable[[pl.DataFrame, int], pl.DataFrame] | None = None
    defects: tuple[Defect, ...] | None = None  # None: derived from the YAML


def decimals_of(series: pl.Series) -> int | None:
    """The fewest decimals that represent every value of a float column (None: more than 10)."""
    values = series.drop_nulls().cast(pl.Float64)
    if values.is_empty():
        return 2
    for digits in range(_MAX_DECIMALS + 1):
        scaled = values * 10**digits
        if bool(((scaled - scaled.round(0)).abs() <= 1e-9 * (1 + scaled.abs())).all()):
            return digits
    return None


def generic_plan(
    base: pl.DataFrame, facts: dict[str, ColumnFacts], fixed: set[str], noise: float, rate: float
) -> NoisePlan:
    """Jitter continuous columns and resample categorical ones, except the `fixed` ones."""
    jitter: list[Jitter] = []
    resample: list[str] = []
    for name, fact in facts.items():
        if name in fixed or name not in base.columns:
            continue
        series = base[name]
        categorical = fact.dtype in ("string", "bool") or (
            fact.dtype == "int64" and series.n_unique() <= MAX_RESAMPLED_INT_LEVELS
        )
        if categorical and rate > 0:
            resample.append(name)
        elif fact.is_numeric and not categorical and noise > 0:
            std = series.cast(pl.Float64).std()
            if std is not None and float(std) > 0:  # type: ignore[arg-type]
                jitter.append(
                    Jitter(
                        column=name,
                        sd=noise * float(std),  # type: ignore[arg-type]
                        lo=_as_float(series.min()),
                        hi=_as_float(series.max()),
                        integer=fact.dtype == "int64",
                        decimals=None if fact.dtype == "int64" else decimals_of(series),
                        keep_zero=int((series == 0).sum()) >= ZERO_INFLATED * series.len(),
                    )
                )
    return NoisePlan(jitter=tuple(jitter), resample=tuple(resample))


def _as_float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


WA_CHURN_COLUMNS = ("customer_id", "tenure", "contract", "monthly_charges", "total_charges")


def wa_churn_plan(facts: dict[str, ColumnFacts]) -> NoisePlan | None:
    """The demo's profile, when the dataset declares the wa_churn columns it needs."""
    if not all(c in facts for c in WA_CHURN_COLUMNS):
        return None
    defects = [Defect(DefectKind.NULL, "customer_id")]
    if facts["tenure"].low is not None or facts["tenure"].high is not None:
        defects.append(Defect(DefectKind.OUT_OF_RANGE, "tenure"))
    defects += [
        Defect(DefectKind.UNKNOWN_VALUE, "contract", "Quarterly"),
        Defect(DefectKind.UNPARSEABLE, "monthly_charges", "n/a"),
    ]
    monthly = Jitter(column="monthly_charges", sd=0.02, multiplicative=True, decimals=2)
    return NoisePlan(jitter=(monthly,), guard=False, evolve=_churn_evolve, defects=tuple(defects))


def _churn_evolve(frame: pl.DataFrame, day_index: int) -> pl.DataFrame:
    """Tenure advances a month every 30 days; charges accrue meanwhile."""
    months = (day_index - 1) // DAYS_PER_TENURE_MONTH
    frame = frame.with_columns(tenure=pl.col("tenure") + months)
    if months > 0:
        accrued = pl.col("total_charges").fill_null(0.0) + pl.col("monthly_charges") * months
        frame = frame.with_columns(total_charges=accrued.round(2))
    return frame
