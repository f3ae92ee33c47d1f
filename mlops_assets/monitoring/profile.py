"""The reference profile: what drift detection needs from the training data, computed once.

A profile is built from the training frame when the model is trained, stored next to the model
(JSON), and every later monitoring run compares current data with it, so the training frame is
never read again. Per column it keeps:

- numeric: count, mean, std (ddof=0, the normaliser of Evidently's Wasserstein distance), the
  number of distinct values, exact value counts when there are at most 20 of them, a sorted
  uniform sample of at most ``reference_sample_size`` finite values of the column (for KS,
  Wasserstein and Jensen-Shannon) and the reference quantile bins with their counts (for PSI);
- categorical: the exact count of every category.

It also keeps a small row-aligned sample of the whole frame for the Evidently HTML report.
Statistics on the sample are exactly Evidently's when a column has at most
``reference_sample_size`` finite values, and a uniform-sample estimate above that.
"""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mlops_assets.config.monitoring import DriftConfig
from mlops_assets.errors import InsufficientDataError, SchemaMismatchError, StorageError
from mlops_assets.storage.atomic import write_text_atomic

VALUE_COUNTS_MAX_UNIQUE = 20
"""Evidently bins a numeric column by its values (not Sturges bins) up to this many values."""
_FORMAT_VERSION = 1


class NumericProfile(BaseModel):
    """Reference statistics of one numeric column."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["numeric"] = Field(default="numeric", description="Column kind.")
    n_valid: int = Field(description="Finite values in the training frame.")
    n_missing: int = Field(description="Null, NaN or infinite values in the training frame.")
    is_integer: bool = Field(description="Whether the training column had an integer dtype.")
    mean: float = Field(description="Mean of the finite values.")
    std: float = Field(description="Population standard deviation (ddof=0).")
    min: float = Field(description="Smallest finite value.")
    max: float = Field(description="Largest finite value.")
    n_unique: int = Field(description="Distinct finite values.")
    sample: list[float] = Field(description="Sorted finite values of the sampled rows.")
    values: list[float] | None = Field(
        default=None, description="Distinct values (when n_unique <= 20), ascending."
    )
    value_counts: list[int] | None = Field(default=None, description="Counts of `values`.")
    psi_edges: list[float] = Field(
        description="Interior cut points of the PSI bins (-inf, e1], (e1, e2], ..., (ek, inf)."
    )
    psi_counts: list[int] = Field(description="Training rows per PSI bin.")


class CategoricalProfile(BaseModel):
    """Reference statistics of one categorical column (values compared as strings)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["categorical"] = Field(default="categorical", description="Column kind.")
    n_valid: int = Field(description="Non-null values in the training frame.")
    n_missing: int = Field(description="Null (or NaN) values in the training frame.")
    categories: list[str] = Field(description="Distinct values, most frequent first.")
    counts: list[int] = Field(description="Count of each category.")


ColumnProfile = Annotated[NumericProfile | CategoricalProfile, Field(discriminator="kind")]


class ReferenceProfile(BaseModel):
    """Everything drift detection needs from the training frame (JSON round-trip safe)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format_version: Literal[1] = Field(default=1, description="Profile file format version.")
    created_at: datetime = Field(description="When the profile was built (UTC).")
    n_rows: int = Field(description="Rows of the training frame.")
    seed: int = Field(description="Seed of the samples.")
    sample_size: int = Field(
        description="Most finite values kept per numeric column (uniform sample without "
        "replacement; all of them when the column has fewer)."
    )
    columns: dict[str, ColumnProfile] = Field(description="Per-column statistics, in order.")
    report_numeric: dict[str, list[float | None]] = Field(
        description="Row-aligned sample of numeric columns for the Evidently report."
    )
    report_categorical: dict[str, list[str | None]] = Field(
        description="Row-aligned sample of categorical columns for the Evidently report."
    )
    complete_history: dict[str, int] = Field(
        default_factory=dict,
        description="Window features profiled on rows whose trailing window was fully inside "
        "the data (column -> training rows used), not on every training row: a count or sum "
        "over the last N days is low while history is shorter than N days.",
    )
    incomplete_history: list[str] = Field(
        default_factory=list,
        description="Window features whose training period was too short for complete-history "
        "rows: their drift is measured and shown but never counted as drift.",
    )

    @property
    def numeric(self) -> list[str]:
        """Numeric column names."""
        return [k for k, v in self.columns.items() if v.kind == "numeric"]

    @property
    def categorical(self) -> list[str]:
        """Categorical column names."""
        return [k for k, v in self.columns.items() if v.kind == "categorical"]

    def report_frame(self) -> pl.DataFrame:
        """The report sample as a frame (numeric as Float64, categorical as String)."""
        data: dict[str, pl.Series] = {}
        for name in self.columns:
            if name in self.report_numeric:
                data[name] = pl.Series(name, self.report_numeric[name], dtype=pl.Float64)
            else:
                data[name] = pl.Series(name, self.report_categorical[name], dtype=pl.String)
        return pl.DataFrame(data)


def infer_column_types(df: pl.DataFrame) -> tuple[list[str], list[str]]:
    """Split columns into (numeric, categorical) with Evidently's rules.

    Floats are numeric; integers are categorical up to 10 distinct values and numeric above;
    booleans, categoricals and strings with at most half distinct values are categorical.
    Other columns (text, dates, nested) are left out.
    """
    numeric: list[str] = []
    categorical: list[str] = []
    for name, dtype in df.schema.items():
        col = df.get_column(name)
        if dtype.is_float():
            numeric.append(name)
        elif dtype.is_integer():
            (categorical if col.drop_nulls().n_unique() <= 10 else numeric).append(name)
        elif dtype == pl.Boolean or isinstance(dtype, pl.Categorical | pl.Enum):
            categorical.append(name)
        elif dtype == pl.String:
            non_null = col.drop_nulls()
            if non_null.n_unique() <= 0.5 * non_null.len():
                categorical.append(name)
    return numeric, categorical


def build_profile(
    df: pl.DataFrame,
    numeric: list[str],
    categorical: list[str],
    config: DriftConfig,
    seed: int = 0,
) -> ReferenceProfile:
    """Compute the reference profile of a training frame (vectorised, one select per kind).

    Raises:
        SchemaMismatchError: a column is missing, listed twice, or not numeric when said so.
        InsufficientDataError: the frame has no rows.
    """
    _check_columns(df, numeric, categorical)
    if df.height == 0:
        raise InsufficientDataError(
            "Cannot build a reference profile from an empty training frame.",
            context={"columns": len(numeric) + len(categorical)},
            fix="Build the profile from the training set the model was fitted on.",
        )
    report = _sample(df, config.report_sample_size, seed)
    columns: dict[str, NumericProfile | CategoricalProfile] = {}
    numeric_profiles = _numeric_profiles(
        df, numeric, config.psi_bins, config.reference_sample_size, seed
    )
    for name in numeric + categorical:
        columns[name] = (
            numeric_profiles[name] if name in numeric_profiles else _categorical_profile(df[name])
        )
    return ReferenceProfile(
        created_at=datetime.now(UTC),
        n_rows=df.height,
        seed=seed,
        sample_size=config.reference_sample_size,
        columns=columns,
        report_numeric=report.select(
            pl.when(pl.col(c).cast(pl.Float64).is_finite()).then(pl.col(c).cast(pl.Float64))
            for c in numeric
        ).to_dict(as_series=False),
        report_categorical={c: category_strings(report[c]).to_list() for c in categorical},
    )


def save_profile(profile: ReferenceProfile, path: str | Path) -> Path:
    """Write the profile as JSON (atomically: a temporary file renamed into place)."""
    return write_text_atomic(Path(path), profile.model_dump_json())


def load_profile(path: str | Path) -> ReferenceProfile:
    """Read a profile written by :func:`save_profile`.

    Raises:
        StorageError: the file is missing or is not a valid profile.
    """
    source = Path(path)
    try:
        return ReferenceProfile.model_validate_json(source.read_bytes())
    except FileNotFoundError as exc:
        raise StorageError(
            "Reference profile not found.",
            context={"path": str(source)},
            fix="Train the model first: training writes the reference profile next to it.",
        ) from exc
    except (ValidationError, json.JSONDecodeError) as exc:
        raise StorageError(
            "File is not a valid reference profile.",
            context={"path": str(source), "error": str(exc).splitlines()[0]},
            fix="Rebuild it with build_profile() and save_profile() (format version "
            f"{_FORMAT_VERSION}).",
        ) from exc


def _check_columns(df: pl.DataFrame, numeric: list[str], categorical: list[str]) -> None:
    listed = numeric + categorical
    if not listed:
        raise SchemaMismatchError(
            "No columns to profile.", fix="Pass the model's numeric and categorical features."
        )
    twice = sorted({c for c in listed if listed.count(c) > 1})
    missing = [c for c in listed if c not in df.columns]
    if twice or missing:
        raise SchemaMismatchError(
            "Profile columns do not match the training frame.",
            context={"missing": missing, "listed_twice": twice, "available": df.columns[:50]},
            fix="List each feature once, as numeric or categorical, with its exact name.",
        )
    not_numeric = [c for c in numeric if not df.schema[c].is_numeric()]
    if not_numeric:
        raise SchemaMismatchError(
            "Columns listed as numeric do not have a numeric dtype.",
            context={c: str(df.schema[c]) for c in not_numeric},
            fix="List them as categorical, or cast them to a numeric dtype first.",
        )


def _sample(df: pl.DataFrame, size: int, seed: int) -> pl.DataFrame:
    return df if df.height <= size else df.sample(n=size, seed=seed)


def _finite(name: str) -> pl.Expr:
    x = pl.col(name).cast(pl.Float64)
    return x.filter(x.is_finite())


def _numeric_profiles(
    df: pl.DataFrame, numeric: list[str], psi_bins: int, sample_size: int, seed: int
) -> dict[str, NumericProfile]:
    if not numeric:
        return {}
    quantiles = [i / psi_bins for i in range(1, psi_bins)]
    exprs: list[pl.Expr] = []
    for i, c in enumerate(numeric):
        v = _finite(c)
        exprs += [
            v.len().alias(f"{i}_n"),
            v.mean().alias(f"{i}_mean"),
            # deviations from the mean first (two passes): exact for values far from zero
            (v - v.mean()).std(ddof=0).alias(f"{i}_std"),
            v.min().alias(f"{i}_min"),
            v.max().alias(f"{i}_max"),
            v.n_unique().alias(f"{i}_nu"),
        ]
        exprs += [v.quantile(q, "linear").alias(f"{i}_q{k}") for k, q in enumerate(quantiles)]
    row = df.select(exprs).row(0, named=True)
    profiles: dict[str, NumericProfile] = {}
    for i, c in enumerate(numeric):
        n_valid = int(row[f"{i}_n"])
        if n_valid == 0:
            raise InsufficientDataError(
                "A numeric column has no finite value in the training frame.",
                context={"column": c, "rows": df.height},
                fix="Drop the column from the monitored features or fix its upstream data.",
            )
        values = df[c].cast(pl.Float64).to_numpy()
        values = np.sort(values[np.isfinite(values)])
        edges = np.unique([row[f"{i}_q{k}"] for k in range(len(quantiles))])
        cum = np.searchsorted(values, edges, side="right")
        psi_counts = np.diff(np.concatenate(([0], cum, [n_valid])))
        n_unique = int(row[f"{i}_nu"])
        uniq: list[float] | None = None
        uniq_counts: list[int] | None = None
        if n_unique <= VALUE_COUNTS_MAX_UNIQUE:
            u, cnt = np.unique(values, return_counts=True)
            uniq, uniq_counts = u.tolist(), cnt.tolist()
        if n_valid > sample_size:
            rng = np.random.default_rng([seed, i])
            sample = np.sort(rng.choice(values, size=sample_size, replace=False))
        else:
            sample = values
        profiles[c] = NumericProfile(
            n_valid=n_valid,
            n_missing=df.height - n_valid,
            is_integer=df.schema[c].is_integer(),
            mean=float(row[f"{i}_mean"]),
            std=float(row[f"{i}_std"]),
            min=float(row[f"{i}_min"]),
            max=float(row[f"{i}_max"]),
            n_unique=n_unique,
            sample=sample.tolist(),
            values=uniq,
            value_counts=uniq_counts,
            psi_edges=edges.tolist(),
            psi_counts=psi_counts.tolist(),
        )
    return profiles


def category_strings(series: pl.Series) -> pl.Series:
    """Categorical values as strings, the same way for the profile and for current data.

    Each value's string depends on that value alone (never on the rest of the frame), so a
    training column and any current window spell a value the same way: NaN counts as missing
    (as pandas' ``dropna`` does), and whole floats and decimals are written like integers, so a
    category column read as Int64 at training and as Float64 (a null forces that in pandas) or
    Decimal (from Spark) later still yields the same categories, as Evidently, which compares
    the raw values, sees them (``1 == 1.0 == Decimal("1.00")``). Spark's
    :func:`~mlops_assets.monitoring.spark_drift_grid.category_key` follows the same rule.
    """
    if series.dtype.is_decimal():
        series = series.cast(pl.Float64)
    if not series.dtype.is_float():
        return series.cast(pl.String)
    x = pl.col(series.name).fill_nan(None)
    whole = (x == x.floor()) & (x.abs() < 2.0**53)
    text = pl.when(whole).then(x.cast(pl.Int64, strict=False).cast(pl.String))
    return series.to_frame().select(text.otherwise(x.cast(pl.String))).to_series()


def _categorical_profile(series: pl.Series) -> CategoricalProfile:
    values = category_strings(series).drop_nulls()
    if values.len() == 0:
        raise InsufficientDataError(
            "A categorical column has no value in the training frame.",
            context={"column": series.name, "rows": series.len()},
            fix="Drop the column from the monitored features or fix its upstream data.",
        )
    vc = values.value_counts(sort=True, name="__mlops_count__")
    return CategoricalProfile(
        n_valid=values.len(),
        n_missing=series.len() - values.len(),
        categories=vc[series.name].to_list(),
        counts=vc["__mlops_count__"].to_list(),
    )
