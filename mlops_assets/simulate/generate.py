"""Vectorised generation of one simulated day: sample, add noise, drift, break, duplicate.

Every random decision draws from its own stream, keyed by (seed, day, purpose), so turning a drift
or a fault on or off never changes the sample, the timestamps or the noise of any day. Text columns
are gathered as `Enum` codes (fast at 10M rows) and only become text when a file is written.
"""

import datetime as dt
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import polars as pl

from mlops_assets.data import (
    WA_CHURN_BINARY_FEATURES,
    WA_CHURN_FEATURES,
    WA_CHURN_KEY,
    WA_CHURN_TARGET,
)
from mlops_assets.simulate.config import (
    CategoricalDrift,
    NumericDrift,
    SimulationConfig,
)

MICROS_PER_DAY = 86_400_000_000
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S%.6fZ"
MONTHLY_CHARGES_JITTER = 0.02
"""Standard deviation of the multiplicative noise on monthly_charges (2 %)."""
DAYS_PER_TENURE_MONTH = 30
UNKNOWN_CONTRACT = "Quarterly"
UNPARSEABLE_CHARGES = "n/a"
_EPOCH = dt.date(1970, 1, 1)


class Stream(IntEnum):
    """Independent random streams of one day."""

    SAMPLE = 0
    TIME = 1
    NOISE = 2
    BAD = 3
    DUPLICATE = 4
    DRIFT = 100  # + position of the injection in config.drift


class BadKind(IntEnum):
    """The defects a bad row carries (one each)."""

    NULL_CUSTOMER_ID = 0
    NEGATIVE_TENURE = 1
    UNKNOWN_CONTRACT = 2
    UNPARSEABLE_MONTHLY_CHARGES = 3


@dataclass(frozen=True)
class DayBatch:
    """One generated day: the landing rows and what is needed to write its labels later."""

    customers: pl.DataFrame  # typed (Enum/Int64/Float64/String); text once written
    label_rows: np.ndarray  # base-table rows of the labelled observations (null ids excluded)
    label_event_us: np.ndarray  # their event timestamps, microseconds since the epoch (UTC)
    observations: int
    bad_rows: int
    duplicates: int
    drifted_columns: tuple[str, ...]


def day_rng(seed: int, day_index: int, stream: int) -> np.random.Generator:
    """The random generator of one purpose on one day."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(day_index, stream)))


def day_start_us(day: dt.date) -> int:
    """Microseconds since the epoch at 00:00 UTC of `day`."""
    return (day - _EPOCH).days * MICROS_PER_DAY


def format_ts(micros: np.ndarray) -> pl.Series:
    """ISO-8601 UTC text ("2026-01-01T13:45:12.123456Z") of epoch microseconds."""
    naive = pl.Series(micros, dtype=pl.Int64).cast(pl.Datetime("us"))
    return naive.dt.strftime(TIMESTAMP_FORMAT)


def prepare_base(base: pl.DataFrame, config: SimulationConfig) -> pl.DataFrame:
    """The base table with its text columns as Enums that also hold every value we may write."""
    extra: dict[str, set[str]] = {"contract": {UNKNOWN_CONTRACT}}
    for injection in config.drift:
        if isinstance(injection, CategoricalDrift):
            extra.setdefault(injection.column, set()).add(injection.to_value)
    text = [c for c, dtype in base.schema.items() if dtype == pl.String]
    return base.with_columns(
        pl.col(c).cast(pl.Enum(sorted(set(base[c].drop_nulls().to_list()) | extra.get(c, set()))))
        for c in text
    )


def _drift_expr(
    injection: NumericDrift | CategoricalDrift, rng: np.random.Generator, n: int, dtype: pl.DataType
) -> pl.Expr:
    col = pl.col(injection.column)
    if isinstance(injection, NumericDrift):
        shifted = (col.cast(pl.Float64) * injection.multiply + injection.add).clip(lower_bound=0)
        return shifted.round(0).cast(pl.Int64) if dtype == pl.Int64 else shifted.round(2)
    moved = pl.lit(pl.Series(rng.random(n) < injection.fraction))
    value = int(injection.to_value) if injection.column in WA_CHURN_BINARY_FEATURES else None
    target = pl.lit(injection.to_value if value is None else value).cast(dtype)
    return pl.when(moved).then(target).otherwise(col)


def _sample(
    base: pl.DataFrame, config: SimulationConfig, day_index: int
) -> tuple[np.ndarray, np.ndarray, pl.DataFrame]:
    """Rows drawn from `base`, their unique sorted timestamps, and the noisy feature frame."""
    n, seed = config.rows_per_day, config.seed
    rows = day_rng(seed, day_index, Stream.SAMPLE).integers(0, base.height, n)
    # n distinct, sorted microsecond offsets inside the day: sorted draws + 0..n-1.
    offsets = np.sort(day_rng(seed, day_index, Stream.TIME).integers(0, MICROS_PER_DAY - n + 1, n))
    event_us = day_start_us(config.date_of(day_index)) + offsets + np.arange(n, dtype=np.int64)
    months = (day_index - 1) // DAYS_PER_TENURE_MONTH
    jitter = 1.0 + day_rng(seed, day_index, Stream.NOISE).normal(0.0, MONTHLY_CHARGES_JITTER, n)
    frame = base.select(WA_CHURN_KEY, *WA_CHURN_FEATURES)[rows].with_columns(
        monthly_charges=(pl.col("monthly_charges") * pl.Series(jitter)).round(2),
        tenure=pl.col("tenure") + months,
    )
    if months > 0:  # charges accrue while tenure advances
        accrued = pl.col("total_charges").fill_null(0.0) + pl.col("monthly_charges") * months
        frame = frame.with_columns(total_charges=accrued.round(2))
    return rows, event_us, frame


def generate_day(base: pl.DataFrame, config: SimulationConfig, day_index: int) -> DayBatch:
    """Generate the landing rows of the 1-based `day_index` from `prepare_base(...)`'s table."""
    n, seed = config.rows_per_day, config.seed
    rows, event_us, frame = _sample(base, config, day_index)

    drifted: list[str] = []
    for position, injection in enumerate(config.drift):
        if injection.from_day <= day_index:
            rng = day_rng(seed, day_index, Stream.DRIFT + position)
            expr = _drift_expr(injection, rng, n, frame.schema[injection.column])
            frame = frame.with_columns(expr.alias(injection.column))
            drifted.append(injection.column)

    bad_rng = day_rng(seed, day_index, Stream.BAD)
    n_bad = int(bad_rng.binomial(n, config.bad_row_rate))
    kind = np.full(n, -1, dtype=np.int8)
    kind[bad_rng.choice(n, n_bad, replace=False)] = bad_rng.integers(0, len(BadKind), n_bad)
    is_bad = {k: pl.lit(pl.Series(kind == k)) for k in BadKind}
    contract_type = frame.schema["contract"]
    customers = frame.with_columns(
        pl.when(is_bad[BadKind.NULL_CUSTOMER_ID])
        .then(None)
        .otherwise(pl.col(WA_CHURN_KEY))
        .alias(WA_CHURN_KEY),
        pl.when(is_bad[BadKind.NEGATIVE_TENURE])
        .then(-1 - pl.col("tenure"))
        .otherwise(pl.col("tenure"))
        .alias("tenure"),
        pl.when(is_bad[BadKind.UNKNOWN_CONTRACT])
        .then(pl.lit(UNKNOWN_CONTRACT).cast(contract_type))
        .otherwise(pl.col("contract"))
        .alias("contract"),
        pl.when(is_bad[BadKind.UNPARSEABLE_MONTHLY_CHARGES])
        .then(pl.lit(UNPARSEABLE_CHARGES))
        .otherwise(pl.col("monthly_charges").cast(pl.String))
        .alias("monthly_charges"),
    ).insert_column(1, format_ts(event_us).alias("event_ts"))

    good = np.flatnonzero(kind < 0)
    dup_rng = day_rng(seed, day_index, Stream.DUPLICATE)
    n_dup = min(int(dup_rng.binomial(n, config.duplicate_rate)), good.size)
    if n_dup:
        resent = np.sort(good[dup_rng.choice(good.size, n_dup, replace=False)])
        customers = pl.concat([customers, customers[resent]])

    labelled = kind != BadKind.NULL_CUSTOMER_ID
    return DayBatch(
        customers=customers,
        label_rows=rows[labelled],
        label_event_us=event_us[labelled],
        observations=n,
        bad_rows=n_bad,
        duplicates=n_dup,
        drifted_columns=tuple(drifted),
    )


def build_labels(
    base: pl.DataFrame, rows: np.ndarray, event_us: np.ndarray, label_day: dt.date
) -> pl.DataFrame:
    """Labels of the observations (`rows` of `base` seen at `event_us`) landing on `label_day`.

    `label_ts` is the observation's time of day on `label_day`.
    """
    event_ts = format_ts(event_us)
    picked = base.select(WA_CHURN_KEY, WA_CHURN_TARGET)[rows]
    return picked.select(
        WA_CHURN_KEY,
        event_ts.alias("event_ts"),
        WA_CHURN_TARGET,
        pl.concat_str(pl.lit(label_day.isoformat()), event_ts.str.slice(10)).alias("label_ts"),
    )
