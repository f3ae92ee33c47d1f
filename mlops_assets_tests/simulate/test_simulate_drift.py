"""Injected drift shifts the named column from the given day on, and nothing else."""

from pathlib import Path

import polars as pl

from mlops_assets.data import WA_CHURN_FEATURES
from mlops_assets.simulate import CategoricalDrift, NumericDrift, SimulationConfig, simulate
from mlops_assets_tests.simulate.landing_helpers import as_float, as_int, read_landing

ROWS = 5000


def _runs(
    tmp_path: Path, config: SimulationConfig
) -> tuple[list[pl.DataFrame], list[pl.DataFrame]]:
    """Customers frames per day of `config` and of the same config without drift."""
    drifted = simulate(config, tmp_path / "drift")
    plain = simulate(config.model_copy(update={"drift": []}), tmp_path / "plain")
    assert all(not d.drifted_columns for d in plain.days)
    return (
        [read_landing(d.observations_file) for d in drifted.days],
        [read_landing(d.observations_file) for d in plain.days],
    )


def test_numeric_drift_multiplies_only_from_its_day(tmp_path: Path) -> None:
    drift = NumericDrift(column="monthly_charges", from_day=3, multiply=1.3)
    config = SimulationConfig(days=5, rows_per_day=ROWS, drift=[drift])
    drifted, plain = _runs(tmp_path, config)
    others = [c for c in ("customer_id", "event_ts", *WA_CHURN_FEATURES) if c != "monthly_charges"]
    for day, (d, p) in enumerate(zip(drifted, plain, strict=True), start=1):
        assert d.select(others).equals(p.select(others))
        mean_d = d.select(as_float("monthly_charges")).mean().item()
        mean_p = p.select(as_float("monthly_charges")).mean().item()
        if day < 3:
            assert d.equals(p)
        else:  # the same sampled rows, every charge scaled by 1.3 (then rounded to cents)
            assert abs(mean_d / mean_p - 1.3) < 0.001
    # across days (different samples) the measured mean jumps by ~30 % at day 3 only
    means = [f.select(as_float("monthly_charges")).mean().item() for f in drifted]
    assert abs(means[1] / means[0] - 1) < 0.03
    assert abs(means[2] / means[1] - 1.3) < 0.05
    assert abs(means[4] / means[2] - 1) < 0.03


def test_additive_drift_on_tenure_keeps_integers(tmp_path: Path) -> None:
    config = SimulationConfig(
        days=2,
        rows_per_day=ROWS,
        bad_row_rate=0,
        drift=[NumericDrift(column="tenure", from_day=2, add=12)],
    )
    drifted, plain = _runs(tmp_path, config)
    assert drifted[0].equals(plain[0])
    tenure_d = drifted[1].select(as_int("tenure")).to_series()
    tenure_p = plain[1].select(as_int("tenure")).to_series()
    assert tenure_d.null_count() == 0  # still integers in the file
    assert ((tenure_d - tenure_p) == 12).all()


def test_categorical_drift_moves_the_given_fraction_from_its_day(tmp_path: Path) -> None:
    drift = CategoricalDrift(column="contract", from_day=2, to_value="Month-to-month", fraction=0.5)
    config = SimulationConfig(days=4, rows_per_day=ROWS, drift=[drift])
    drifted, plain = _runs(tmp_path, config)
    assert drifted[0].equals(plain[0])

    def share(frame: pl.DataFrame) -> float:
        return float((frame["contract"] == "Month-to-month").mean())  # type: ignore[arg-type]

    before = share(plain[1])
    for d, p in zip(drifted[1:], plain[1:], strict=True):
        assert d.drop("contract").equals(p.drop("contract"))
        pair = pl.DataFrame({"was": p["contract"], "now": d["contract"]})
        others = pair.filter(~pl.col("was").is_in(["Month-to-month", "Quarterly"]))
        moved = (others["now"] == "Month-to-month").mean()
        assert abs(moved - 0.5) < 0.03  # type: ignore[operator]
        kept = pair.filter(pl.col("was") == "Month-to-month")
        assert (kept["now"] == "Month-to-month").all()
        assert abs(share(d) - (before + 0.5 * (1 - before))) < 0.03


def test_drift_to_a_new_category_and_on_a_flag(tmp_path: Path) -> None:
    config = SimulationConfig(
        days=2,
        rows_per_day=ROWS,
        bad_row_rate=0,
        duplicate_rate=0,
        drift=[
            CategoricalDrift(column="payment_method", from_day=1, to_value="Crypto", fraction=0.2),
            CategoricalDrift(column="paperless_billing", from_day=2, to_value="1", fraction=1.0),
        ],
    )
    summary = simulate(config, tmp_path)
    assert [d.drifted_columns for d in summary.days] == [
        ["payment_method"],
        ["payment_method", "paperless_billing"],
    ]
    day1, day2 = (read_landing(d.observations_file) for d in summary.days)
    assert abs((day1["payment_method"] == "Crypto").mean() - 0.2) < 0.03  # type: ignore[operator]
    assert set(day1["paperless_billing"].unique()) == {"0", "1"}
    assert set(day2["paperless_billing"].unique()) == {"1"}
