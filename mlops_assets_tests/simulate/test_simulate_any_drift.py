"""Drift on any column of any dataset, clear errors for unknown names, and determinism."""

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.errors import ConfigError
from mlops_assets.simulate import SimulationConfig, SimulationSummary, simulate
from mlops_assets.simulate.cli import parse_drift
from mlops_assets_tests.simulate.fleet import load_fleet
from mlops_assets_tests.simulate.landing_helpers import read_dataset_file

DRIFTS = [
    "temperature_c:3:add=15",
    "site:2:to_value=east,fraction=0.5",
    "installed_on:2:shift=-100",
    "service_events.cost:3:multiply=2",
    "failures.failed:3:to_value=yes,fraction=1",
]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> UseCaseConfig:
    return load_fleet(tmp_path_factory.mktemp("fleet_configs"))


def _config(fleet: UseCaseConfig, drift: list[str], **changes: object) -> SimulationConfig:
    return SimulationConfig.model_validate(
        {
            "use_case": "fleet",
            "start_date": fleet.start_date,
            "days": 4,
            "rows_per_day": 4000,
            "label_delay_days": 1,
            "bad_row_rate": 0,
            "duplicate_rate": 0,
            "drift": [parse_drift(spec) for spec in drift],
            **changes,
        }
    )


def _frames(summary: SimulationSummary, dataset: str, delimiter: str = ",") -> list[pl.DataFrame]:
    files = [day.datasets[dataset].file for day in summary.days]
    return [read_dataset_file(f, delimiter) for f in files if f is not None]


def test_drift_reaches_the_named_columns_of_every_dataset(
    fleet: UseCaseConfig, tmp_path: Path
) -> None:
    drifted = simulate(_config(fleet, DRIFTS), tmp_path / "drift", fleet)
    plain = simulate(_config(fleet, []), tmp_path / "plain", fleet)
    assert [d.drifted_columns for d in drifted.days] == [
        [],
        ["site", "installed_on"],
        ["temperature_c", "site", "installed_on", "service_events.cost", "failures.failed"],
        ["temperature_c", "site", "installed_on", "service_events.cost", "failures.failed"],
    ]
    readings_d, readings_p = _frames(drifted, "readings"), _frames(plain, "readings")
    assert readings_d[0].equals(readings_p[0])
    for day, (d, p) in enumerate(zip(readings_d, readings_p, strict=True), start=1):
        untouched = [c for c in d.columns if c not in ("temp_c", "site", "installed_on")]
        assert d.select(untouched).equals(p.select(untouched))
        shift = (d["temp_c"].cast(pl.Float64) - p["temp_c"].cast(pl.Float64)).round(6)
        assert (shift == (15.0 if day >= 3 else 0.0)).all()
        moved = (d["installed_on"].str.to_date() - p["installed_on"].str.to_date()).unique()
        assert moved.to_list() == [dt.timedelta(days=-100 if day >= 2 else 0)]
        if day >= 2:
            others = p["site"] != "east"
            share = float((d.filter(others)["site"] == "east").mean())  # type: ignore[arg-type]
            assert abs(share - 0.5) < 0.04
            assert (d.filter(~others)["site"] == "east").all()
    service_d, service_p = _frames(drifted, "service_events"), _frames(plain, "service_events")
    for day, (d, p) in enumerate(zip(service_d, service_p, strict=True), start=1):
        ratio = d["cost"].cast(pl.Float64) / p["cost"].cast(pl.Float64)
        assert ((ratio - (2.0 if day >= 3 else 1.0)).abs() < 1e-6).all()
    labels_d = _frames(drifted, "failures", ";")
    labels_p = _frames(plain, "failures", ";")
    assert labels_d[0].equals(labels_p[0])  # the labels of day 2 (before the drift)
    for d in labels_d[1:]:
        assert (d["failed"] == "yes").all()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("temprature_c:2:add=1", "unknown column 'temprature_c'.*did you mean 'temperature_c'"),
        ("reading.site:2:to_value=east,fraction=0.5", "unknown dataset 'reading'.*'readings'"),
        ("readings.cots:2:add=1", "unknown column 'cots'"),
        ("read_on:2:shift=0.5", None),  # declared by the labels too: the observations win
        ("site:2:multiply=2", "numeric drift needs an int64, float64, date or datetime column"),
        ("temperature_c:2:to_value=hot,fraction=0.5", "not a valid float64"),
        ("running:2:to_value=maybe,fraction=0.5", "not a valid bool"),
        ("running:2:to_value=FALSE,fraction=0.5", None),
        ("installed_on:2:multiply=2", "can be shifted .* not multiplied"),
        ("read_on:2:to_value=yesterday,fraction=0.5", "not a valid datetime"),
    ],
)
def test_drift_targets_are_checked_against_the_use_case(
    fleet: UseCaseConfig, tmp_path: Path, spec: str, message: str | None
) -> None:
    config = _config(fleet, [spec], days=2, rows_per_day=50)
    if message is None:
        summary = simulate(config, tmp_path, fleet)
        assert summary.days[1].drifted_columns == [spec.split(":")[0]]
        return
    with pytest.raises(ConfigError, match=message) as info:
        simulate(config, tmp_path, fleet)
    assert info.value.fix
    assert not list(tmp_path.iterdir())  # nothing written before the plan holds


def test_a_column_of_two_observation_datasets_needs_its_dataset(
    fleet: UseCaseConfig, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match="declared by datasets") as info:
        simulate(_config(fleet, ["serviced_at:2:shift=1", "machine_id:2:add=1"]), tmp_path, fleet)
    assert "readings.machine_id" in str(info.value.fix)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"entity_column": "machine"}, "unknown column 'machine'.*'machine_id'"),
        ({"timestamp_column": "site"}, "is string, not a date or datetime"),
        ({"dataset_bad_row_rates": {"failure": 0.1}}, "unknown dataset 'failure'.*'failures'"),
        ({"use_case": "churn"}, "is for use case 'churn'"),
        ({"source": "missing.csv"}, "does not exist"),
    ],
)
def test_bad_options_fail_with_a_fix(
    fleet: UseCaseConfig, tmp_path: Path, changes: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        simulate(_config(fleet, [], **changes), tmp_path, fleet)
    assert info.value.fix


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_same_seed_same_bytes_and_streams_stay_independent(
    fleet: UseCaseConfig, tmp_path: Path
) -> None:
    faulty = {"bad_row_rate": 0.05, "duplicate_rate": 0.02}
    simulate(_config(fleet, DRIFTS, **faulty), tmp_path / "a", fleet)
    simulate(_config(fleet, DRIFTS, **faulty), tmp_path / "b", fleet)
    first = _tree(tmp_path / "a")
    assert len(first) == 11 and first == _tree(tmp_path / "b")

    simulate(_config(fleet, DRIFTS, seed=7, **faulty), tmp_path / "c", fleet)
    other = _tree(tmp_path / "c")
    assert other.keys() == first.keys() and all(other[k] != first[k] for k in first)

    # a drift on the service events changes their files only, from its day on
    simulate(_config(fleet, [*DRIFTS, "cost:4:add=1"], **faulty), tmp_path / "d", fleet)
    changed = {k for k, v in _tree(tmp_path / "d").items() if first[k] != v}
    assert changed == {"landing/fleet/service/2026-03-04/service_events_2026-03-04.parquet"}

    # without the service events, the readings and failures files are the same bytes
    fewer = fleet.model_copy(
        update={"datasets": [d for d in fleet.datasets if d.name != "service_events"]}
    )
    kept = [spec for spec in DRIFTS if not spec.startswith("service_events.")]
    simulate(_config(fleet, kept, **faulty), tmp_path / "e", fleet)
    simulate(_config(fewer, kept, **faulty), tmp_path / "f", fewer)
    without = _tree(tmp_path / "f")
    assert without == {k: v for k, v in _tree(tmp_path / "e").items() if "/service/" not in k}
    assert len(without) == 7
