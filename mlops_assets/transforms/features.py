"""Feature tables keyed by entity and timestamp, and point-in-time-correct training sets."""

from datetime import datetime
from typing import Any

import narwhals as nw

from mlops_assets.config.expressions import compile_expression
from mlops_assets.config.tables import ExpressionFeature, FeatureTableConfig, TrainingSetConfig
from mlops_assets.transforms.schema import NW_TYPES


def _ms(column: str) -> nw.Expr:
    """A timestamp floored to the millisecond (what windows and ages are measured on)."""
    return nw.col(column).dt.truncate("1ms")


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
        _ms(ts).alias("_h_ms"),
        *[nw.col(c).alias(f"_h_{c}") for c in history_cols],
    )
    anchors = out.select(nw.col(ent), nw.col(ts), _ms(ts).alias("_t_ms"))
    for width, names in sorted(by_width.items()):
        joined = anchors.join(history, on=ent, how="inner").filter(
            (nw.col("_h_ms") <= nw.col("_t_ms"))
            & (nw.col("_h_ms") > nw.col("_t_ms").dt.offset_by(f"-{width}d"))
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
    reports and drops them. Feature rows are unique per entity and timestamp (as
    ``compute_features`` makes them).

    The as-of match is a window, not an as-of join (Spark has none): label and feature times of an
    entity form one timeline, features first at equal times, and each label takes the latest
    feature time seen so far. It costs one sort per entity on every engine.
    """
    ent, fts = feature_table.entity_key, feature_table.timestamp
    lts = config.label_timestamp
    left = labels.select(nw.col(ent), nw.col(lts).alias("_label_ts"), nw.col(config.label_column))
    right = features.with_columns(nw.col(fts).alias("_feature_ts")).drop(fts)
    ts_type = right.collect_schema()["_feature_ts"]
    timeline = nw.concat(
        [
            left.select(
                nw.col(ent),
                nw.col("_label_ts").alias("_t"),
                nw.lit(1, dtype=nw.Int64()).alias("_is_label"),
                nw.lit(None, dtype=ts_type).alias("_feature_ts"),
            ),
            right.filter(~nw.col("_feature_ts").is_null()).select(
                nw.col(ent),
                nw.col("_feature_ts").alias("_t"),
                nw.lit(0, dtype=nw.Int64()).alias("_is_label"),
                nw.col("_feature_ts"),
            ),
        ],
        how="vertical",
    )
    latest = (
        timeline.with_columns(
            nw.col("_feature_ts")
            .fill_null(strategy="forward")
            .over(ent, order_by=["_t", "_is_label"])
        )
        .filter(nw.col("_is_label") == 1)
        .select(nw.col(ent), nw.col("_t").alias("_label_ts"), nw.col("_feature_ts"))
        .unique()
    )
    left_cols = set(left.collect_schema().names())
    matched = [c for c in right.collect_schema().names() if c not in (ent, "_feature_ts")]
    right = right.select(
        nw.col(ent),
        nw.col("_feature_ts"),
        *[nw.col(c).alias(f"{c}_right" if c in left_cols else c) for c in matched],
    )
    matched = [*[f"{c}_right" if c in left_cols else c for c in matched], "_feature_ts"]
    joined = (
        left.join(latest, on=[ent, "_label_ts"], how="left")
        .join(right, on=[ent, "_feature_ts"], how="left")
        .select(nw.col(ent), nw.col("_label_ts"), nw.col(config.label_column), *matched)
        .sort("_label_ts")
    )
    if config.max_feature_age_days is not None:
        oldest = _ms("_label_ts").dt.offset_by(f"-{config.max_feature_age_days}d")
        too_old = _ms("_feature_ts") < oldest
        # A stale match counts as no match: its feature values go too, not only its timestamp.
        joined = joined.with_columns(*[nw.when(~too_old).then(nw.col(c)).alias(c) for c in matched])
    return joined.rename({"_label_ts": lts, "_feature_ts": "feature_ts"})
