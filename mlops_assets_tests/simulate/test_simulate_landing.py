"""Landing files: layout, columns, timestamps, noise, determinism, formats and atomic writes."""

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from mlops_assets.config.project import load_project
from mlops_assets.data import WA_CHURN_FEATURES
from mlops_assets.errors import StorageError
from mlops_assets.simulate import SimulationConfig, landing_file, simulate
from mlops_assets.simulate.layout import write_atomic
from mlops_assets_tests.simulate.landing_helpers import as_float, as_int, read_landing

ISO_UTC = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$"


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_layout_and_columns(tmp_path: Path) -> None:
    config = SimulationConfig(
        start_date=dt.date(2026, 3, 30), days=4, rows_per_day=300, label_delay_days=2
    )
    summary = simulate(config, tmp_path)
    expected = {
        f"landing/churn/customers/{d}/customers_{d}.csv"
        for d in ("2026-03-30", "2026-03-31", "2026-04-01", "2026-04-02")
    } | {f"landing/churn/labels/{d}/labels_{d}.csv" for d in ("2026-04-01", "2026-04-02")}
    assert set(_tree(tmp_path)) == expected
    assert {str(p.relative_to(tmp_path)) for p in summary.files_written} == expected
    assert [d.date for d in summary.days] == [config.date_of(i) for i in range(1, 5)]

    customers = read_landing(summary.days[0].observations_file)
    declared = {
        d.name: [c.name for c in d.columns] for d in load_project().use_case("churn").datasets
    }
    assert (
        customers.columns
        == declared["customers"]
        == ["customer_id", "event_ts", *WA_CHURN_FEATURES]
    )
    assert customers.columns[:2] == ["customer_id", "event_ts"] and len(customers.columns) == 21
    assert customers.height == summary.days[0].rows_written
    labels_file = summary.days[2].labels_file
    assert labels_file is not None
    labels = read_landing(labels_file)
    assert labels.columns == declared["labels"] == ["customer_id", "event_ts", "churn", "label_ts"]
    assert labels.height == summary.days[2].label_rows > 0
    assert landing_file(tmp_path, "churn", "labels", dt.date(2026, 4, 1), "csv") == labels_file


def test_event_timestamps_are_unique_iso_utc_inside_their_day(tmp_path: Path) -> None:
    summary = simulate(SimulationConfig(days=2, rows_per_day=2000, duplicate_rate=0), tmp_path)
    for day in summary.days:
        frame = read_landing(day.observations_file)
        assert frame["event_ts"].str.contains(ISO_UTC).all()
        parsed = frame["event_ts"].str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", time_zone="UTC")
        assert (parsed.dt.date() == day.date).all()
        assert parsed.is_sorted() and parsed.n_unique() == frame.height


def test_noise_is_small_and_tenure_advances_with_time(tmp_path: Path, base: pl.DataFrame) -> None:
    config = SimulationConfig(
        days=31, rows_per_day=3000, bad_row_rate=0, duplicate_rate=0, label_delay_days=0
    )
    summary = simulate(config, tmp_path)
    source = base.select(
        "customer_id",
        base_tenure="tenure",
        base_monthly="monthly_charges",
        base_total="total_charges",
    )

    def joined(day_index: int) -> pl.DataFrame:
        frame = read_landing(summary.days[day_index - 1].observations_file)
        return frame.join(source, on="customer_id", how="left", validate="m:1").with_columns(
            as_int("tenure"), as_float("monthly_charges"), as_float("total_charges")
        )

    first, last = joined(1), joined(31)
    for frame in (first, last):
        ratio = frame["monthly_charges"] / frame["base_monthly"]
        assert abs(ratio.mean() - 1.0) < 0.003  # type: ignore[operator]
        assert 0.015 < ratio.std() < 0.025  # type: ignore[operator]
    assert (first["tenure"] == first["base_tenure"]).all()
    assert first["total_charges"].equals(first["base_total"], check_names=False)
    assert (last["tenure"] == last["base_tenure"] + 1).all()  # 30 days later: one month more
    accrued = last["base_total"].fill_null(0) + last["monthly_charges"]
    assert ((last["total_charges"] - accrued).abs() < 0.0051).all()
    assert set(first["contract"].unique()) == set(base["contract"].unique())
    assert "churn" not in first.columns  # the outcome only arrives through the labels files


def test_same_config_gives_same_bytes_and_overwrites(tmp_path: Path) -> None:
    config = SimulationConfig(days=4, rows_per_day=500, label_delay_days=1, seed=7)
    simulate(config, tmp_path / "a")
    simulate(config, tmp_path / "b")
    first = _tree(tmp_path / "a")
    assert first == _tree(tmp_path / "b")

    victim = tmp_path / "a" / next(iter(first))
    victim.write_text("garbage\n")
    simulate(config, tmp_path / "a")
    assert _tree(tmp_path / "a") == first  # the damaged file was replaced, nothing else left

    simulate(config.model_copy(update={"seed": 8}), tmp_path / "c")
    other = _tree(tmp_path / "c")
    assert other.keys() == first.keys() and all(other[k] != first[k] for k in first)


def test_parquet_holds_the_same_rows_as_csv(tmp_path: Path) -> None:
    config = SimulationConfig(days=4, rows_per_day=800, label_delay_days=2, bad_row_rate=0.05)
    csv = simulate(config, tmp_path / "csv")
    parquet = simulate(config.model_copy(update={"file_format": "parquet"}), tmp_path / "pq")
    assert all(p.suffix == ".parquet" for p in parquet.files_written)
    assert len(csv.files_written) == len(parquet.files_written) == 6
    for csv_file, pq_file in zip(csv.files_written, parquet.files_written, strict=True):
        from_pq = read_landing(pq_file)
        assert all(dtype == pl.String for dtype in from_pq.dtypes)
        assert from_pq.equals(read_landing(csv_file))


def test_use_case_names_the_landing_folder(tmp_path: Path) -> None:
    telco = load_project().use_case("churn").model_copy(update={"name": "telco"})
    config = SimulationConfig(days=1, rows_per_day=10, use_case="telco")
    summary = simulate(config, tmp_path, telco)
    assert summary.days[0].observations_file == (
        tmp_path / "landing/telco/customers/2026-01-01/customers_2026-01-01.csv"
    )


def test_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "landing" / "x.csv"
    write_atomic(pl.DataFrame({"a": ["1"]}), target, "csv")
    unwritable = pl.DataFrame({"a": [object()]}, schema={"a": pl.Object})
    with pytest.raises(StorageError, match="could not write a landing file") as info:
        write_atomic(unwritable, target, "csv")
    assert info.value.fix and info.value.context["path"] == str(target)
    assert target.read_text() == "a\n1\n"
    assert [p.name for p in target.parent.iterdir()] == ["x.csv"]
