"""Feature tables and the point-in-time join, against brute-force Python computations."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import narwhals as nw
import numpy as np
import polars as pl
import pytest

from mlops_assets.config.tables import FeatureTableConfig, TrainingSetConfig
from mlops_assets.transforms.features import compute_features, point_in_time_join

# Polars cannot verify sortedness inside `by` groups of an as-of join; both sides are sorted.
pytestmark = pytest.mark.filterwarnings("ignore:Sortedness of columns cannot be checked")
T0 = datetime(2026, 1, 1, tzinfo=UTC)
WINDOWS = [("mean", 3), ("sum", 3), ("min", 7), ("max", 7), ("count", 2)]
TABLE = FeatureTableConfig(
    name="customer_features",
    source="silver.customers",
    entity_key="customer_id",
    timestamp="event_ts",
    features=[
        {"name": "tenure", "expr": "tenure", "dtype": "int64", "description": "d"},
        {
            "name": "charge_per_month",
            "expr": "coalesce(total_charges, 0) / (tenure + 1)",
            "dtype": "float64",
            "description": "d",
        },
        {"name": "is_long", "expr": "tenure >= 12", "dtype": "bool", "description": "d"},
        *[
            {
                "type": "window",
                "name": f"charges_{agg}_{days}d",
                "column": "monthly_charges",
                "agg": agg,
                "window_days": days,
                "description": "d",
            }
            for agg, days in WINDOWS
        ],
    ],
)


@pytest.fixture(scope="module")
def history() -> pl.DataFrame:
    """Three customers observed at random times over 12 days (one charge is null)."""
    rng = np.random.default_rng(5)
    n = 45
    minutes = np.sort(rng.choice(12 * 24 * 60, n, replace=False))
    charges: list[float | None] = [float(v) for v in rng.uniform(20, 100, n).round(2)]
    charges[7] = None
    return pl.DataFrame(
        {
            "customer_id": [f"C{int(i)}" for i in rng.integers(0, 3, n)],
            "event_ts": [T0 + timedelta(minutes=int(m)) for m in minutes],
            "tenure": rng.integers(0, 30, n),
            "total_charges": [None if i % 9 == 0 else float(i * 10) for i in range(n)],
            "monthly_charges": charges,
        }
    )


def _reference(history: pl.DataFrame, row: dict[str, Any]) -> dict[str, Any]:
    """Every feature of one row, computed by brute force from the rows of its customer."""
    tenure, total = row["tenure"], row["total_charges"] or 0.0
    out: dict[str, Any] = {
        "tenure": tenure,
        "charge_per_month": total / (tenure + 1),
        "is_long": tenure >= 12,
    }
    return out | _window_reference(history, row)


def _window_reference(
    history: pl.DataFrame,
    row: dict[str, Any],
    at: Callable[[datetime], datetime] = lambda t: t,
) -> dict[str, Any]:
    """The window features of one row by brute force, on times as ``at`` measures them."""
    t = at(row["event_ts"])
    mine = [r for r in history.iter_rows(named=True) if r["customer_id"] == row["customer_id"]]
    out: dict[str, Any] = {}
    for agg, days in WINDOWS:
        values = [
            r["monthly_charges"]
            for r in mine
            if t - timedelta(days=days) < at(r["event_ts"]) <= t
            and r["monthly_charges"] is not None
        ]
        name = f"charges_{agg}_{days}d"
        if agg == "count":
            out[name] = len(values)
        elif not values:
            out[name] = None
        else:
            out[name] = {
                "mean": sum(values) / len(values),
                "sum": sum(values),
                "min": min(values),
                "max": max(values),
            }[agg]
    return out


def test_features_match_brute_force(history: pl.DataFrame) -> None:
    start, end = T0 + timedelta(days=8), T0 + timedelta(days=10)
    got = (
        compute_features(nw.from_native(history).lazy(), TABLE, start=start, end=end)
        .collect()
        .to_native()
    )
    expected_rows = [r for r in history.iter_rows(named=True) if start <= r["event_ts"] < end]
    assert got.height == len(expected_rows) > 5
    assert got.columns == ["customer_id", "event_ts", *[f.name for f in TABLE.features]]
    by_key = {(r["customer_id"], r["event_ts"]): r for r in got.iter_rows(named=True)}
    for row in expected_rows:
        feature_row = by_key[(row["customer_id"], row["event_ts"])]
        for name, value in _reference(history, row).items():
            if value is None:
                assert feature_row[name] is None, name
            else:
                assert feature_row[name] == pytest.approx(value), (name, row)
    assert got.schema["charges_count_2d"] == pl.Int64
    assert got.schema["is_long"] == pl.Boolean


def test_windows_reach_back_before_the_partition(history: pl.DataFrame) -> None:
    start = T0 + timedelta(days=5)
    first = history.filter(pl.col("event_ts") >= start).row(0, named=True)
    got = compute_features(nw.from_native(history).lazy(), TABLE, start=start).collect()
    row = got.filter(
        (nw.col("customer_id") == first["customer_id"]) & (nw.col("event_ts") == first["event_ts"])
    ).row(0)
    names = got.columns
    earlier = history.filter(
        (pl.col("customer_id") == first["customer_id"])
        & (pl.col("event_ts") < start)
        & (pl.col("event_ts") > first["event_ts"] - timedelta(days=7))
        & pl.col("monthly_charges").is_not_null()
    )
    assert earlier.height > 0  # the 7-day max sees rows of earlier days
    window_max = row[names.index("charges_max_7d")]
    expected = max([*earlier["monthly_charges"].to_list(), first["monthly_charges"] or 0.0])
    assert window_max == pytest.approx(expected)


def test_duplicate_entity_timestamps_give_one_feature_row(history: pl.DataFrame) -> None:
    doubled = pl.concat([history, history.head(3)])
    got = compute_features(nw.from_native(doubled).lazy(), TABLE).collect()
    assert got.shape[0] == history.height
    assert got.select(nw.col("customer_id"), nw.col("event_ts")).is_duplicated().sum() == 0


def test_bounded_partition_gives_the_unbounded_values_bit_for_bit(history: pl.DataFrame) -> None:
    """With an end, rows leaving a window after it never enter the running sums (a daily run
    with a week of lookback sorts ~40% fewer events); the values must not change at all."""
    start, end = T0 + timedelta(days=4), T0 + timedelta(days=6)
    frame = nw.from_native(history).lazy()
    keys = ["customer_id", "event_ts"]
    bounded = compute_features(frame, TABLE, start=start, end=end).collect().to_native()
    unbounded = (
        compute_features(frame, TABLE, start=start)
        .collect()
        .to_native()
        .filter(pl.col("event_ts") < end)
    )
    assert bounded.height > 5
    assert bounded.sort(keys).equals(unbounded.sort(keys))  # exact, floats included


# --- point-in-time correctness --------------------------------------------------------------

PIT_TABLE = FeatureTableConfig(
    name="f",
    source="silver.customers",
    entity_key="customer_id",
    timestamp="event_ts",
    features=[{"name": "spend", "expr": "spend", "dtype": "float64", "description": "d"}],
)


def _day(d: float) -> datetime:
    return T0 + timedelta(days=d)


FEATURES = pl.DataFrame(
    {
        "customer_id": ["A", "A", "A", "B", "C"],
        "event_ts": [_day(1), _day(3), _day(10), _day(8), _day(2)],
        "spend": [1.0, 3.0, 10.0, 8.0, 2.0],
    }
)
LABELS = pl.DataFrame(
    {
        "customer_id": ["A", "A", "B", "C"],
        "event_ts": [_day(5), _day(3), _day(6), _day(30)],
        "churn": ["No", "Yes", "No", "Yes"],
    }
)


def _join(max_age: int | None = None) -> pl.DataFrame:
    config = TrainingSetConfig(
        feature_table="f",
        labels="silver.labels",
        label_column="churn",
        label_timestamp="event_ts",
        max_feature_age_days=max_age,
    )
    joined = point_in_time_join(
        nw.from_native(LABELS).lazy(), nw.from_native(FEATURES).lazy(), config, PIT_TABLE
    )
    out: pl.DataFrame = joined.collect().to_native()
    return out.sort("customer_id", "event_ts")


def test_naive_join_on_the_entity_leaks_the_future() -> None:
    # The trap the as-of join avoids: the latest feature row of each entity is from after the
    # label for A@day5 (day 10) and for B@day6 (day 8).
    naive = LABELS.join(
        FEATURES.sort("event_ts").group_by("customer_id").last(), on="customer_id", suffix="_f"
    )
    leaked = naive.filter(pl.col("event_ts_f") > pl.col("event_ts"))
    assert sorted(leaked["customer_id"].to_list()) == ["A", "A", "B"]


def test_point_in_time_join_never_uses_a_later_feature_row() -> None:
    out = _join()
    rows = {(r["customer_id"], r["event_ts"]): r for r in out.iter_rows(named=True)}
    assert out.height == LABELS.height  # every label kept; the caller drops unmatched ones
    a5 = rows[("A", _day(5))]
    assert (a5["spend"], a5["feature_ts"]) == (3.0, _day(3))  # not the day-10 row
    a3 = rows[("A", _day(3))]
    assert (a3["spend"], a3["feature_ts"]) == (3.0, _day(3))  # "at or before": same instant ok
    b6 = rows[("B", _day(6))]
    assert (b6["spend"], b6["feature_ts"]) == (None, None)  # its only row is from the future
    c30 = rows[("C", _day(30))]
    assert (c30["spend"], c30["feature_ts"]) == (2.0, _day(2))
    assert all(r["feature_ts"] is None or r["feature_ts"] <= r["event_ts"] for r in rows.values())
    assert out.columns == ["customer_id", "event_ts", "churn", "spend", "feature_ts"]


def test_max_feature_age_drops_stale_matches() -> None:
    out = _join(max_age=7)
    rows = {(r["customer_id"], r["event_ts"]): r for r in out.iter_rows(named=True)}
    c30 = rows[("C", _day(30))]  # 28 days old: too stale
    assert (c30["spend"], c30["feature_ts"]) == (None, None)
    a5 = rows[("A", _day(5))]  # 2 days old: kept
    assert (a5["spend"], a5["feature_ts"]) == (3.0, _day(3))
    exactly = _join(max_age=28)  # exactly the limit is still fresh enough
    assert exactly.filter(pl.col("customer_id") == "C")["spend"].to_list() == [2.0]


def test_rows_resent_with_the_same_key_are_counted_once_by_the_windows(
    history: pl.DataFrame,
) -> None:
    # A record re-sent in a later batch repeats its customer and timestamp: one observation.
    resent = pl.concat([history, history.gather_every(4), history.gather_every(9)])
    start, end = T0 + timedelta(days=6), T0 + timedelta(days=12)
    got = compute_features(nw.from_native(resent).lazy(), TABLE, start=start, end=end).collect()
    once = compute_features(nw.from_native(history).lazy(), TABLE, start=start, end=end).collect()
    keys = ["customer_id", "event_ts"]
    got_rows, once_rows = got.to_native().sort(keys), once.to_native().sort(keys)
    assert got_rows.height == once_rows.height > 10
    assert got_rows["charges_count_2d"].to_list() == once_rows["charges_count_2d"].to_list()
    assert got_rows["charges_sum_3d"].to_list() == pytest.approx(once_rows["charges_sum_3d"])


def test_a_table_of_window_features_only(history: pl.DataFrame) -> None:
    windows_only = TABLE.model_copy(
        update={"features": [f for f in TABLE.features if f.type == "window"]}
    )
    doubled = pl.concat([history, history.head(3)])
    got = compute_features(nw.from_native(doubled).lazy(), windows_only).collect().to_native()
    full = compute_features(nw.from_native(history).lazy(), TABLE).collect().to_native()
    expected = full.select(got.columns)
    keys = ["customer_id", "event_ts"]
    assert got.columns == ["customer_id", "event_ts", *[f.name for f in windows_only.features]]
    assert got.sort(keys).equals(expected.sort(keys))


def test_a_count_window_over_a_string_column(history: pl.DataFrame) -> None:
    # count needs no arithmetic on the values: any column type can be counted
    labelled = history.with_columns(
        pl.when(pl.col("monthly_charges").is_null()).then(None).otherwise(pl.lit("x")).alias("tag")
    )
    counted = {
        "type": "window",
        "name": "tags_2d",
        "column": "tag",
        "agg": "count",
        "window_days": 2,
        "description": "d",
    }
    table = TABLE.model_copy(
        update={"features": [*TABLE.features, TABLE.features[-1].model_validate(counted)]}
    )
    got = compute_features(nw.from_native(labelled).lazy(), table).collect().to_native()
    assert got["tags_2d"].to_list() == got["charges_count_2d"].to_list()
    assert got["tags_2d"].max() > 1


def _ms_floor(value: datetime) -> datetime:
    return value.replace(microsecond=value.microsecond - value.microsecond % 1000)


@pytest.fixture(scope="module")
def crowded() -> pl.DataFrame:
    """Rows on a half-day grid, so rows leave a window exactly at other rows' instants, and
    pairs of rows of one customer within one millisecond (different microseconds)."""
    rng = np.random.default_rng(11)
    n = 160
    slots = rng.integers(0, 24, n)  # half days over 12 days: many exact 2- and 3-day gaps
    micros = rng.choice([0, 0, 0, 150, 700, 999], n)  # several rows share a millisecond
    charges: list[float | None] = [float(v) for v in rng.uniform(20, 100, n).round(2)]
    charges[3] = None
    frame = pl.DataFrame(
        {
            "customer_id": [f"C{int(i)}" for i in rng.integers(0, 3, n)],
            "event_ts": [
                T0 + timedelta(hours=12 * int(s), microseconds=int(u))
                for s, u in zip(slots, micros, strict=True)
            ],
            "tenure": rng.integers(0, 30, n),
            "total_charges": [float(i) for i in range(n)],
            "monthly_charges": charges,
        }
    )
    return frame.unique(subset=["customer_id", "event_ts"], keep="first", maintain_order=True)


@pytest.mark.parametrize("bounded", [True, False])
def test_rows_sharing_a_millisecond_and_rows_leaving_at_an_instant(
    crowded: pl.DataFrame, bounded: bool
) -> None:
    # Windows are measured on millisecond-floored times: a row sees every row of its entity in
    # its own millisecond (anchor events), and a row exactly a window earlier has left.
    start, end = (T0 + timedelta(days=5), T0 + timedelta(days=9)) if bounded else (None, None)
    got = (
        compute_features(nw.from_native(crowded).lazy(), TABLE, start=start, end=end)
        .collect()
        .to_native()
    )
    expected_rows = [
        r
        for r in crowded.iter_rows(named=True)
        if start is None or end is None or start <= r["event_ts"] < end
    ]
    shared = pl.DataFrame(expected_rows).select(
        pl.col("event_ts").dt.truncate("1ms").is_duplicated().over("customer_id").sum()
    )
    assert shared.item() >= 4  # the anchor events are exercised
    assert got.height == len(expected_rows) > 25
    by_key = {(r["customer_id"], r["event_ts"]): r for r in got.iter_rows(named=True)}
    for row in expected_rows:
        feature_row = by_key[(row["customer_id"], row["event_ts"])]
        assert feature_row["tenure"] == row["tenure"]
        for name, value in _window_reference(crowded, row, _ms_floor).items():
            if value is None:
                assert feature_row[name] is None, name
            else:
                assert feature_row[name] == pytest.approx(value, rel=1e-12), (name, row)


def test_rows_without_a_timestamp_keep_their_features_and_get_no_window(
    history: pl.DataFrame,
) -> None:
    # One row of each of two customers loses its time: no window can contain it.
    timeless = (
        history.unique(subset="customer_id", keep="first", maintain_order=True)
        .head(2)
        .with_columns(pl.lit(None, pl.Datetime("us", "UTC")).alias("event_ts"))
    )
    assert timeless.height == 2
    got = compute_features(nw.from_native(pl.concat([history, timeless])).lazy(), TABLE)
    rows = got.collect().to_native()
    assert rows.height == history.height + 2
    missing = rows.filter(pl.col("event_ts").is_null()).sort("customer_id")
    assert missing["customer_id"].to_list() == sorted(timeless["customer_id"].to_list())
    assert missing["tenure"].to_list() == timeless.sort("customer_id")["tenure"].to_list()
    windows = [f"charges_{agg}_{days}d" for agg, days in WINDOWS]
    assert missing.select(pl.all_horizontal(pl.col(windows).is_null())).to_series().all()
    timed = rows.filter(pl.col("event_ts").is_not_null()).sort("customer_id", "event_ts")
    alone = compute_features(nw.from_native(history).lazy(), TABLE).collect().to_native()
    assert timed.equals(alone.sort("customer_id", "event_ts"))  # the others are unchanged
