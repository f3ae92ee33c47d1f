"""Gold tables from config: derived columns, filters, aggregates, latest-per-key and joins.

Reruns are bit-identical. A parallel engine adds floating-point partial sums in whatever order
its threads finish (the last digits of a mean then differ between runs), so float sums, means
and standard deviations are running sums over each group's values in sorted order: one fixed
order of additions on every run and every engine; ties between records are broken by every
column. Values are what is reproducible: row order is not promised (aggregates come out sorted
by their group keys, but a join's output order and delta-rs' partitioned writer both vary).
"""

from collections.abc import Mapping
from typing import Any

import narwhals as nw

from mlops_assets.config.expressions import compile_expression
from mlops_assets.config.tables import (
    AggregateTable,
    Aggregation,
    GoldTable,
    JoinTable,
    LatestTable,
)

ORDERED_SUMS = ("sum", "mean", "std")  # float aggregates whose value depends on addition order
_ROWS = "_g_rows"


def _prepare(frame: nw.LazyFrame[Any], table: GoldTable) -> nw.LazyFrame[Any]:
    if table.derive:
        frame = frame.with_columns(
            *[compile_expression(d.expr).alias(d.name) for d in table.derive]
        )
    if table.filter:
        frame = frame.filter(compile_expression(table.filter).fill_null(False))
    return frame


def _aggregate(agg: Aggregation) -> nw.Expr:
    if agg.agg == "count":
        return (nw.col(agg.column).count() if agg.column else nw.len()).alias(agg.name)
    col = nw.col(agg.column or "")
    exprs = {
        "sum": col.sum,
        "mean": col.mean,
        "min": col.min,
        "max": col.max,
        "n_unique": col.n_unique,
        "std": col.std,
        "median": col.median,
    }
    return exprs[agg.agg]().alias(agg.name)


def _ordered_total(value: nw.Expr, keys: list[str], order: str) -> nw.Expr:
    """The group's sum of ``value``, added in ``order``, on exactly one row of the group (else
    null): the running sum at the last non-null row. Equal ``order`` values are interchangeable
    (they add the same numbers), so the result never depends on how ties fall."""
    seen = nw.col(order).cum_count().over(*keys, order_by=[order])
    last = (seen == nw.col(order).count().over(*keys)) & ~nw.col(order).is_null()
    return nw.when(last).then(value.cum_sum().over(*keys, order_by=[order]))


def _aggregate_table(frame: nw.LazyFrame[Any], table: AggregateTable) -> nw.LazyFrame[Any]:
    keys = table.group_by
    schema = frame.collect_schema()
    floats = sorted(
        {
            a.column
            for a in table.aggregations
            if a.agg in ORDERED_SUMS and a.column and schema[a.column].is_float()
        }
    )
    tmp = {c: i for i, c in enumerate(floats)}
    work = frame
    if floats:
        work = work.with_columns(
            *[_ordered_total(nw.col(c), keys, c).alias(f"_g_sum{tmp[c]}") for c in floats]
        )
    spread = sorted({a.column for a in table.aggregations if a.agg == "std" and a.column in tmp})
    if spread:
        n = {c: nw.col(c).count().over(*keys) for c in spread}
        work = work.with_columns(
            *[
                ((nw.col(c) - nw.col(f"_g_sum{tmp[c]}").max().over(*keys) / n[c]) ** 2).alias(
                    f"_g_dev{tmp[c]}"
                )
                for c in spread
            ]
        )
        work = work.with_columns(
            *[
                _ordered_total(nw.col(f"_g_dev{tmp[c]}"), keys, f"_g_dev{tmp[c]}").alias(
                    f"_g_ss{tmp[c]}"
                )
                for c in spread
            ]
        )
    plain = [a for a in table.aggregations if not (a.agg in ORDERED_SUMS and a.column in tmp)]
    grouped = work.group_by(*keys).agg(
        *[_aggregate(a) for a in plain],
        *[nw.col(f"_g_sum{tmp[c]}").max() for c in floats],  # one non-null row per group
        *[nw.col(c).count().alias(f"_g_n{tmp[c]}") for c in floats],
        *[nw.col(f"_g_ss{tmp[c]}").max() for c in spread],
    )
    finals = []
    for a in table.aggregations:
        if not (a.agg in ORDERED_SUMS and a.column in tmp):
            continue
        i = tmp[a.column or ""]
        total, count = nw.col(f"_g_sum{i}"), nw.col(f"_g_n{i}")
        if a.agg == "sum":
            expr = total.fill_null(0.0)  # no value: 0, as Polars sums
        elif a.agg == "mean":
            expr = nw.when(count > 0).then(total / count)
        else:  # sample standard deviation (ddof=1), as SQL's stddev
            expr = nw.when(count > 1).then((nw.col(f"_g_ss{i}") / (count - 1)).sqrt())
        finals.append(expr.alias(a.name))
    out = grouped.with_columns(*finals) if finals else grouped
    return out.select(*keys, *[a.name for a in table.aggregations]).sort(*keys)


def latest_per_key(
    frame: nw.LazyFrame[Any], keys: list[str], order_by: list[str]
) -> nw.LazyFrame[Any]:
    """The row with the greatest ``order_by`` per key (nulls lowest).

    One hash window per order column keeps the rows holding the greatest value (no sort of the
    frame); keys still tied on every order column (rare) keep their first row by every column.
    """
    for column in order_by:
        top = nw.col(column).max().over(*keys)
        frame = frame.filter((nw.col(column) == top).fill_null(False) | top.is_null())
    columns = frame.collect_schema().names()
    counted = frame.with_columns(nw.len().over(*keys).alias(_ROWS))
    once = counted.filter(nw.col(_ROWS) == 1)
    tied = counted.filter(nw.col(_ROWS) > 1).unique(subset=keys, keep="first", order_by=columns)
    return nw.concat([once, tied], how="vertical").drop(_ROWS)


def build_gold(table: GoldTable, inputs: Mapping[str, nw.LazyFrame[Any]]) -> nw.LazyFrame[Any]:
    """Compute one gold table from its (already loaded) source tables."""
    if isinstance(table, JoinTable):
        left = inputs[table.left]
        right = inputs[table.right]
        right_cols = [c for c in right.collect_schema().names() if c not in table.on]
        left_cols = set(left.collect_schema().names())
        right = right.select(
            *table.on,
            *[nw.col(c).alias(f"{c}_right" if c in left_cols else c) for c in right_cols],
        )
        out = _prepare(left.join(right, on=table.on, how=table.how), table)
        return out.select(*table.select) if table.select else out
    frame = _prepare(inputs[table.source], table)
    if isinstance(table, AggregateTable):
        return _aggregate_table(frame, table)
    assert isinstance(table, LatestTable)
    return latest_per_key(frame, table.keys, table.order_by)
