"""Bad rows and duplicates: present at roughly the configured rates, and exactly as reported."""

from pathlib import Path

import polars as pl
import pytest

from mlops_assets.simulate import SimulationConfig, simulate
from mlops_assets_tests.simulate.landing_helpers import as_float, as_int, read_landing

ROWS = 20_000
CONTRACTS = ["Month-to-month", "One year", "Two year"]


def _defects(frame: pl.DataFrame) -> pl.DataFrame:
    """One flag per defect, measured from the text as a validating reader would."""
    return frame.select(
        null_id=pl.col("customer_id").is_null(),
        negative_tenure=as_int("tenure") < 0,
        unknown_contract=~pl.col("contract").is_in(CONTRACTS),
        bad_charges=as_float("monthly_charges").is_null(),
    )


@pytest.mark.parametrize(("bad_rate", "dup_rate"), [(0.05, 0.02), (0.01, 0.005)])
def test_rates_and_counts(tmp_path: Path, bad_rate: float, dup_rate: float) -> None:
    config = SimulationConfig(
        days=2, rows_per_day=ROWS, bad_row_rate=bad_rate, duplicate_rate=dup_rate
    )
    summary = simulate(config, tmp_path)
    for day in summary.days:
        frame = read_landing(day.observations_file)
        assert frame.height == day.rows_written == ROWS + day.duplicates

        originals = frame.head(ROWS)  # re-sent copies are appended after the day's observations
        flags = _defects(originals)
        per_kind = flags.sum().row(0, named=True)
        assert all(count > 0 for count in per_kind.values()), per_kind
        bad = int(flags.select(pl.any_horizontal(pl.all())).to_series().sum())
        assert bad == sum(per_kind.values()) == day.bad_rows  # one defect per bad row
        assert abs(bad / ROWS - bad_rate) < max(0.25 * bad_rate, 0.004)

        duplicated = frame.height - frame.unique().height
        assert duplicated == day.duplicates
        assert abs(duplicated / ROWS - dup_rate) < max(0.25 * dup_rate, 0.003)
        copies = frame.tail(day.duplicates)
        assert copies.join(originals, on=frame.columns, how="anti", nulls_equal=True).height == 0
        assert _defects(copies).select(pl.any_horizontal(pl.all())).to_series().sum() == 0
        assert originals.select("customer_id", "event_ts").is_duplicated().sum() == 0


def test_unparseable_values_are_the_documented_ones(tmp_path: Path) -> None:
    summary = simulate(SimulationConfig(days=1, rows_per_day=5000, bad_row_rate=0.2), tmp_path)
    frame = read_landing(summary.days[0].observations_file)
    broken = frame.filter(as_float("monthly_charges").is_null())
    assert set(broken["monthly_charges"].unique()) == {"n/a"}
    assert set(frame.filter(~pl.col("contract").is_in(CONTRACTS))["contract"]) == {"Quarterly"}
    assert frame.filter(as_int("tenure").is_null()).height == 0  # negative, but still integers


def test_zero_rates_give_clean_files(tmp_path: Path) -> None:
    config = SimulationConfig(days=2, rows_per_day=3000, bad_row_rate=0, duplicate_rate=0)
    summary = simulate(config, tmp_path)
    for day in summary.days:
        frame = read_landing(day.observations_file)
        assert day.bad_rows == day.duplicates == 0 and frame.height == 3000
        assert _defects(frame).select(pl.any_horizontal(pl.all())).to_series().sum() == 0
        assert frame.filter(pl.col("customer_id").is_null()).height == 0
