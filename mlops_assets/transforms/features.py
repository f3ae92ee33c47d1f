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
_IN, _OWN, _OUT = "_in", "_own", "_out"
EXIT, ENTER, ANCHOR = 0, 1, 2  # the order of the events of one instant
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
    running = [w for w in windows if w.agg in RUNNING_AGGS]
    compared = [w for w in windows if w.agg not in RUNNING_AGGS]
    if running:
        last = _floor_ms(end) if end is not None else None  # the last instant an anchor can have
        out = _running_windows(deduped, ent, ts, names, running, _in_range(ts, start, end), last)
        if start is None and end is None:  # rows without a time are kept, without windows
            out = nw.concat(
                [out, _timeless(rows, ent, ts, names, running, out.collect_schema())],
                how="vertical",
            )
    if compared:
        history = deduped.filter(~nw.col(ts).is_null()).select(
            nw.col(ent), _ms(ts).alias(_T), *[nw.col(h) for h in hidden.values()]
        )
        anchors = rows.filter(~nw.col(ts).is_null()).select(nw.col(ent), nw.col(ts))
        for width in sorted({w.window_days for w in compared}):
            in_width = [w for w in compared if w.window_days == width]
            agg = _compared_windows(history, anchors, ent, ts, width, in_width)
            out = out.join(agg, on=[ent, ts], how="left")
    return out.select(ent, ts, *[f.name for f in table.features])


def _in_range(ts: str, start: datetime | None, end: datetime | None) -> nw.Expr:
    """Rows with ``start <= ts < end`` (the rows whose features are computed)."""
    inside: nw.Expr = nw.lit(True)
    if start is not None:
        inside = inside & (nw.col(ts) >= start)
    if end is not None:
        inside = inside & (nw.col(ts) < end)
    return inside


def _timeless(
    rows: nw.LazyFrame[Any],
    ent: str,
    ts: str,
    names: list[str],
    features: Sequence[WindowFeature],
    schema: nw.Schema,
) -> nw.LazyFrame[Any]:
    """The rows without a timestamp: their own features, and no window (none contains them)."""
    return rows.filter(nw.col(ts).is_null()).select(
        nw.col(ent),
        nw.col(ts),
        *[nw.col(n) for n in names],
        *[nw.lit(None, dtype=schema[f.name]).alias(f.name) for f in features],
    )


def _running_windows(
    deduped: nw.LazyFrame[Any],
    ent: str,
    ts: str,
    names: list[str],
    features: Sequence[WindowFeature],
    in_range: nw.Expr,
    last: datetime | None = None,
) -> nw.LazyFrame[Any]:
    """The rows in range (``in_range``, with a timestamp): entity, timestamp, the expression
    features ``names`` and every sum, count and mean window, from running sums.

    The timeline of an entity holds, per row of ``deduped``, an *enter* event at its time (+value,
    +1 in every width's sums) and per window width an *exit* event that many days later (-value,
    -1 in that width's sums). Ordered by time, exits before enters at the same instant, the
    running sums after the last event of an instant t cover exactly the rows in (t - width, t]
    for every width: one sort per entity for all widths. Value ties are ordered by value, so the
    floating-point sums run in the same order on every run and engine.

    A row in range is read at its own enter event, which carries its expression features: no
    separate event, no join back. Only a row sharing its instant (the millisecond) with another
    row of its entity gets an *anchor* event after every enter of that instant. Exits after
    ``last`` (the last instant computed) come after every row in range and are left out.

    A daily run with a week of lookback sorts 9 events per day's row (8 enters, 1 exit), where
    one event per row and its join back took 10 and all exits 17. One day of 1M rows: 0.56 ->
    0.29 s, the same values to the bit.
    """
    widths = sorted({f.window_days for f in features})
    # a count needs no values (its column may be a string): only sums and means add them up
    summed = sorted({f.column for f in features if f.agg != "count"})
    counted = sorted({f.column for f in features})
    value = {(c, w): f"_s{i}_{w}" for i, c in enumerate(summed) for w in widths}
    seen = {(c, w): f"_n{i}_{w}" for i, c in enumerate(counted) for w in widths}
    timed = deduped.filter(~nw.col(ts).is_null()).with_columns(
        _ms(ts).alias(_T), in_range.alias(_IN)
    )
    schema = timed.collect_schema()
    # A row alone at its instant is read at its enter event; the others need an anchor after
    # every enter of the instant (rows re-sent in one millisecond: rare).
    timed = timed.with_columns((nw.col(_IN) & (nw.len().over(ent, _T) == 1)).alias(_OWN))

    def signed(c: str, sign: int) -> nw.Expr:
        return nw.col(f"_h_{c}").fill_null(0) * sign

    def counts(c: str, sign: int) -> nw.Expr:
        return (~nw.col(f"_h_{c}").is_null()).cast(nw.Int64()) * sign

    def zero(dtype: Any) -> nw.Expr:
        return nw.lit(0, dtype=dtype)

    def sums(exit_width: int | None, sign: int) -> list[nw.Expr]:
        """Every width's sums of one event: this row's values, or 0 for another width's exit."""
        out = []
        for (c, w), name in value.items():
            dtype = schema[f"_h_{c}"]
            mine = exit_width is None or exit_width == w
            out.append((signed(c, sign) if mine else zero(dtype)).alias(name))
        for (c, w), name in seen.items():
            mine = exit_width is None or exit_width == w
            out.append((counts(c, sign) if mine else zero(nw.Int64())).alias(name))
        return out

    own = nw.col(_OWN)
    enters = timed.select(
        nw.col(ent),
        nw.col(_T),
        nw.lit(ENTER, dtype=nw.Int64()).alias(_KIND),
        own.alias(_OUT),
        nw.when(own).then(nw.col(ts)).alias(ts),
        *[nw.when(own).then(nw.col(n)).alias(n) for n in names],
        *sums(None, 1),
    )
    events = [enters]
    for width in widths:
        exits = timed.select(
            nw.col(ent),
            nw.col(_T).dt.offset_by(f"{width}d").alias(_T),
            nw.lit(EXIT, dtype=nw.Int64()).alias(_KIND),
            nw.lit(False).alias(_OUT),
            nw.lit(None, dtype=schema[ts]).alias(ts),
            *[nw.lit(None, dtype=schema[n]).alias(n) for n in names],
            *sums(width, -1),
        )
        events.append(exits.filter(nw.col(_T) <= last) if last is not None else exits)
    events.append(
        timed.filter(nw.col(_IN) & ~own).select(
            nw.col(ent),
            nw.col(_T),
            nw.lit(ANCHOR, dtype=nw.Int64()).alias(_KIND),
            nw.lit(True).alias(_OUT),
            nw.col(ts),
            *[nw.col(n) for n in names],
            *[zero(schema[f"_h_{c}"]).alias(name) for (c, _), name in value.items()],
            *[zero(nw.Int64()).alias(name) for name in seen.values()],
        )
    )
    timeline = nw.concat(events, how="vertical")
    order = [_T, _KIND, *value.values()]
    totals = timeline.with_columns(
        *[nw.col(c).cum_sum().over(ent, order_by=order) for c in [*value.values(), *seen.values()]]
    ).filter(nw.col(_OUT))
    outputs = []
    for f in features:
        count = nw.col(seen[(f.column, f.window_days)])
        if f.agg == "count":
            expr = count
        elif f.agg == "sum":
            expr = nw.when(count > 0).then(nw.col(value[(f.column, f.window_days)]))
        else:
            expr = nw.when(count > 0).then(nw.col(value[(f.column, f.window_days)]) / count)
        outputs.append(expr.cast(NW_TYPES[f.dtype]).alias(f.name))
    return totals.select(nw.col(ent), nw.col(ts), *[nw.col(n) for n in names], *outputs)


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
