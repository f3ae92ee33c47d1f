"""Gold tables from config: derived columns, filters, aggregates, latest-per-key and joins."""

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
        return frame.group_by(*table.group_by).agg(*[_aggregate(a) for a in table.aggregations])
    assert isinstance(table, LatestTable)
    return frame.unique(subset=table.keys, keep="last", order_by=table.order_by)
