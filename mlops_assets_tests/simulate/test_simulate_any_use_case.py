"""A use case unlike churn, synthesized from its YAML alone: files, types, keys, faults, labels."""

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.simulate import SimulationConfig, SimulationSummary, simulate
from mlops_assets_tests.simulate.fleet import MODEL_CODE, SITES, load_fleet
from mlops_assets_tests.simulate.landing_helpers import read_dataset_file, refine_day

DAYS, ROWS, DELAY = 4, 4000, 1


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> UseCaseConfig:
    return load_fleet(tmp_path_factory.mktemp("fleet_configs"))


@pytest.fixture(scope="module")
def landed(
    fleet: UseCaseConfig, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, SimulationSummary]:
    """Four faulty days: 5 % bad rows everywhere (labels included), 2 % copies of observations."""
    data_dir = tmp_path_factory.mktemp("fleet_data")
    config = SimulationConfig(
        use_case="fleet",
        start_date=fleet.start_date,
        days=DAYS,
        rows_per_day=ROWS,
        label_delay_days=DELAY,
        bad_row_rate=0.05,
        duplicate_rate=0.02,
        dataset_bad_row_rates={"failures": 0.05},
    )
    return data_dir, simulate(config, data_dir, fleet)


def _delimiter(uc: UseCaseConfig, dataset: str) -> str:
    return next(d.source.delimiter for d in uc.datasets if d.name == dataset)


def test_every_dataset_lands_with_its_declared_layout(
    fleet: UseCaseConfig, landed: tuple[Path, SimulationSummary]
) -> None:
    data_dir, summary = landed
    assert summary.source == "synthetic"
    expected = set()
    for day in summary.days:
        stamp = day.date.isoformat()
        expected |= {
            f"landing/fleet/readings/{stamp}/readings_{stamp}.csv",
            f"landing/fleet/service/{stamp}/service_events_{stamp}.parquet",
        }
        if day.day_index > DELAY:
            expected.add(f"landing/fleet/failures/{stamp}/failures_{stamp}.csv")
    written = {str(p.relative_to(data_dir)) for p in data_dir.rglob("*") if p.is_file()}
    assert written == expected == {str(p.relative_to(data_dir)) for p in summary.files_written}
    first = summary.days[-1]
    assert list(first.datasets) == ["readings", "service_events", "failures"]
    for ds in fleet.datasets:
        path = first.datasets[ds.name].file
        assert path is not None
        frame = read_dataset_file(path, ds.source.delimiter)
        assert frame.columns == [c.source_name for c in ds.columns]  # temp_c, not temperature_c
        assert frame.height == first.datasets[ds.name].rows_written
    labels_file = first.datasets["failures"].file
    assert labels_file is not None
    assert pl.read_csv(labels_file, infer_schema=False).width == 1  # `;`-delimited


def test_only_the_injected_faults_are_quarantined(
    fleet: UseCaseConfig, landed: tuple[Path, SimulationSummary]
) -> None:
    """The real silver refinement: every value parses as declared, keys are unique, and the
    quarantine holds exactly the reported bad rows and re-sent copies."""
    data_dir, summary = landed
    declared = {d.name: {c.name: c.dtype for c in d.columns} for d in fleet.datasets}
    polars_types = {"int64": pl.Int64, "float64": pl.Float64, "string": pl.String}
    rules_hit: dict[str, set[str]] = {}
    for day in summary.days:
        for name, written in day.datasets.items():
            if written.file is None:
                continue
            silver, quarantine = refine_day(data_dir, fleet, name, day.date)
            assert written.bad_rows > 0 and quarantine.height == written.bad_rows + (
                written.duplicates
            ), (name, day.date)
            assert silver.height == written.observations - written.bad_rows
            keys = next(d.keys for d in fleet.datasets if d.name == name)
            assert not silver.select(keys).is_duplicated().any()
            copies = quarantine.filter(pl.col("_rule") == "duplicate_key").height
            assert copies == written.duplicates
            rules_hit.setdefault(name, set()).update(quarantine["_rule"].to_list())
            for column, dtype in declared[name].items():
                if dtype in polars_types:
                    assert silver.schema[column] == polars_types[dtype], column
    assert {
        "machine_id_not_null",
        "read_on_not_null",
        "schema_conformance",
        "site_accepted_values",
        "temperature_c_in_range",
        "model_code_matches_pattern",
        "rpm_in_range",
        "machine_id_in_range",
    } <= rules_hit["readings"]
    assert "cost_in_range" in rules_hit["service_events"]
    assert {"failed_accepted_values", "severity_accepted_values"} <= rules_hit["failures"]


def test_synthesized_values_follow_the_rules(
    fleet: UseCaseConfig, landed: tuple[Path, SimulationSummary]
) -> None:
    data_dir, summary = landed
    silver, _ = refine_day(data_dir, fleet, "readings", summary.days[0].date)
    assert set(silver["site"].unique()) == set(SITES)
    assert silver["model_code"].str.contains(MODEL_CODE).all()
    assert silver["temperature_c"].is_between(-20, 120).all()
    assert silver["rpm"].is_between(0, 9000).all()
    assert ((silver["rpm"] <= 5000) | (silver["temperature_c"] >= 10)).all()  # the SQL rule
    assert silver["machine_id"].min() >= 1000  # type: ignore[operator]
    assert silver["running"].dtype == pl.Boolean and silver["running"].n_unique() == 2
    assert silver["installed_on"].dtype == pl.Date
    assert (silver["installed_on"] < summary.days[0].date).all()
    assert silver["firmware"].str.contains(r"^firmware_\d{2}$").all()
    read_on = silver["read_on"].dt.date()
    assert (read_on == summary.days[0].date).all()
    # ids are generated from the range rule's minimum, one per synthetic entity, and shared
    ids = range(1000, 1000 + summary.config.entities)
    service, _ = refine_day(data_dir, fleet, "service_events", summary.days[0].date)
    for frame in (silver, service):
        assert frame["machine_id"].is_between(ids.start, ids.stop - 1).all()
        assert frame["machine_id"].n_unique() > 1500


def test_labels_arrive_late_for_earlier_observations(
    fleet: UseCaseConfig, landed: tuple[Path, SimulationSummary]
) -> None:
    data_dir, summary = landed
    outcome: dict[int, str] = {}
    for day in summary.days[DELAY:]:
        labels, _ = refine_day(data_dir, fleet, "failures", day.date)
        seen = summary.days[day.day_index - DELAY - 1]
        observed, _ = refine_day(data_dir, fleet, "readings", seen.date)
        assert (labels["read_on"].dt.date() == seen.date).all()
        assert ((labels["confirmed_at"] - labels["read_on"]) == dt.timedelta(days=DELAY)).all()
        assert set(labels["severity"].unique()) <= {1, 2, 3}
        assert set(labels["failed"].unique()) == {"yes", "no"}
        share = float((labels["failed"] == "yes").mean())  # type: ignore[arg-type]
        assert 0.15 < share < 0.5
        # every label names an observation of that earlier day (bad observations aside)
        matched = labels.join(observed, on=["machine_id", "read_on"], how="semi")
        assert matched.height >= 0.9 * labels.height
        for machine, failed in labels.select("machine_id", "failed").iter_rows():
            assert outcome.setdefault(machine, failed) == failed  # one outcome per machine
    assert summary.days[0].labels_file is None and summary.days[0].label_rows == 0


@pytest.mark.parametrize("task", ["regression", "multiclass"])
def test_regression_and_multiclass_labels(tmp_path: Path, task: str) -> None:
    uc = load_fleet(tmp_path / "configs", task)
    config = SimulationConfig(
        use_case="fleet", start_date=uc.start_date, days=2, rows_per_day=3000, label_delay_days=1
    )
    summary = simulate(config, tmp_path / "data", uc)
    labels_file = summary.days[1].labels_file
    assert labels_file is not None
    failed = read_dataset_file(labels_file, ";")["failed"]
    if task == "regression":
        values = failed.cast(pl.Float64)
        assert values.is_between(0, 48).all() and values.n_unique() > 100
        assert float(values.std() or 0) > 1  # type: ignore[arg-type]
    else:
        shares = failed.value_counts(normalize=True)
        assert set(shares["failed"]) == {"none", "minor", "major"}
        assert shares["proportion"].min() > 0.2  # type: ignore[operator]


def test_csv_and_parquet_hold_the_same_text(fleet: UseCaseConfig, tmp_path: Path) -> None:
    """Every type (dates, booleans, timestamps, floats, broken values) reads back the same."""
    common = {"use_case": "fleet", "start_date": fleet.start_date, "days": 2}
    common |= {"rows_per_day": 2000, "label_delay_days": 1, "bad_row_rate": 0.1}
    csv = simulate(
        SimulationConfig.model_validate({**common, "file_format": "csv"}), tmp_path / "c", fleet
    )
    pq = simulate(
        SimulationConfig.model_validate({**common, "file_format": "parquet"}), tmp_path / "p", fleet
    )
    assert len(csv.files_written) == len(pq.files_written) == 5
    for from_csv, from_pq in zip(csv.files_written, pq.files_written, strict=True):
        assert from_csv.suffix == ".csv" and from_pq.suffix == ".parquet"
        delimiter = ";" if from_csv.parent.parent.name == "failures" else ","
        text = read_dataset_file(from_pq)
        assert all(dtype == pl.String for dtype in text.dtypes)
        assert text.equals(read_dataset_file(from_csv, delimiter))
