"""Drift of one column against its profile: method resolution, statistic, verdict.

See :mod:`mlops_assets.monitoring.statistics` for the rules (Evidently 0.7.23's).
"""

from typing import TypeVar

import numpy as np
import polars as pl
from numpy.typing import NDArray

from mlops_assets.config.monitoring import DriftConfig, DriftMethod
from mlops_assets.errors import ConfigError, SchemaMismatchError
from mlops_assets.monitoring import stattests as st
from mlops_assets.monitoring.bucketed import (
    BUCKETED_MIN_ROWS,
    counting_sorted,
    integer_counts,
    wasserstein_atoms,
    wasserstein_bucketed,
)
from mlops_assets.monitoring.profile import CategoricalProfile, NumericProfile, category_strings
from mlops_assets.monitoring.schema import P_VALUE_METHODS, ColumnDrift, ResolvedMethod

DEFAULT_THRESHOLDS: dict[str, float] = {
    "wasserstein": 0.1,
    "jensenshannon": 0.1,
    "psi": 0.1,
    "ks": 0.05,
    "chisquare": 0.05,
    "ztest": 0.05,
}
"""Evidently's default threshold of each method."""
P_VALUE_AUTO_MAX_ROWS = 1000
"""At most this many reference values: p-value tests; above: distances (Evidently)."""
_NUMERIC_METHODS = {"wasserstein", "ks", "jensenshannon", "psi"}
_CATEGORICAL_METHODS = {"jensenshannon", "chisquare", "ztest", "psi"}
K = TypeVar("K", str, float)
COUNT_COLUMN = "__mlops_count__"
"""Name of the counts in a value-counts frame (cannot collide with a feature name)."""


def column_drift(
    series: pl.Series, prof: NumericProfile | CategoricalProfile, config: DriftConfig
) -> ColumnDrift:
    """Drift of one current column against its reference profile."""
    method, threshold = resolve_column_config(series.name, prof, config)
    if isinstance(prof, NumericProfile):
        if not (series.dtype.is_numeric() or series.dtype == pl.Null):
            raise SchemaMismatchError(
                "A numeric feature arrived with a non-numeric type.",
                context={"column": series.name, "dtype": str(series.dtype)},
                fix="Cast the column upstream, or rebuild the profile with it as categorical.",
            )
        unsorted = _wasserstein_unsorted(series, prof, method)
        if unsorted is not None:
            return _verdict(series.name, "numeric", "wasserstein", unsorted, threshold)
        values = _sorted_finite(series)
        integer = prof.is_integer and prof.n_missing == 0 and series.dtype.is_integer()
        integer = integer and series.null_count() == 0
        return _numeric_drift(series.name, values, prof, method, threshold, integer)
    return categorical_counts_drift(series.value_counts(name=COUNT_COLUMN), prof, config)


def categorical_counts_drift(
    raw: pl.DataFrame, prof: CategoricalProfile, config: DriftConfig
) -> ColumnDrift:
    """Drift of a categorical column from its raw value counts (``Series.value_counts``: the
    column's values under its own name, their counts in :data:`COUNT_COLUMN`)."""
    name = next(c for c in raw.columns if c != COUNT_COLUMN)
    method, threshold = resolve_column_config(name, prof, config)
    # Count raw values first (fast on any dtype, e.g. Categorical), then stringify the few keys.
    keys = raw.get_column(name)
    counts = (
        pl.DataFrame({"key": category_strings(keys), "n": raw[COUNT_COLUMN]})
        .drop_nulls("key")
        .group_by("key")
        .agg(pl.col("n").sum())
    )
    cur = dict(zip(counts["key"].to_list(), counts["n"].to_list(), strict=True))
    return _categorical_drift(name, cur, prof, method, threshold, keys.dtype.is_numeric())


def _sorted_finite(series: pl.Series) -> st.Floats:
    """The column's finite values, sorted, as float64: our own copy (sorted in place).

    An integer column over a small range is sorted by counting (the same array, faster).
    """
    if series.dtype.is_integer():
        counted = counting_sorted(_integer_chunks(series))
        if counted is not None:
            return counted
    floats = series if series.dtype == pl.Float64 else series.cast(pl.Float64)
    return st.finite_sorted(floats.to_numpy(writable=True))


def _wasserstein_unsorted(
    series: pl.Series, prof: NumericProfile, method: DriftMethod
) -> float | None:
    """The normed Wasserstein distance without sorting the column, or ``None``.

    Applies where the method is (or resolves without the data to) Wasserstein: an integer
    column over a small range is counted, a large float column is bucketed. ``None`` also when
    the column does not suit either (see :mod:`.bucketed`).
    """
    if method == "auto":
        if prof.values is not None and prof.n_unique <= 5:
            return None  # the choice depends on the current values (see _union_unique)
        if _auto_numeric(prof, prof.n_unique) != "wasserstein":
            return None
    elif method != "wasserstein":
        return None
    ref = np.asarray(prof.sample, dtype=np.float64)
    if ref.size == 0:
        return None
    if series.dtype.is_integer():
        atoms = integer_counts(_integer_chunks(series))  # chunk by chunk, no copy
        if atoms is None:
            return None
        return _normed(wasserstein_atoms(*atoms, ref), prof)
    if series.len() - series.null_count() < BUCKETED_MIN_ROWS:
        return None
    floats = series if series.dtype == pl.Float64 else series.cast(pl.Float64)
    chunks = [chunk.to_numpy() for chunk in floats.get_chunks()]  # views when there is no null
    distance = wasserstein_bucketed(chunks, ref, center=_center(ref))
    return None if distance is None else _normed(distance, prof)


def _integer_chunks(series: pl.Series) -> list[NDArray[np.integer]]:
    """The non-null values of an integer column, chunk by chunk (views: no copy)."""
    return [chunk.to_numpy() for chunk in series.drop_nulls().get_chunks()]


def _center(ref: st.Floats) -> float:
    """Where both samples are moved before a Wasserstein distance: the reference median.

    The distance does not change when both samples move by the same amount; centring them
    keeps its sums exact for values far from zero (e.g. epoch seconds, ~1.7e9).
    """
    return float(ref[ref.size // 2])


def _normed(distance: float, prof: NumericProfile) -> float:
    """A Wasserstein distance normed by the reference std, as Evidently's ``wasserstein``."""
    return distance / max(prof.std, 0.001)


def _auto_numeric(prof: NumericProfile, k: int) -> ResolvedMethod:
    """Evidently's automatic method for a numeric column whose two samples hold ``k`` distinct
    values (see the table in :mod:`~mlops_assets.monitoring.statistics`)."""
    if prof.n_valid <= P_VALUE_AUTO_MAX_ROWS:
        return "ks" if k > 5 else ("chisquare" if k > 2 else "ztest")
    return "wasserstein" if k > 5 else "jensenshannon"


def resolve_column_config(
    name: str, prof: NumericProfile | CategoricalProfile, config: DriftConfig
) -> tuple[DriftMethod, float | None]:
    """The (method, threshold) configured for a column; ConfigError if it does not apply."""
    override = config.per_column.get(name)
    numeric = isinstance(prof, NumericProfile)
    default = config.default_numeric_method if numeric else config.default_categorical_method
    method = override.method if override is not None else default
    allowed = _NUMERIC_METHODS if numeric else _CATEGORICAL_METHODS
    if method != "auto" and method not in allowed:
        raise ConfigError(
            f"Drift method {method!r} does not apply to {prof.kind} column {name!r}.",
            context={"column": name, "method": method},
            fix=f"Use one of: auto, {', '.join(sorted(allowed))}.",
        )
    return method, override.threshold if override is not None else None


def _verdict(
    name: str,
    kind: str,
    method: ResolvedMethod,
    statistic: float,
    threshold: float | None,
) -> ColumnDrift:
    thr = DEFAULT_THRESHOLDS[method] if threshold is None else threshold
    if method == "ks":
        drifted = statistic <= thr
    elif method in P_VALUE_METHODS:
        drifted = statistic < thr
    else:
        drifted = statistic >= thr
    return ColumnDrift(
        column=name,
        column_type="numeric" if kind == "numeric" else "categorical",
        method=method,
        statistic=statistic,
        threshold=thr,
        drifted=bool(drifted),
        p_value=statistic if method in P_VALUE_METHODS else None,
    )


def _empty(
    name: str, kind: str, method: DriftMethod, threshold: float | None, n_ref: int
) -> ColumnDrift:
    resolved: ResolvedMethod
    if method != "auto":
        resolved = method
    elif kind == "numeric":
        resolved = "ks" if n_ref <= P_VALUE_AUTO_MAX_ROWS else "wasserstein"
    else:
        resolved = "chisquare" if n_ref <= P_VALUE_AUTO_MAX_ROWS else "jensenshannon"
    return ColumnDrift(
        column=name,
        column_type="numeric" if kind == "numeric" else "categorical",
        method=resolved,
        statistic=None,
        threshold=DEFAULT_THRESHOLDS[resolved] if threshold is None else threshold,
        drifted=True,
        note=f"no valid value in the current data (the reference has {n_ref:,})",
    )


def _numeric_drift(
    name: str,
    cur: st.Floats,
    prof: NumericProfile,
    method: DriftMethod,
    threshold: float | None,
    integer: bool,
) -> ColumnDrift:
    if cur.size == 0:
        return _empty(name, "numeric", method, threshold, prof.n_valid)
    ref = np.asarray(prof.sample, dtype=np.float64)
    resolved: ResolvedMethod = (
        _auto_numeric(prof, _union_unique(cur, prof)) if method == "auto" else method
    )
    stat: float
    if resolved == "wasserstein":
        center = _center(ref)
        cur -= center  # ``cur`` is this column's own copy
        stat = _normed(st.wasserstein_sorted(cur, ref - center), prof)
    elif resolved == "ks":
        stat = st.ks_pvalue_sorted(cur, ref)
    elif resolved == "psi":
        cum = np.searchsorted(cur, np.asarray(prof.psi_edges), side="right")
        cur_counts = np.diff(np.concatenate(([0], cum, [cur.size])))
        stat = st.psi_smoothed(np.asarray(prof.psi_counts), cur_counts)
    elif resolved == "jensenshannon" and prof.values is None:
        lo, hi = min(float(ref[0]), float(cur[0])), max(float(ref[-1]), float(cur[-1]))
        edges = st.sturges_edges(lo, hi, ref.size + cur.size, integer)
        stat = st.jensenshannon_counts(
            st.histogram_sorted(ref, edges), st.histogram_sorted(cur, edges), ref.size, cur.size
        )
    else:
        assert prof.values is not None and prof.value_counts is not None
        cur_values, cur_counts = st.value_counts_sorted(cur)
        ref_map = dict(zip(prof.values, prof.value_counts, strict=True))
        cur_map = dict(zip(cur_values.tolist(), cur_counts.tolist(), strict=True))
        stat = _counts_statistic(resolved, ref_map, cur_map, prof.n_valid, cur.size)
    return _verdict(name, "numeric", resolved, stat, threshold)


def _union_unique(cur: st.Floats, prof: NumericProfile) -> int:
    """Distinct values of reference and current together (only exact up to 6: all we need)."""
    if prof.values is None or prof.n_unique > 5:
        return prof.n_unique
    cur_values, _ = st.value_counts_sorted(cur)
    if cur_values.size > 5:
        return int(cur_values.size)
    return int(np.union1d(np.asarray(prof.values), cur_values).size)


def _categorical_drift(
    name: str,
    cur: dict[str, int],
    prof: CategoricalProfile,
    method: DriftMethod,
    threshold: float | None,
    numeric_keys: bool = False,
) -> ColumnDrift:
    """``numeric_keys``: the column's values are numbers (their strings sort by value)."""
    n_cur = sum(cur.values())
    if n_cur == 0:
        return _empty(name, "categorical", method, threshold, prof.n_valid)
    ref: dict[str, int] = {}
    for key, count in zip(prof.categories, prof.counts, strict=True):
        key = _whole_spelled(key) if numeric_keys else key
        ref[key] = ref.get(key, 0) + count
    resolved: ResolvedMethod
    if method == "auto":
        k = len(ref.keys() | cur.keys())
        if prof.n_valid <= P_VALUE_AUTO_MAX_ROWS:
            resolved = "chisquare" if k > 2 else "ztest"
        else:
            resolved = "jensenshannon"
    else:
        resolved = method
    if resolved == "psi":
        ref_counts = np.asarray([*ref.values(), 0])
        cur_counts = np.asarray([*(cur.get(c, 0) for c in ref), 0])
        cur_counts[-1] = n_cur - cur_counts.sum()  # categories unseen in training
        stat = st.psi_smoothed(ref_counts, cur_counts)
    else:
        stat = _counts_statistic(resolved, ref, cur, prof.n_valid, n_cur, numeric_keys)
    return _verdict(name, "categorical", resolved, stat, threshold)


def _counts_statistic(
    method: ResolvedMethod,
    ref: dict[K, int],
    cur: dict[K, int],
    n_ref: int,
    n_cur: int,
    numeric_keys: bool = False,
) -> float:
    """A count-based statistic over the union of values, in sorted order (as Evidently's Z).

    Evidently sorts the raw values, so the strings of a numeric categorical column are ordered
    by the numbers they spell (``2 < 3 < 10``, not ``"10" < "2"``): the Z-test's first key.
    """
    keys = sorted(ref.keys() | cur.keys(), key=_by_value if numeric_keys else None)
    ref_counts = np.asarray([ref.get(k, 0) for k in keys], dtype=np.int64)
    cur_counts = np.asarray([cur.get(k, 0) for k in keys], dtype=np.int64)
    if method == "jensenshannon":
        return st.jensenshannon_counts(ref_counts, cur_counts, n_ref, n_cur)
    if method == "chisquare":
        return st.chisquare_pvalue(ref_counts, cur_counts, n_ref, n_cur)
    if method == "ztest":
        same_single = len(ref) == 1 and len(cur) == 1 and ref.keys() == cur.keys()
        return st.ztest_pvalue(int(ref_counts[0]), n_ref, int(cur_counts[0]), n_cur, same_single)
    raise ConfigError(
        f"Drift method {method!r} needs the raw values, not counts.",
        fix="Use jensenshannon, chisquare, ztest or psi for columns with few distinct values.",
    )


def _by_value(key: object) -> tuple[float, str]:
    """Sort key of a numeric category's string: its number (strings that are not, last)."""
    try:
        return float(str(key)), str(key)
    except ValueError:
        return float("inf"), str(key)


def _whole_spelled(key: str) -> str:
    """A stored category of a numeric column as :func:`category_strings` spells it today.

    Profiles written before categories were spelled value by value wrote every value of a
    float column that held a fraction as a float (``"1.0"``); today's whole-number spelling
    (``"1"``) of current data must still meet them.
    """
    try:
        value = float(key)
    except ValueError:
        return key
    if value.is_integer() and abs(value) < 2.0**53:
        return str(int(value))
    return key
