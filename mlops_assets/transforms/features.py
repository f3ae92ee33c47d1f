"""Feature tables keyed by entity and timestamp, and point-in-time-correct training sets."""

import warnings
from datetime import datetime
from typing import Any

import narwhals as nw

from mlops_assets.config.expressions import compile_expression
from mlops_assets.config.tables import ExpressionFeature, FeatureTableConfig, TrainingSetConfig
from mlops_assets.transforms.schema import NW_TYPES

_MS_PER_DAY = 86_400_000
# Polars cannot verify sortedness within `by` groups of an as-of join; both sides are sorted.
warnings.filterwarnings("ignore", message="Sortedness of columns cannot be checked")


def compute_features(
    source: nw.LazyFrame[Any],
    table: FeatureTableConfig,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
) -> nw.LazyFrame[Any]:
    """Features for rows with ``start <= timestamp < end``; windows look back into ``source``.

    ``source`` must hold the lookback history (``table.lookback_days`` before ``start``). A window
    feature at time t aggregates the entity's own rows with timestamp in (t - window, t]: it is
    computed with a self-join on the entity key, so every engine evaluates it the same way.
    """
    ent, ts = table.entity_key, table.timestamp
    rows = source
    if start is not None:
        rows = rows.filter(nw.col(ts) >= start)
    if end is not None:
        rows = rows.filter(nw.col(ts) < end)
    out = rows.select(
        nw.col(ent),
        nw.col(ts),
        *[
            compile_expression(f.expr).cast(NW_TYPES[f.dtype]).alias(f.name)
            for f in table.features
            if isinstance(f, ExpressionFeature)
        ],
    ).unique(subset=[ent, ts], keep="any")
    windows = [f for f in table.features if not isinstance(f, ExpressionFeature)]
    if not windows:
        return out
    by_width: dict[int, list[str]] = {}
    for w in windows:
        by_width.setdefault(w.window_days, []).append(w.name)
    history_cols = sorted({w.column for w in windows})
    history = source.select(
        nw.col(ent),
        nw.col(ts).dt.timestamp("ms").alias("_h_ms"),
        *[nw.col(c).alias(f"_h_{c}") for c in history_cols],
    )
    anchors = out.select(nw.col(ent), nw.col(ts), nw.col(ts).dt.timestamp("ms").alias("_t_ms"))
    for width, names in sorted(by_width.items()):
        joined = anchors.join(history, on=ent, how="inner").filter(
            (nw.col("_h_ms") <= nw.col("_t_ms"))
            & (nw.col("_h_ms") > nw.col("_t_ms") - width * _MS_PER_DAY)
        )
        aggs = []
        for w in windows:
            if w.name not in names:
                continue
            col = nw.col(f"_h_{w.column}")
            expr = {
                "mean": col.mean,
                "sum": col.sum,
                "min": col.min,
                "max": col.max,
                "count": col.count,
            }[w.agg]()
            aggs.append(expr.cast(NW_TYPES[w.dtype]).alias(w.name))
        agg = joined.group_by(ent, ts).agg(*aggs)
        out = out.join(agg, on=[ent, ts], how="left")
    ordered = [ent, ts, *[f.name for f in table.features]]
    return out.select(*ordered)


def point_in_time_join(
    labels: nw.LazyFrame[Any],
    features: nw.LazyFrame[Any],
    config: TrainingSetConfig,
    feature_table: FeatureTableConfig,
) -> nw.LazyFrame[Any]:
    """Join each label at time t to the latest feature row of its entity known at or before t.

    A feature row stamped after the label's time is never used (no leakage), even when it is the
    only row of that entity. Labels without any earlier feature row get null features; the caller
    reports and drops them.
    """
    ent, fts = feature_table.entity_key, feature_table.timestamp
    lts = config.label_timestamp
    left = labels.select(
        nw.col(ent), nw.col(lts).alias("_label_ts"), nw.col(config.label_column)
    ).sort("_label_ts")
    right = features.with_columns(nw.col(fts).alias("_feature_ts")).drop(fts).sort("_feature_ts")
    joined = left.join_asof(right, left_on="_label_ts", right_on="_feature_ts", by=ent)
    if config.max_feature_age_days is not None:
        too_old = (
            nw.col("_label_ts").dt.timestamp("ms") - nw.col("_feature_ts").dt.timestamp("ms")
        ) > config.max_feature_age_days * _MS_PER_DAY
        # A stale match counts as no match: its feature values go too, not only its timestamp.
        matched = [c for c in right.collect_schema().names() if c != ent]
        joined = joined.with_columns(*[nw.when(~too_old).then(nw.col(c)).alias(c) for c in matched])
    return joined.rename({"_label_ts": lts, "_feature_ts": "feature_ts"})
