"""`--source FILE`: a user's CSV or Parquet table sampled with noise into any use case."""

import argparse
import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from mlops_assets.config.project import load_project
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.errors import ConfigError
from mlops_assets.simulate import SimulationConfig, SimulationSummary, simulate
from mlops_assets.simulate.cli import register, run
from mlops_assets_tests.simulate.fleet import SITES, config_dir, fleet_yaml, load_fleet
from mlops_assets_tests.simulate.landing_helpers import read_dataset_file, refine_day

ROWS, DAYS = 800, 4


def _source_table(rows: int = ROWS, seed: int = 3) -> pl.DataFrame:
    """Readings as a user might export them: other spellings, no machine id, text booleans."""
    rng = np.random.default_rng(seed)
    start = dt.datetime(2024, 1, 1)
    return pl.DataFrame(
        {
            "Site": rng.choice(SITES, rows),
            "TempC": np.round(rng.uniform(10, 90, rows), 1),
            "Vibration": np.round(rng.gamma(2.0, 1.5, rows), 3),
            "Running": rng.choice(["yes", "no"], rows),
            "ModelCode": [f"M-AB{i % 100:02d}" for i in range(rows)],
            "InstalledOn": [
                (dt.date(2020, 1, 1) + dt.timedelta(days=int(d))).isoformat()
                for d in rng.integers(0, 1000, rows)
            ],
            "RPM": rng.integers(0, 5000, rows),
            "Firmware": rng.choice(["v1", "v2", "v3"], rows),
            "reading_time": [start + dt.timedelta(minutes=int(m)) for m in rng.permutation(rows)],
            "Failed": rng.choice(["yes", "no"], rows, p=[0.2, 0.8]),
        }
    )


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> UseCaseConfig:
    return load_fleet(tmp_path_factory.mktemp("fleet_configs"))


def _config(fleet: UseCaseConfig, source: Path, **changes: object) -> SimulationConfig:
    return SimulationConfig.model_validate(
        {
            "use_case": "fleet",
            "start_date": fleet.start_date,
            "days": DAYS,
            "rows_per_day": 1500,
            "label_delay_days": 1,
            "source": str(source),
            "column_map": {"reading_time": "read_on"},
            "bad_row_rate": 0,  # faults are tested elsewhere: here every value is comparable
            "duplicate_rate": 0,
            **changes,
        }
    )


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def from_csv(
    fleet: UseCaseConfig, tmp_path_factory: pytest.TempPathFactory
) -> tuple[pl.DataFrame, Path, SimulationSummary]:
    root = tmp_path_factory.mktemp("source")
    table = _source_table()
    table.write_csv(root / "readings.csv")
    summary = simulate(_config(fleet, root / "readings.csv"), root / "data", fleet)
    return table, root, summary


def test_csv_and_parquet_sources_give_the_same_files(
    fleet: UseCaseConfig, from_csv: tuple[pl.DataFrame, Path, SimulationSummary]
) -> None:
    table, root, summary = from_csv
    assert summary.source == f"file {root / 'readings.csv'}"
    table.write_parquet(root / "readings.parquet")
    parquet = simulate(_config(fleet, root / "readings.parquet"), root / "pq", fleet)
    assert parquet.source.endswith("readings.parquet")
    assert _tree(root / "data") == _tree(root / "pq") and len(_tree(root / "pq")) == 11


def test_values_come_from_the_source_with_noise(
    from_csv: tuple[pl.DataFrame, Path, SimulationSummary],
) -> None:
    table, _, summary = from_csv
    frame = read_dataset_file(summary.days[0].observations_file)
    clean = frame.filter(pl.col("machine_id").is_not_null())
    ids = clean["machine_id"].cast(pl.Int64)
    assert ids.is_between(1000, 1000 + ROWS - 1).all()  # generated: one id per source row
    source = table.with_row_index("row").with_columns(pl.col("row").cast(pl.Int64) + 1000)
    joined = clean.with_columns(ids.alias("machine_id")).join(
        source, left_on="machine_id", right_on="row"
    )
    temps = joined["temp_c"].cast(pl.Float64, strict=False)
    # additive jitter of 2 % of the spread, clipped to the source's range
    delta = (temps - joined["TempC"]).drop_nulls().to_numpy()
    spread = table["TempC"].to_numpy()
    assert 0 < float(abs(delta).mean()) < 0.02 * 3 * float(spread.std())
    assert temps.drop_nulls().is_between(spread.min(), spread.max()).all()
    kept = float((joined["site"] == joined["Site"]).mean())  # type: ignore[arg-type]
    assert 0.95 < kept < 1.0  # ~2 % redrawn (some to their own value)
    assert set(joined["running"].drop_nulls()) == {"true", "false"}
    assert (joined["model_code"] == joined["ModelCode"]).mean() > 0.9  # type: ignore[operator]
    assert set(joined["firmware"].drop_nulls()) <= {"v1", "v2", "v3"}


def test_a_timestamped_source_replays_in_time_order(
    from_csv: tuple[pl.DataFrame, Path, SimulationSummary],
) -> None:
    table, _, summary = from_csv
    rank = table.with_row_index("row").select(
        (pl.col("row").cast(pl.Int64) + 1000).alias("machine_id"),
        pl.col("reading_time").rank("ordinal").cast(pl.Int64).alias("rank") - 1,
    )
    for day in summary.days:
        ids = read_dataset_file(day.observations_file)["machine_id"].cast(pl.Int64, strict=False)
        ranks = pl.DataFrame({"machine_id": ids.drop_nulls()}).join(rank, on="machine_id")
        lo, hi = (day.day_index - 1) * ROWS // DAYS, day.day_index * ROWS // DAYS
        assert ranks["rank"].is_between(lo, hi - 1).all(), day.date


def test_labels_come_from_the_source_label_column(
    from_csv: tuple[pl.DataFrame, Path, SimulationSummary],
) -> None:
    table, _, summary = from_csv
    truth = table.with_row_index("row").select(
        (pl.col("row").cast(pl.Int64) + 1000).alias("machine_id"), "Failed"
    )
    for day in summary.days[1:]:
        assert day.labels_file is not None
        labels = read_dataset_file(day.labels_file, ";").with_columns(
            pl.col("machine_id").cast(pl.Int64)
        )
        joined = labels.join(truth, on="machine_id")
        assert joined.height == labels.height > 1000
        assert (joined["failed"] == joined["Failed"]).all()
        assert set(labels["severity"]) <= {"1", "2", "3"}  # not in the source: synthesized


def test_a_source_entity_column_is_used_as_is(fleet: UseCaseConfig, tmp_path: Path) -> None:
    table = _source_table(rows=300).with_columns(MachineId=pl.int_range(7000, 7300, dtype=pl.Int64))
    table.write_parquet(tmp_path / "with_ids.parquet")
    config = _config(fleet, tmp_path / "with_ids.parquet", days=2)
    summary = simulate(config, tmp_path / "data", fleet)
    ids = read_dataset_file(summary.days[0].observations_file)["machine_id"]
    assert ids.cast(pl.Int64, strict=False).drop_nulls().is_between(7000, 7299).all()


def test_unusable_sources_are_refused(fleet: UseCaseConfig, tmp_path: Path) -> None:
    broken = _source_table(rows=50).with_columns(TempC=pl.lit("warm"))
    broken.write_csv(tmp_path / "broken.csv")
    with pytest.raises(ConfigError, match="does not hold float64 values") as info:
        simulate(_config(fleet, tmp_path / "broken.csv"), tmp_path / "a", fleet)
    assert info.value.context["examples"] == ["warm"] and info.value.fix
    _source_table(rows=50).write_csv(tmp_path / "ok.csv")
    with pytest.raises(ConfigError, match="replay column 'reading_tim' is not in the source"):
        simulate(
            _config(fleet, tmp_path / "ok.csv", replay_order=["reading_tim"]), tmp_path / "b", fleet
        )
    (tmp_path / "empty.csv").write_text("Site,TempC\n")
    with pytest.raises(ConfigError, match="has no rows"):
        simulate(_config(fleet, tmp_path / "empty.csv"), tmp_path / "c", fleet)


def test_cli_reads_the_use_case_and_the_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configs = config_dir(tmp_path, {"fleet": fleet_yaml()})
    _source_table(rows=200).write_csv(tmp_path / "readings.csv")
    parser = argparse.ArgumentParser(prog="mlops-assets")
    register(parser.add_subparsers(dest="command", required=True))
    argv = ["simulate", "--use-case", "fleet", "--config-dir", str(configs), "--days", "2"]
    argv += ["--rows-per-day", "100", "--source", str(tmp_path / "readings.csv")]
    argv += ["--map", "reading_time=read_on", "--data-dir", str(tmp_path / "data")]
    argv += ["--bad-row-rate", "service_events=0.3", "--label-delay-days", "1"]
    assert run(parser.parse_args(argv)) == 0
    out = capsys.readouterr().out
    assert f"source: file {tmp_path / 'readings.csv'}" in out
    printed = out.strip().rsplit("rows per dataset: ", 1)[1].split(", ")
    counts = {name: int(rows.replace(",", "")) for name, rows in (p.split(" ") for p in printed)}
    landing = tmp_path / "data" / "landing" / "fleet"
    for name, folder, delimiter in [
        ("readings", "readings", ","),
        ("service_events", "service", ","),
        ("failures", "failures", ";"),
    ]:
        files = sorted((landing / folder).rglob("*_*.*"))
        assert counts[name] == sum(read_dataset_file(f, delimiter).height for f in files) > 0
    fleet = load_project(directory=configs).use_case("fleet")
    _, quarantine = refine_day(tmp_path / "data", fleet, "service_events", fleet.start_date)
    assert 15 <= quarantine.height <= 45  # --bad-row-rate service_events=0.3 of 100 rows
    assert (tmp_path / "data/landing/fleet/failures/2026-03-02/failures_2026-03-02.csv").is_file()
