"""Feature tables keyed by entity and timestamp, and point-in-time-correct training sets."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import narwhals as nw

from mlops_assets.config.expressions import compile_expression
from mlops_assets.config.tables import (
    ExpressionFeature,
    FeatureTableConfig,
    TrainingSetConfig,
    WindowFeature,
)
from mlops_assets.transforms.schema import NW_TYPES

_T, _KIND, _ROWS = "_t", "_kind", "_rows"
ENTER, EXIT, ANCHOR = 0, 1, 2
RUNNING_AGGS = ("mean", "sum", "count")  # decomposable: one running sum per column


def _ms(column: str) -> nw.Expr:
    """A timestamp floored to the millisecond (what windows and ages are measured on)."""
    return nw.col(column).dt.truncate("1ms")


def _floor_ms(value: datetime) -> datetime:
    return value.replace(microsecond=value.microsecond - value.microsecond % 1000)


def unique_rows(frame: nw.LazyFrame[Any], keys: list[str], order: list[str]) -> nw.LazyFrame[Any]:
    """One row per ``keys``; among repeated keys the first by ``order`` (deterministic).

    Keys are counted first; only the rows of repeated keys are sorted, never the whole frame.
    """
    counted = frame.with_columns(nw.len().over(*keys).alias(_ROWS))
    once = counted.filter(nw.col(_ROWS) == 1)
    repeated = counted.filter(nw.col(_ROWS) > 1).unique(subset=keys, keep="first", order_by=order)
    return nw.concat([once, repeated], how="vertical").drop(_ROWS)


def compute_features(
    source: nw.LazyFrame[Any],
    table: FeatureTableConfig,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
) -> nw.LazyFrame[Any]:
    """Features for rows with ``start <= timestamp < end``; windows look back into ``source``.

    ``source`` must hold the lookback history (``table.lookback_days`` before ``start``). A window
    feature at time t aggregates the entity's own rows with timestamp in (t - window, t]. Sums,
    counts and means are running sums over one time-ordered timeline per entity (each history row
    enters at its time and leaves a window later), so the cost grows with rows, not with rows per
    entity squared; min and max compare the entity's rows in the window (a self-join). Every
    engine evaluates both the same way, in the same order: reruns are bit-identical.

    Rows repeating an entity and timestamp (a record re-sent in a later batch) are one
    observation, for the feature row and for the windows alike: the first by feature values,
    then by window columns, is kept, and windows never count the repeats.
    """
    ent, ts = table.entity_key, table.timestamp
    expressions = [f for f in table.features if isinstance(f, ExpressionFeature)]
    windows = [f for f in table.features if isinstance(f, WindowFeature)]
    hidden = {c: f"_h_{c}" for c in sorted({w.column for w in windows})}
    widest = max((w.window_days for w in windows), default=0)
    scope = source  # the rows computed and, with windows, the history they look back on
    if start is not None:
        scope = scope.filter(
            _ms(ts) > _floor_ms(start) - timedelta(days=widest) if windows else nw.col(ts) >= start
        )
    if end is not None:
        scope = scope.filter(_ms(ts) <= _floor_ms(end) if windows else nw.col(ts) < end)
    names = [f.name for f in expressions]
    projected = scope.select(
        nw.col(ent),
        nw.col(ts),
        *[compile_expression(f.expr).cast(NW_TYPES[f.dtype]).alias(f.name) for f in expressions],
        *[nw.col(c).alias(h) for c, h in hidden.items()],
    )
    deduped = unique_rows(projected, [ent, ts], [*names, *hidden.values()])
    rows = deduped
    if windows and start is not None:
        rows = rows.filter(nw.col(ts) >= start)
    if windows and end is not None:
        rows = rows.filter(nw.col(ts) < end)
    out = rows.select(nw.col(ent), nw.col(ts), *[nw.col(n) for n in names])
    if not windows:
        return out
    history = deduped.filter(~nw.col(ts).is_null()).select(
        nw.col(ent), _ms(ts).alias(_T), *[nw.col(h) for h in hidden.values()]
    )
    anchors = out.filter(~nw.col(ts).is_null()).select(nw.col(ent), nw.col(ts))
    last = _floor_ms(end) if end is not None else None  # the last instant an anchor can have
    for width in sorted({w.window_days for w in windows}):
        in_width = [w for w in windows if w.window_days == width]
        running = [w for w in in_width if w.agg in RUNNING_AGGS]
        compared = [w for w in in_width if w.agg not in RUNNING_AGGS]
        if running:
            agg = _running_windows(history, anchors, ent, ts, width, running, last)
            out = out.join(agg, on=[ent, ts], how="left")
        if compared:
            agg = _compared_windows(history, anchors, ent, ts, width, compared)
            out = out.join(agg, on=[ent, ts], how="left")
    return out.select(ent, ts, *[f.name for f in table.features])


def _running_windows(
    history: nw.LazyFrame[Any],
    anchors: nw.LazyFrame[Any],
    ent: str,
    ts: str,
    width: int,
    features: Sequence[WindowFeature],
    last: datetime | None = None,
) -> nw.LazyFrame[Any]:
    """Sum, count and mean windows of one width for every anchor, from running sums.

    The timeline of an entity holds, per history row, an *enter* event at its time (+value,
    +1) and an *exit* event ``width`` days later (-value, -1), and one event per anchor. Ordered
    by time, then exits and enters before anchors at the same instant, the running sums at an
    anchor t cover exactly the rows in (t - width, t]. Value ties are ordered by value, so the
    floating-point sums run in the same order on every run and engine. Exits after ``last`` (the
    last instant computed) come after every anchor and are left out: a daily run with a week of
    lookback sorts 10 events per day's row instead of 17 (0.81 -> 0.54 s for 2M rows of history,
    the same values to the bit).
    """
    # a count needs no values (its column may be a string): only sums and means add them up
    summed = sorted({f.column for f in features if f.agg != "count"})
    counted = sorted({f.column for f in features})
    schema = history.collect_schema()
    value = {c: f"_s{i}" for i, c in enumerate(summed)}
    seen = {c: f"_n{i}" for i, c in enumerate(counted)}
    ts_type = anchors.collect_schema()[ts]

    def events(kind: int, time: nw.Expr, sign: int) -> nw.LazyFrame[Any]:
        return history.select(
            nw.col(ent),
            time.alias(_T),
            nw.lit(kind, dtype=nw.Int64()).alias(_KIND),
            nw.lit(None, dtype=ts_type).alias(ts),
            *[(nw.col(f"_h_{c}").fill_null(0) * sign).alias(value[c]) for c in summed],
            *[
                ((~nw.col(f"_h_{c}").is_null()).cast(nw.Int64()) * sign).alias(seen[c])
                for c in counted
            ],
        )

    at_anchor = anchors.select(
        nw.col(ent),
        _ms(ts).alias(_T),
        nw.lit(ANCHOR, dtype=nw.Int64()).alias(_KIND),
        nw.col(ts),
        *[nw.lit(0, dtype=schema[f"_h_{c}"]).alias(value[c]) for c in summed],
        *[nw.lit(0, dtype=nw.Int64()).alias(seen[c]) for c in counted],
    )
    exits = events(EXIT, nw.col(_T).dt.offset_by(f"{width}d"), -1)
    if last is not None:
        exits = exits.filter(nw.col(_T) <= last)
    timeline = nw.concat(
        [
            events(ENTER, nw.col(_T), 1),
            exits,
            at_anchor,
        ],
        how="vertical",
    )
    order = [_T, _KIND, *value.values()]
    sums = [*value.values(), *seen.values()]
    totals = timeline.with_columns(
        *[nw.col(c).cum_sum().over(ent, order_by=order) for c in sums]
    ).filter(nw.col(_KIND) == ANCHOR)
    outputs = []
    for f in features:
        count = nw.col(seen[f.column])
        if f.agg == "count":
            expr = count
        elif f.agg == "sum":
            expr = nw.when(count > 0).then(nw.col(value[f.column]))
        else:
            expr = nw.when(count > 0).then(nw.col(value[f.column]) / count)
        outputs.append(expr.cast(NW_TYPES[f.dtype]).alias(f.name))
    return totals.select(nw.col(ent), nw.col(ts), *outputs)


def _compared_windows(
    history: nw.LazyFrame[Any],
    anchors: nw.LazyFrame[Any],
    ent: str,
    ts: str,
    width: int,
    features: Sequence[WindowFeature],
) -> nw.LazyFrame[Any]:
    """Min and max windows of one width: each anchor joined to its entity's rows in the window."""
    joined = (
        anchors.with_columns(_ms(ts).alias("_t_ms"))
        .join(history, on=ent, how="inner")
        .filter(
            (nw.col(_T) <= nw.col("_t_ms"))
            & (nw.col(_T) > nw.col("_t_ms").dt.offset_by(f"-{width}d"))
        )
    )
    aggs = []
    for f in features:
        col = nw.col(f"_h_{f.column}")
        expr = col.min() if f.agg == "min" else col.max()
        aggs.append(expr.cast(NW_TYPES[f.dtype]).alias(f.name))
    return joined.group_by(ent, ts).agg(*aggs)


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
