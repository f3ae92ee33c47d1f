"""The aggregates behind :mod:`.spark_drift`: per-column plans, the Spark jobs, the binned CDFs.

A numeric column's cells come from two indexes computed on the cluster: ``s``, the position among
the column's exact *knots* (``2j`` strictly between knots ``j-1`` and ``j``, ``2j+1`` equal to
knot ``j``; a binary tree of CASE expressions) and ``u``, the uniform cell ``floor((x - lo) / w)``.
A ``(u, s)`` pair is a closed interval holding its values; the current CDF is exact at knots and
bracketed inside a cell, which is all the bounds of :mod:`.spark_drift` need.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from mlops_assets.config.monitoring import DriftConfig
from mlops_assets.engines.spark import quote
from mlops_assets.errors import SchemaMismatchError
from mlops_assets.monitoring import stattests as st
from mlops_assets.monitoring.columns import P_VALUE_AUTO_MAX_ROWS, resolve_column_config
from mlops_assets.monitoring.profile import CategoricalProfile, NumericProfile
from mlops_assets.monitoring.schema import ResolvedMethod

if TYPE_CHECKING:
    from pyspark.sql import Column
    from pyspark.sql import DataFrame as SparkDataFrame
    from pyspark.sql.types import DataType

UNSEEN_MAX = 6
"""Distinct unseen values of a few-valued numeric column counted one by one (enough for auto)."""
OTHER = "\U0010ffff<unseen>"
"""The bucket of unseen categories; it sorts after every category (the Z-test's first key)."""
_NUMERIC = {"byte", "short", "integer", "long", "float", "double", "decimal"}
_INTEGRAL = {"byte", "short", "integer", "long"}
Cell = tuple[int | None, int | None, str | None, int]  # (u, s, category, count)


def _finite(name: str) -> "Column":
    from pyspark.sql import functions as F  # noqa: N812

    x = F.col(quote([name])).cast("double")
    return F.when(x.isNotNull() & ~F.isnan(x) & (F.abs(x) != F.lit(float("inf"))), x)


def category_key(name: str, dtype: "DataType") -> "Column":
    """Categories as strings, as :func:`profile.category_strings` makes them.

    Floats and decimals: NaN is missing and whole values are written as integers, value by
    value (only the spelling of very large or very small fractional floats may differ).
    """
    from pyspark.sql import functions as F  # noqa: N812

    col = F.col(quote([name]))
    if dtype.typeName() == "decimal":
        col = col.cast("double")
    elif dtype.typeName() not in ("float", "double"):
        return col.cast("string")
    whole = (col == F.floor(col)) & (F.abs(col) < F.lit(2.0**53))
    text = F.when(whole, col.cast("long").cast("string")).otherwise(col.cast("string"))
    return F.when(~F.isnan(col), text)


def knot_tree(x: "Column", knots: Sequence[float]) -> "Column":
    """``2j`` when knot j-1 < x < knot j, ``2j+1`` when x == knot j: log2(len) comparisons."""
    from pyspark.sql import functions as F  # noqa: N812

    def node(lo: int, hi: int) -> "Column":
        if lo == hi:
            if lo == len(knots):
                return F.lit(2 * lo)
            return F.when(x == F.lit(float(knots[lo])), F.lit(2 * lo + 1)).otherwise(2 * lo)
        mid = (lo + hi) // 2
        return F.when(x <= F.lit(float(knots[mid])), node(lo, mid)).otherwise(node(mid + 1, hi))

    return node(0, len(knots))


def ks_pvalue(d: float, n: int, m: int) -> float:
    """scipy's two-sample KS p-value rule for more than 10,000 values (``kstwo``)."""
    from scipy import stats

    big, small = sorted([float(n), float(m)], reverse=True)
    return float(np.clip(stats.kstwo.sf(d, np.round(big * small / (big + small))), 0.0, 1.0))


@dataclass
class ColumnPlan:
    """What is computed for one column, filled in job by job."""

    name: str
    index: int
    prof: NumericProfile | CategoricalProfile
    dtype: "DataType"
    n_valid: int = 0
    n_null: int = 0
    cur_min: float = 0.0
    cur_max: float = 0.0
    sketch: list[float] = field(default_factory=list)
    unseen_min: str | None = None
    unseen_max: str | None = None
    unseen: list[float] | None = None
    resolved: ResolvedMethod | None = None
    knots: Any = None  # np.ndarray of float64
    lo: float = 0.0
    hi: float = 0.0
    width: float = 0.0
    bins: int = 1

    @classmethod
    def create(
        cls, index: int, name: str, prof: NumericProfile | CategoricalProfile, dtype: "DataType"
    ) -> "ColumnPlan":
        if isinstance(prof, NumericProfile) and dtype.typeName() not in _NUMERIC | {"void"}:
            raise SchemaMismatchError(
                "A numeric feature arrived with a non-numeric type.",
                context={"column": name, "dtype": dtype.simpleString()},
                fix="Cast the column upstream, or rebuild the profile with it as categorical.",
            )
        return cls(name=name, index=index, prof=prof, dtype=dtype)

    @property
    def numeric(self) -> bool:
        return isinstance(self.prof, NumericProfile)

    def first_pass(self, quantiles: int, accuracy: int) -> list["Column"]:
        from pyspark.sql import functions as F  # noqa: N812

        i = self.index
        if isinstance(self.prof, CategoricalProfile):
            key = category_key(self.name, self.dtype)
            unseen = F.when(~key.isin(self.prof.categories), key)
            return [
                F.count(key).alias(f"{i}_n"),
                F.min(unseen).alias(f"{i}_umin"),
                F.max(unseen).alias(f"{i}_umax"),
            ]
        fin = _finite(self.name)
        probs = [k / quantiles for k in range(1, quantiles)]
        return [
            F.count(fin).alias(f"{i}_n"),
            F.sum(F.col(quote([self.name])).isNull().cast("long")).alias(f"{i}_null"),
            F.min(fin).alias(f"{i}_min"),
            F.max(fin).alias(f"{i}_max"),
            F.percentile_approx(fin, probs, accuracy).alias(f"{i}_q"),
        ]

    def read_first_pass(self, row: Any) -> None:
        i = self.index
        self.n_valid = int(row[f"{i}_n"])
        if not self.numeric:
            self.unseen_min, self.unseen_max = row[f"{i}_umin"], row[f"{i}_umax"]
            return
        self.n_null = int(row[f"{i}_null"] or 0)
        if self.n_valid:
            self.cur_min, self.cur_max = float(row[f"{i}_min"]), float(row[f"{i}_max"])
            self.sketch = [float(v) for v in row[f"{i}_q"] or []]

    @property
    def needs_unseen_values(self) -> bool:
        return (
            isinstance(self.prof, NumericProfile)
            and self.prof.values is not None
            and (self.n_valid > 0)
        )

    def resolve(self, config: DriftConfig, bins: int) -> None:
        """The method (Evidently's automatic choice) and the knots of a numeric column."""
        prof = self.prof
        if not isinstance(prof, NumericProfile) or self.n_valid == 0:
            return
        method, _ = resolve_column_config(self.name, prof, config)
        if method == "auto":
            if prof.values is None or prof.n_unique > 5:
                k = prof.n_unique
            else:  # reference values plus unseen ones (> UNSEEN_MAX: more than enough)
                unseen = len(self.unseen) if self.unseen is not None else UNSEEN_MAX + 1
                k = len(prof.values) + unseen
            if prof.n_valid <= P_VALUE_AUTO_MAX_ROWS:
                self.resolved = "ks" if k > 5 else ("chisquare" if k > 2 else "ztest")
            else:
                self.resolved = "wasserstein" if k > 5 else "jensenshannon"
        else:
            self.resolved = method
        ref = prof.sample
        self.lo, self.hi = min(ref[0], self.cur_min), max(ref[-1], self.cur_max)
        lo, hi = self.lo, self.hi
        knots = [lo, hi, self.cur_min, self.cur_max, *self.sketch, *prof.psi_edges]
        knots += [*(prof.values or []), *(self.unseen or [])]
        if self.resolved == "jensenshannon" and prof.values is None:
            knots += self.sturges_edges().tolist()
        self.knots = np.unique(np.asarray(knots, dtype=np.float64))
        self.bins = bins if hi > lo else 1
        self.width = (hi - lo) / bins if hi > lo else 0.0

    def sturges_edges(self) -> Any:
        """The exact engine's Jensen-Shannon histogram edges (reference sample + current)."""
        prof = self.prof
        assert isinstance(prof, NumericProfile)
        ref = prof.sample
        lo, hi = min(ref[0], self.cur_min), max(ref[-1], self.cur_max)
        integer = prof.is_integer and prof.n_missing == 0 and self.n_null == 0
        integer = integer and self.dtype.typeName() in _INTEGRAL
        return st.sturges_edges(lo, hi, len(ref) + self.n_valid, integer)

    def max_cells(self, bins: int) -> int:
        if isinstance(self.prof, CategoricalProfile):
            return len(self.prof.categories) + 2
        return bins + 2 * len(self.knots if self.knots is not None else []) + 2

    @property
    def value_column(self) -> str:
        return f"__mlops_v{self.index}"

    def value(self) -> "Column":
        """The compared value: the finite double, or the category string (null when missing)."""
        if isinstance(self.prof, CategoricalProfile):
            return category_key(self.name, self.dtype).alias(self.value_column)
        return _finite(self.name).alias(self.value_column)

    def cell_struct(self) -> "Column | None":
        """This column's cell of a row of :meth:`value` columns (null when it is missing).

        The trees compare a plain column: built on the raw expression, every comparison would
        repeat it and the generated code would outgrow the JVM's method size.
        """
        from pyspark.sql import functions as F  # noqa: N812

        x = F.col(self.value_column)
        if isinstance(self.prof, CategoricalProfile):
            known = x.isin(self.prof.categories)
            if self.unseen_min is not None:
                known = known | (x == F.lit(self.unseen_min))
            bucket = F.when(known, x).otherwise(F.lit(OTHER))
            u = s = F.lit(None).cast("long")
        else:
            if self.n_valid == 0:
                return None
            u = F.lit(0).cast("long")
            if self.width > 0:
                raw = F.floor((x - F.lit(self.lo)) / F.lit(self.width))
                u = F.least(F.greatest(raw, F.lit(0)), F.lit(self.bins - 1)).cast("long")
            s = knot_tree(x, self.knots.tolist()).cast("long")
            bucket = F.lit(None).cast("string")
        cell = F.struct(F.lit(self.index).alias("c"), u.alias("u"), s.alias("s"), bucket.alias("k"))
        return F.when(x.isNotNull(), cell)


def unseen_values(df: "SparkDataFrame", plan: ColumnPlan) -> list[float]:
    """Up to UNSEEN_MAX + 1 distinct current values the reference never had (sorted)."""
    from pyspark.sql import functions as F  # noqa: N812

    assert isinstance(plan.prof, NumericProfile) and plan.prof.values is not None
    v = F.col("v")
    values = df.select(_finite(plan.name).alias("v")).where(
        v.isNotNull() & ~v.isin(plan.prof.values)
    )
    return sorted(float(r["v"]) for r in values.distinct().limit(UNSEEN_MAX + 1).collect())


KNOTS_PER_JOB = 512
"""Knots per GROUP BY job: beyond, the generated code of one stage can outgrow the JVM's method
size (Spark then interprets the stage, slowly, after logging a long compiler error)."""


def second_pass(df: "SparkDataFrame", plans: Sequence[ColumnPlan]) -> dict[int, list[Cell]]:
    """Every column's cell counts: one GROUP BY per batch of columns, one row per non-empty cell."""
    from pyspark.sql import functions as F  # noqa: N812

    batches: list[list[Column]] = [[]]
    budget = 0
    for plan in plans:
        struct = plan.cell_struct()
        if struct is None:
            continue
        size = len(plan.knots) if plan.knots is not None else 1
        if batches[-1] and budget + size > KNOTS_PER_JOB:
            batches.append([])
            budget = 0
        batches[-1].append(struct)
        budget += size
    values = df.select(*[p.value() for p in plans])
    out: dict[int, list[Cell]] = {}
    for structs in batches:
        if not structs:
            continue
        exploded = values.select(F.explode(F.array(*structs)).alias("g"))
        cells = exploded.where(F.col("g").isNotNull())
        for r in cells.select("g.*").groupBy("c", "u", "s", "k").count().collect():
            out.setdefault(int(r["c"]), []).append((r["u"], r["s"], r["k"], int(r["count"])))
    return out


class Grid:
    """A numeric column's cells as closed intervals with the current CDF before and after each."""

    def __init__(self, plan: ColumnPlan, cells: Sequence[Cell]) -> None:
        knots: Any = plan.knots
        rows = sorted((int(s or 0), int(u or 0), n) for u, s, _, n in cells)
        self.knots, self.n = knots, plan.n_valid
        self.s = np.asarray([r[0] for r in rows], dtype=np.int64)
        self.counts = np.asarray([r[2] for r in rows], dtype=np.int64)
        j = self.s // 2
        point = self.s % 2 == 1
        left = np.where(j > 0, knots[np.maximum(j - 1, 0)], -np.inf)
        right = np.where(j < knots.size, knots[np.minimum(j, knots.size - 1)], np.inf)
        u = np.asarray([r[1] for r in rows], dtype=np.float64)
        a = np.where(
            point, knots[np.minimum(j, knots.size - 1)], np.maximum(left, plan.lo + u * plan.width)
        )
        b = np.where(point, a, np.minimum(right, plan.lo + (u + 1) * plan.width))
        a = np.minimum(a, b)
        c1 = np.cumsum(self.counts) / self.n
        c0 = c1 - self.counts / self.n
        # Gaps between non-empty cells hold no current value: the CDF is flat (and exact) there.
        ends = np.concatenate(([plan.lo], b))
        starts = np.concatenate((a, [plan.hi]))
        gaps = ends < starts
        before = np.concatenate(([0.0], c1))
        self.a = np.concatenate((a, ends[gaps]))
        self.b = np.concatenate((b, starts[gaps]))
        self.c0 = np.concatenate((c0, before[gaps]))
        self.c1 = np.concatenate((c1, before[gaps]))
        self.point = np.concatenate((point, np.zeros(int(gaps.sum()), dtype=bool)))
        order = np.lexsort((~self.point, self.a))  # by start; a point before a cell it starts
        self.a, self.b, self.c0, self.c1, self.point = (
            self.a[order],
            self.b[order],
            self.c0[order],
            self.c1[order],
            self.point[order],
        )

    def wasserstein(self, ref: Any) -> tuple[float, float]:
        """(W, bound): W with the current CDF linear inside each cell; |W - W_exact| <= bound."""
        wide = self.b > self.a
        a, b, c0, c1 = self.a[wide], self.b[wide], self.c0[wide], self.c1[wide]
        inside = ref[(ref > a[0]) & (ref < b[-1])] if a.size else ref[:0]
        points = np.unique(np.concatenate((a, b, inside)))
        p, q = points[:-1], points[1:]
        cell = np.clip(np.searchsorted(a, (p + q) / 2, side="right") - 1, 0, max(a.size - 1, 0))
        slope = (c1[cell] - c0[cell]) / (b[cell] - a[cell])
        f_p = c0[cell] + slope * (p - a[cell])
        f_q = c0[cell] + slope * (q - a[cell])
        f_ref = np.searchsorted(ref, p, side="right") / ref.size
        d1, d2 = f_ref - f_p, f_ref - f_q
        same = d1 * d2 >= 0
        total = np.abs(d1) + np.abs(d2)
        with np.errstate(divide="ignore", invalid="ignore"):
            crossing = np.where(total > 0, (d1**2 + d2**2) / (2 * total), 0.0)
        area = (q - p) * np.where(same, total / 2, crossing)
        return float(area.sum()), float(np.sum((b - a) * (c1 - c0)))

    def ks_bounds(self, ref: Any) -> tuple[float, float]:
        """(D_low, D_high) around sup|F_ref - F_cur| (both CDFs monotone inside a cell)."""
        m = ref.size
        at = np.searchsorted(ref, self.a, side="right") / m  # F_ref(a), also F_ref(a+)
        before_a = np.searchsorted(ref, self.a, side="left") / m  # F_ref(a-)
        before_b = np.searchsorted(ref, self.b, side="left") / m  # F_ref(b-)
        exact = np.maximum(np.abs(at - self.c1), np.abs(before_a - self.c0))
        high = np.maximum(self.c1 - at, before_b - self.c0)
        low = np.maximum(np.maximum(self.c0 - at, before_b - self.c1), 0.0)
        high = np.where(self.point, exact, high)
        low = np.where(self.point, exact, low)
        return float(low.max(initial=0.0)), float(high.max(initial=0.0))

    def _knot(self, values: Sequence[float]) -> Any:
        idx = np.searchsorted(self.knots, np.asarray(values, dtype=np.float64))
        assert np.array_equal(self.knots[np.minimum(idx, self.knots.size - 1)], values)
        return idx

    def count_le(self, values: Sequence[float]) -> Any:
        """Current values <= each knot value (exact)."""
        cum = np.concatenate(([0], np.cumsum(self.counts)))
        return cum[np.searchsorted(self.s, 2 * self._knot(values) + 1, side="right")]

    def count_lt(self, values: Sequence[float]) -> Any:
        """Current values < each knot value (exact)."""
        cum = np.concatenate(([0], np.cumsum(self.counts)))
        return cum[np.searchsorted(self.s, 2 * self._knot(values), side="right")]

    def value_counts(self, plan: ColumnPlan) -> dict[float, int]:
        """Counts of the reference's values, the unseen ones (or one bucket for them) and min."""
        prof = plan.prof
        assert isinstance(prof, NumericProfile)
        keys = sorted({*(prof.values or []), *(plan.unseen or []), plan.cur_min})
        counts = self.count_le(keys) - self.count_lt(keys)
        known = set(prof.values or [])
        out = {k: int(n) for k, n in zip(keys, counts, strict=True) if n or k in known}
        rest = self.n - sum(out.values())
        if rest:
            out[float("inf")] = rest  # unseen values, each absent from the reference
        return out
