"""The regression example (draft YAML next to this file): `simulate --use-case housing` works.

The draft is placed in a temporary configs folder, as the project will hold it, and read through
the project loader (`--config-dir` and `MLOPS_CONFIG_DIR`); its default source is the shipped
Ames table.
"""

import argparse
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from mlops_assets.config.project import load_project
from mlops_assets.config.tables import JoinTable, WindowFeature
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.data import load_ames
from mlops_assets.simulate import SimulationConfig, SimulationSummary, simulate
from mlops_assets.simulate.cli import parse_drift, register, run
from mlops_assets_tests.simulate.fleet import config_dir
from mlops_assets_tests.simulate.landing_helpers import read_dataset_file, refine_day

DRAFT = Path(__file__).with_name("housing_draft.yaml")
DELAY = 2


@pytest.fixture(scope="module")
def configs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return config_dir(tmp_path_factory.mktemp("housing"), {"housing": DRAFT})


@pytest.fixture(scope="module")
def housing(configs: Path) -> UseCaseConfig:
    return load_project(directory=configs).use_case("housing")


@pytest.fixture(scope="module")
def landed(
    housing: UseCaseConfig, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, SimulationSummary]:
    data_dir = tmp_path_factory.mktemp("housing_data")
    config = SimulationConfig(
        use_case="housing",
        start_date=housing.start_date,
        days=4,
        rows_per_day=3000,
        label_delay_days=DELAY,
        bad_row_rate=0.03,
        duplicate_rate=0.01,
        drift=[parse_drift("gr_liv_area:3:multiply=1.5"), parse_drift("sale_price:4:multiply=0.8")],
    )
    return data_dir, simulate(config, data_dir, housing)


def test_the_draft_shows_what_churn_does_not(housing: UseCaseConfig) -> None:
    assert housing.model is not None and housing.model.task == "regression"
    assert any(isinstance(g, JoinTable) for g in housing.gold)
    features = housing.feature_tables[0].features
    assert any(isinstance(f, WindowFeature) for f in features)
    rules = {r.type for d in housing.datasets for r in d.rules}
    assert {"regex", "sql", "accepted_values", "range"} <= rules
    assert "neighborhood" in housing.model.categorical_features
    assert load_ames()["neighborhood"].n_unique() == 28


def test_listings_and_delayed_sales_land_from_the_ames_table(
    housing: UseCaseConfig, landed: tuple[Path, SimulationSummary]
) -> None:
    data_dir, summary = landed
    assert summary.source == "ames (shipped)"
    assert [d.primary for d in summary.days] == ["listings"] * 4
    assert [d.labels_file is not None for d in summary.days] == [False, False, True, True]
    prices = load_ames().select("property_id", truth="sale_price")
    for day in summary.days[DELAY:]:
        sales, _ = refine_day(data_dir, housing, "sales", day.date)
        assert sales.height == day.label_rows > 2900
        joined = sales.join(prices, on="property_id")
        assert joined.height == sales.height
        factor = 0.8 if day.day_index >= 4 else 1.0  # the label drift, rounded to dollars
        assert (joined["sale_price"] == (joined["truth"] * factor).round(0).cast(pl.Int64)).all()
        waited = sales["recorded_at"] - sales["listed_at"]
        assert (waited == dt.timedelta(days=DELAY)).all()
        seen = summary.days[day.day_index - DELAY - 1].date
        assert (sales["listed_at"].dt.date() == seen).all()


def test_quarantine_holds_the_injected_faults_and_real_rule_breaks(
    housing: UseCaseConfig, landed: tuple[Path, SimulationSummary]
) -> None:
    data_dir, summary = landed
    ames = load_ames()
    broken_in_source = set(
        ames.filter(pl.col("year_remod_add") < pl.col("year_built"))["property_id"]
    )
    assert len(broken_in_source) == 1
    for day in summary.days:
        written = day.datasets["listings"]
        silver, quarantine = refine_day(data_dir, housing, "listings", day.date)
        real = quarantine.filter(pl.col("_rule") == "remodelled_after_built")
        assert set(real["property_id"]) <= broken_in_source
        assert quarantine.height - real.height == written.bad_rows + written.duplicates
        assert silver.height == written.observations - written.bad_rows - real.height
        assert silver["neighborhood"].n_unique() >= 25  # of 28; a few are rare in the source
        assert silver["property_id"].str.contains(r"^P[0-9]{4}$").all()


def test_drift_scales_living_area_from_its_day(
    landed: tuple[Path, SimulationSummary],
) -> None:
    _, summary = landed
    means = []
    for day in summary.days:
        frame = read_dataset_file(day.observations_file)
        means.append(frame["gr_liv_area"].cast(pl.Float64, strict=False).mean())
    assert summary.days[2].drifted_columns == ["gr_liv_area"]
    assert abs(means[1] / means[0] - 1) < 0.05  # type: ignore[operator]
    assert abs(means[2] / means[1] - 1.5) < 0.08  # type: ignore[operator]


def test_cli_finds_the_use_case_in_the_config_dir(
    configs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parser = argparse.ArgumentParser(prog="mlops-assets")
    register(parser.add_subparsers(dest="command", required=True))
    argv = ["simulate", "--use-case", "housing", "--days", "2", "--rows-per-day", "200"]
    argv += ["--data-dir", str(tmp_path / "flag"), "--config-dir", str(configs)]
    assert run(parser.parse_args(argv)) == 0
    first = tmp_path / "flag/landing/housing/listings/2026-01-01/listings_2026-01-01.csv"
    assert first.is_file()

    monkeypatch.setenv("MLOPS_CONFIG_DIR", str(configs))
    summary = simulate(
        SimulationConfig(use_case="housing", days=1, rows_per_day=50), tmp_path / "env"
    )
    assert summary.days[0].observations_file.is_file()


@pytest.mark.slow
def test_mlops_assets_simulate_use_case_housing(configs: Path, tmp_path: Path) -> None:
    env = {**os.environ, "MLOPS_CONFIG_DIR": str(configs), "MLOPS_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "mlops_assets.cli", "simulate", "--use-case", "housing"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "source: ames (shipped); rows per dataset: listings" in done.stdout
    landing = tmp_path / "landing" / "housing"
    assert len(list((landing / "listings").rglob("*.csv"))) == 7
    assert len(list((landing / "sales").rglob("*.csv"))) == 4  # 3 days late
