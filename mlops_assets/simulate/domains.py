"""What the YAML says about each column's values, and values synthesized to fit it.

`column_facts` folds a dataset's schema and row rules (not_null, range, accepted_values, regex) into
one `ColumnFacts` per column. `synthesize` draws typed values that satisfy them; synthesized
categories without accepted values are named after their column (`region_01`, ...), so a column
shared by two datasets has the same levels in both (joins match).
"""

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from mlops_assets.config.datasets import ColumnSpec, DatasetConfig, DType
from mlops_assets.config.rules import AcceptedValuesRule, NotNullRule, RangeRule, RegexRule, Scalar
from mlops_assets.errors import ConfigError
from mlops_assets.simulate.patterns import sample_pattern

MICROS_PER_DAY = 86_400_000_000
SYNTHETIC_LEVELS = 6
"""Categories of a synthesized string column that has no accepted values."""
DEFAULT_SPAN = 100.0
"""Width of a synthesized numeric range when a bound (or both) is missing."""

_TRUE = ["true", "t", "yes", "y", "1"]
_FALSE = ["false", "f", "no", "n", "0"]
POLARS_TYPES: dict[str, pl.DataType] = {
    "string": pl.String(),
    "int64": pl.Int64(),
    "float64": pl.Float64(),
    "bool": pl.Boolean(),
    "date": pl.Date(),
    "datetime": pl.Datetime("us"),
}


@dataclass(frozen=True)
class ColumnFacts:
    """A declared column and the constraints its rules put on its values."""

    spec: ColumnSpec
    required: bool
    accepted: tuple[Scalar, ...] | None = None
    low: float | None = None
    high: float | None = None
    low_inclusive: bool = True
    high_inclusive: bool = True
    pattern: str | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def dtype(self) -> DType:
        return self.spec.dtype

    @property
    def is_numeric(self) -> bool:
        return self.dtype in ("int64", "float64")

    def bounds(self) -> tuple[float, float]:
        """A finite [lo, hi] inside the range rule (DEFAULT_SPAN wide where a side is open)."""
        step = 1.0 if self.dtype == "int64" else 0.01
        lo = None if self.low is None else self.low + (0 if self.low_inclusive else step)
        hi = None if self.high is None else self.high - (0 if self.high_inclusive else step)
        if self.dtype == "int64":
            lo = None if lo is None else float(math.ceil(lo))
            hi = None if hi is None else float(math.floor(hi))
        if lo is not None and hi is not None:
            return lo, max(lo, hi)
        if hi is not None:
            return hi - DEFAULT_SPAN, hi
        if lo is not None:
            return lo, lo + DEFAULT_SPAN
        return 0.0, DEFAULT_SPAN


def column_facts(dataset: DatasetConfig) -> dict[str, ColumnFacts]:
    """One ColumnFacts per declared column (ranges and accepted values of several rules combine)."""
    out: dict[str, ColumnFacts] = {}
    required = {r.column for r in dataset.all_rules() if isinstance(r, NotNullRule)}
    for spec in dataset.columns:
        facts = ColumnFacts(spec=spec, required=spec.name in required)
        for rule in dataset.rules:
            if getattr(rule, "column", None) != spec.name:
                continue
            if isinstance(rule, RangeRule):
                low, high = facts.low, facts.high
                if rule.min is not None and (low is None or rule.min >= low):
                    facts = _with(facts, low=rule.min, low_inclusive=rule.min_inclusive)
                if rule.max is not None and (high is None or rule.max <= high):
                    facts = _with(facts, high=rule.max, high_inclusive=rule.max_inclusive)
            elif isinstance(rule, AcceptedValuesRule):
                values = tuple(rule.values)
                if facts.accepted is not None:
                    values = tuple(v for v in facts.accepted if v in values)
                facts = _with(facts, accepted=values)
            elif isinstance(rule, RegexRule) and facts.pattern is None:
                facts = _with(facts, pattern=rule.pattern)
        out[spec.name] = facts
    return out


def _with(facts: ColumnFacts, **changes: object) -> ColumnFacts:
    return dataclasses.replace(facts, **changes)  # type: ignore[arg-type]


def typed_values(values: list[Scalar] | tuple[Scalar, ...], dtype: DType) -> pl.Series:
    """Scalars (from YAML or the command line) as a Series of the declared type."""
    text = pl.Series([str(v).lower() if isinstance(v, bool) else str(v) for v in values])
    if dtype == "string":
        return text
    if dtype == "bool":
        lowered = text.str.to_lowercase()
        truth = pl.when(lowered.is_in(_TRUE)).then(True).when(lowered.is_in(_FALSE)).then(False)
        return pl.select(truth).to_series()
    if dtype == "date":
        return text.str.to_date("%Y-%m-%d")
    if dtype == "datetime":
        return text.str.replace(r"Z$", "").str.to_datetime(time_unit="us")
    return text.cast(POLARS_TYPES[dtype])


def synthesize(
    facts: ColumnFacts, n: int, rng: np.random.Generator, today: dt.date, unique: bool = False
) -> pl.Series:
    """`n` typed values satisfying the column's rules (distinct when `unique`, for ids)."""
    name, dtype = facts.name, facts.dtype
    if unique:
        return _unique_ids(facts, n, rng).alias(name)
    if facts.accepted is not None and facts.accepted:
        levels = typed_values(facts.accepted, dtype)
        return _categorical(levels, n, rng).alias(name)
    if dtype == "string":
        if facts.pattern is not None:
            return sample_pattern(facts.pattern, n, rng).alias(name)
        levels = pl.Series([f"{name}_{i:02d}" for i in range(1, SYNTHETIC_LEVELS + 1)])
        return _categorical(levels, n, rng).alias(name)
    if dtype == "bool":
        return pl.Series(name, rng.random(n) < rng.uniform(0.2, 0.8))
    if dtype == "int64":
        lo, hi = facts.bounds()
        return pl.Series(name, rng.integers(int(lo), int(hi) + 1, n), dtype=pl.Int64)
    if dtype == "float64":
        lo, hi = facts.bounds()
        return pl.Series(name, np.round(rng.uniform(lo, hi, n), 2), dtype=pl.Float64)
    start = (today - dt.date(1970, 1, 1)).days
    if dtype == "date":
        days = start - rng.integers(1, 3 * 365 + 1, n)  # strictly before `today`
        return pl.Series(name, days, dtype=pl.Int32).cast(pl.Date)
    micros = start * MICROS_PER_DAY - rng.integers(1, 30 * MICROS_PER_DAY + 1, n)
    return pl.Series(name, micros, dtype=pl.Int64).cast(pl.Datetime("us"))


def _categorical(levels: pl.Series, n: int, rng: np.random.Generator) -> pl.Series:
    """Draws from `levels` with uneven, seeded shares (so a drift between them is visible)."""
    shares = rng.dirichlet(np.full(levels.len(), 2.0))
    return levels.gather(pl.Series(rng.choice(levels.len(), n, p=shares)))


def _unique_ids(facts: ColumnFacts, n: int, rng: np.random.Generator) -> pl.Series:
    if facts.dtype in ("int64", "float64"):
        first = math.ceil(facts.low) if facts.low is not None else 1
        ids = pl.int_range(first, first + n, eager=True, dtype=pl.Int64)
        return ids.cast(POLARS_TYPES[facts.dtype])
    if facts.dtype != "string":
        raise ConfigError(
            f"cannot generate ids for the {facts.dtype} column {facts.name!r}",
            context={"column": facts.name, "dtype": facts.dtype},
            fix="declare the entity column as string or int64, or pass --entity-column",
        )
    if facts.pattern is not None:
        return sample_pattern(facts.pattern, n, rng, unique=True).sort()
    prefix = (facts.name[:1] or "e").upper()
    digits = pl.int_range(1, n + 1, eager=True).cast(pl.String).str.zfill(len(str(n)) + 1)
    return (prefix + digits).alias(facts.name)
