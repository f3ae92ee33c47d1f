"""`mlops-assets simulate`: argument parsing, drift specs, data directory, exit codes, output."""

import argparse
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_assets.errors import ConfigError
from mlops_assets.simulate import CategoricalDrift, NumericDrift, SimulationConfig
from mlops_assets.simulate.cli import config_from_args, parse_drift, register, run


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="mlops-assets")
    register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["simulate", *argv])


def test_defaults_build_the_default_config() -> None:
    args = _parse()
    assert args.func is run and args.data_dir is None
    assert config_from_args(args) == SimulationConfig()


def test_every_option_reaches_the_config(tmp_path: Path) -> None:
    args = _parse(
        "--days",
        "10",
        "--rows-per-day",
        "250",
        "--start-date",
        "2026-02-01",
        "--seed",
        "3",
        "--format",
        "parquet",
        "--label-delay-days",
        "1",
        "--bad-row-rate",
        "0.02",
        "--duplicate-rate",
        "0",
        "--use-case",
        "telco",
        "--data-dir",
        str(tmp_path),
        "--drift",
        "monthly_charges:5:multiply=1.3",
        "--drift",
        "contract:7:to_value=Month-to-month,fraction=0.5",
    )
    config = config_from_args(args)
    assert config == SimulationConfig(
        start_date=dt.date(2026, 2, 1),
        days=10,
        rows_per_day=250,
        seed=3,
        file_format="parquet",
        label_delay_days=1,
        bad_row_rate=0.02,
        duplicate_rate=0,
        use_case="telco",
        drift=[
            NumericDrift(column="monthly_charges", from_day=5, multiply=1.3),
            CategoricalDrift(
                column="contract", from_day=7, to_value="Month-to-month", fraction=0.5
            ),
        ],
    )
    assert args.data_dir == tmp_path


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("tenure:2:add=5", NumericDrift(column="tenure", from_day=2, add=5)),
        (
            "total_charges:1:multiply=0.9, add=-3",
            NumericDrift(column="total_charges", from_day=1, multiply=0.9, add=-3),
        ),
        (
            "payment_method:3:to_value=Bank transfer (automatic),fraction=1",
            CategoricalDrift(
                column="payment_method",
                from_day=3,
                to_value="Bank transfer (automatic)",
                fraction=1.0,
            ),
        ),
        (
            "partner:4:fraction=0.25,to_value=0",
            CategoricalDrift(column="partner", from_day=4, to_value="0", fraction=0.25),
        ),
        (
            "labels.churn:2:to_value=Yes,fraction=0.3",
            CategoricalDrift(column="labels.churn", from_day=2, to_value="Yes", fraction=0.3),
        ),
        ("orders.placed_at:3:shift=2", NumericDrift(column="orders.placed_at", from_day=3, add=2)),
    ],
)
def test_drift_specs(spec: str, expected: NumericDrift | CategoricalDrift) -> None:
    assert parse_drift(spec) == expected


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        ("bogus", "malformed --drift spec"),
        ("monthly_charges:3", "malformed --drift spec"),
        ("monthly_charges:3:multiply", "malformed --drift option"),
        ("monthly_charges:3:multiply=1.2,multiply=1.3", "malformed --drift option"),
        ("monthly_charges:x:multiply=1.3", "from_day"),
        ("monthly_charges:3:mult=1.3", "mult"),
        ("monthly_charges:3:multiply=big", "multiply"),
        ("contract:2:to_value=Two year", "fraction"),
        ("customers/x:1:multiply=2", "pattern"),
    ],
)
def test_bad_drift_specs_raise_config_error_with_a_fix(spec: str, why: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_drift(spec)
    assert why in str(info.value)
    assert info.value.context["spec"] == spec
    assert info.value.fix and "COLUMN:FROM_DAY:" in info.value.fix


def test_new_options_reach_the_config(tmp_path: Path) -> None:
    args = _parse(
        "--use-case",
        "housing",
        "--source",
        str(tmp_path / "sales.csv"),
        "--map",
        "SalePrice=sale_price",
        "--entity-column",
        "property_id",
        "--timestamp-column",
        "listed_at",
        "--replay-order",
        "year_sold, mo_sold",
        "--entities",
        "300",
        "--noise",
        "0.05",
        "--resample-rate",
        "0",
        "--bad-row-rate",
        "0.03",
        "--bad-row-rate",
        "sales=0.02",
        "--duplicate-rate",
        "listings=0.1",
        "--config-dir",
        str(tmp_path),
    )
    config = config_from_args(args)
    assert config.source == str(tmp_path / "sales.csv")
    assert config.column_map == {"SalePrice": "sale_price"}
    assert (config.entity_column, config.timestamp_column) == ("property_id", "listed_at")
    assert config.replay_order == ["year_sold", "mo_sold"]
    assert (config.entities, config.noise, config.resample_rate) == (300, 0.05, 0.0)
    assert config.bad_row_rate == 0.03 and config.duplicate_rate == 0.005
    assert config.dataset_bad_row_rates == {"sales": 0.02}
    assert config.dataset_duplicate_rates == {"listings": 0.1}
    assert config.file_format is None and args.config_dir == tmp_path
    with pytest.raises(ConfigError, match="malformed --map"):
        config_from_args(_parse("--map", "no_equals_sign"))


def test_run_reports_a_bad_spec_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(_parse("--data-dir", str(tmp_path), "--drift", "contract:1:to_value=x"))
    assert code == 2
    err = capsys.readouterr().err
    assert "error: invalid categorical --drift spec" in err and "fix:" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("argv", "why"),
    [
        (["--drift", "gender:1:multiply=2"], "unknown column 'gender'"),
        (["--drift", "monthly_charge:1:multiply=2"], "did you mean 'monthly_charges'"),
        (["--drift", "contract:1:multiply=2"], "numeric drift needs an int64"),
        (["--drift", "partner:1:to_value=yes,fraction=0.5"], "not a valid int64"),
        (["--drift", "customer.tenure:1:add=1"], "unknown dataset 'customer'"),
        (["--drift", "labels.tenure:1:add=1"], "unknown column 'tenure'"),
        (["--bad-row-rate", "label=0.1"], "did you mean 'labels'"),
        (["--use-case", "chrun"], "no use case named 'chrun'"),
        (["--source", "nope"], "neither a .csv/.parquet file nor a shipped table"),
        (["--days", "0"], "days"),
        (["--start-date", "2026-13-01"], "--start-date is not a date"),
        (["--days", "3", "--drift", "tenure:4:add=1"], "starts on day 4"),
    ],
)
def test_run_reports_invalid_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], why: str
) -> None:
    assert run(_parse("--data-dir", str(tmp_path), *argv)) == 2
    assert why in capsys.readouterr().err


def test_data_dir_comes_from_the_flag_then_env_then_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    small = ("--days", "1", "--rows-per-day", "20")
    customers = Path("landing/churn/customers/2026-01-01/customers_2026-01-01.csv")

    monkeypatch.delenv("MLOPS_DATA_DIR", raising=False)
    assert run(_parse(*small)) == 0
    assert (tmp_path / ".mlops_data" / customers).is_file()

    monkeypatch.setenv("MLOPS_DATA_DIR", str(tmp_path / "from_env"))
    assert run(_parse(*small)) == 0
    assert (tmp_path / "from_env" / customers).is_file()

    assert run(_parse(*small, "--data-dir", str(tmp_path / "flag"))) == 0
    assert (tmp_path / "flag" / customers).is_file()
    out = capsys.readouterr().out
    assert out.count("2026-01-01") == 3 and "files" in out


@pytest.mark.slow
def test_module_entry_point_prints_the_summary_table(tmp_path: Path) -> None:
    env = {**os.environ, "MLOPS_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlops_assets.simulate",
            "simulate",
            "--days",
            "3",
            "--rows-per-day",
            "400",
            "--label-delay-days",
            "1",
            "--drift",
            "monthly_charges:2:multiply=1.5",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0].split() == ["date", "rows", "bad", "dups", "labels", "drifted"]
    assert [line.split()[0] for line in lines[1:4]] == ["2026-01-01", "2026-01-02", "2026-01-03"]
    assert lines[1].split()[-1] == "-" and lines[2].split()[-1] == "monthly_charges"
    assert lines[4].startswith("5 files,")
    assert len(list((tmp_path / "landing/churn").rglob("*.csv"))) == 5
