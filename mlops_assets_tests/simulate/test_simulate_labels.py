"""Delayed labels: day d's labels file holds the outcomes of day d - delay's observations."""

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from mlops_assets.simulate import SimulationConfig, simulate
from mlops_assets_tests.simulate.landing_helpers import read_landing

TS = "%Y-%m-%dT%H:%M:%S%.fZ"


@pytest.mark.parametrize("file_format", ["csv", "parquet"])
def test_labels_arrive_delay_days_later(
    tmp_path: Path, base: pl.DataFrame, file_format: str
) -> None:
    delay, days = 2, 6
    config = SimulationConfig.model_validate(
        {
            "days": days,
            "rows_per_day": 1500,
            "label_delay_days": delay,
            "bad_row_rate": 0.05,
            "file_format": file_format,
        }
    )
    summary = simulate(config, tmp_path)
    labels_root = tmp_path / "landing" / "churn" / "labels"
    written = sorted(p.name for p in labels_root.iterdir())
    assert written == [config.date_of(d).isoformat() for d in range(delay + 1, days + 1)]
    assert all(d.labels_file is None and d.label_rows == 0 for d in summary.days[:delay])

    for day in summary.days[delay:]:
        assert day.labels_file is not None
        labels = read_landing(day.labels_file)
        observed_day = summary.days[day.day_index - delay - 1]
        observed = read_landing(observed_day.observations_file)
        expected = (
            observed.filter(pl.col("customer_id").is_not_null())
            .select("customer_id", "event_ts")
            .unique()
        )
        assert labels.height == day.label_rows == expected.height
        assert (
            labels.select("customer_id", "event_ts").sort(pl.all()).equals(expected.sort(pl.all()))
        )
        truth = labels.join(base.select("customer_id", truth="churn"), on="customer_id")
        assert truth.height == labels.height and (truth["churn"] == truth["truth"]).all()
        event = labels["event_ts"].str.to_datetime(TS, time_zone="UTC")
        label = labels["label_ts"].str.to_datetime(TS, time_zone="UTC")
        assert ((label - event) == dt.timedelta(days=delay)).all()
        assert (event.dt.date() == observed_day.date).all()
        assert (label.dt.date() == day.date).all()


def test_observations_of_the_last_delay_days_stay_unlabelled(tmp_path: Path) -> None:
    config = SimulationConfig(days=5, rows_per_day=200, label_delay_days=3)
    summary = simulate(config, tmp_path)
    labelled = {
        ts[:10]
        for day in summary.days
        if day.labels_file is not None
        for ts in read_landing(day.labels_file)["event_ts"].to_list()
    }
    assert labelled == {"2026-01-01", "2026-01-02"}  # days 3-5 await their labels


def test_zero_delay_labels_the_same_day(tmp_path: Path) -> None:
    config = SimulationConfig(days=2, rows_per_day=300, label_delay_days=0, bad_row_rate=0)
    summary = simulate(config, tmp_path)
    for day in summary.days:
        assert day.labels_file is not None and day.label_rows == 300
        labels = read_landing(day.labels_file)
        assert (labels["event_ts"] == labels["label_ts"]).all()


def test_delay_longer_than_the_run_writes_no_labels(tmp_path: Path) -> None:
    summary = simulate(SimulationConfig(days=2, rows_per_day=50, label_delay_days=5), tmp_path)
    assert all(d.labels_file is None for d in summary.days)
    assert not (tmp_path / "landing" / "churn" / "labels").exists()
