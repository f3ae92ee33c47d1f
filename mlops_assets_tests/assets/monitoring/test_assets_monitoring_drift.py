"""Daily drift against the champion's stored reference profile, with Evidently report and checks."""

import json
from pathlib import Path

import dagster as dg
import mlflow
import polars as pl
import pytest

from mlops_assets.automation.retraining_sensor import load_verdicts
from mlops_assets.cli.demo_drift import DEFAULT_DRIFT
from mlops_assets.monitoring.windows import DriftWindow
from mlops_assets.simulate.cli import parse_drift
from mlops_assets.storage.delta import write_table
from mlops_assets.storage.lakehouse import LocalLakehouse, TableRef
from mlops_assets.storage.tables import UseCaseTables
from mlops_assets_tests.assets.ml.lifecycle_helpers import (
    DRIFT_FROM,
    DRIFT_KEY,
    FEATURES_KEY,
    MODEL,
    check_results,
    copy_data_dir,
    defs_for,
    metadata,
    project_for,
    read_lake,
    run_job,
    step_error,
)
from mlops_assets_tests.assets.ml.registry_helpers import (
    client,
    tracking_uri,
)
from mlops_assets_tests.assets.monitoring.conftest import MONITORED_DAYS, Monitored

CLEAN = [i for i in MONITORED_DAYS if i + 1 < DRIFT_FROM]
DRIFTED = [i for i in MONITORED_DAYS if i + 1 >= DRIFT_FROM]
INJECTED = {parse_drift(spec.format(day=DRIFT_FROM)).column for spec in DEFAULT_DRIFT}


def _share_threshold(data_dir: Path) -> float:
    return project_for(data_dir).use_case("churn").monitoring.drift.drift_share


def _raw_metadata(result: dg.ExecuteInProcessResult) -> dict[str, dg.MetadataValue]:
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key == DRIFT_KEY]
    return dict(event.materialization.metadata)


def test_clean_days_show_no_dataset_drift(monitored: Monitored) -> None:
    threshold = _share_threshold(monitored.data_dir)
    for index in CLEAN:
        day = monitored.days[index]
        meta = metadata(monitored.results[day], DRIFT_KEY)
        assert meta["status"] == "ok", day
        assert meta["dataset_drift"] is False
        assert meta["drift_share"] < threshold
        check = check_results(monitored.results[day], DRIFT_KEY)["data_drift"]
        assert check.passed
        assert (check.description or "").startswith("No dataset drift: ")


def test_drifted_days_are_detected_on_the_injected_columns(monitored: Monitored) -> None:
    threshold = _share_threshold(monitored.data_dir)
    for index in DRIFTED:
        day = monitored.days[index]
        result = monitored.results[day]
        meta = metadata(result, DRIFT_KEY)
        assert meta["status"] == "drift", day
        assert meta["dataset_drift"] is True
        assert meta["drift_share"] >= threshold
        row = read_lake(monitored.data_dir, DRIFT_KEY, day).row(0, named=True)
        drifted = set(row["drifted_columns"].split(", "))
        assert drifted >= INJECTED
        per_column = {c["column"]: c for c in json.loads(row["columns_json"])}
        assert all(per_column[c]["drifted"] for c in INJECTED)
        check = check_results(result, DRIFT_KEY)["data_drift"]
        assert not check.passed
        assert check.metadata["drift_share"].value == pytest.approx(meta["drift_share"])
        assert (check.description or "").startswith("Dataset drift: ")
        assert set(str(check.metadata["drifted_columns"].value).split(", ")) == drifted
        histograms = str(meta["drifted_column_histograms"])
        image = "](http://127.0.0.1:5000/get-artifact?path="
        assert all(f"![{c}{image}" in histograms for c in drifted)


def test_checks_carry_severities_and_drift_share_is_a_float(monitored: Monitored) -> None:
    threshold = _share_threshold(monitored.data_dir)
    for day, result in monitored.results.items():
        meta = _raw_metadata(result)
        assert isinstance(meta["drift_share"], dg.FloatMetadataValue), day
        # one row per day by design: no row count (always 1) or version among the plots
        assert "dagster/row_count" not in meta
        assert isinstance(meta["table_version"], dg.TextMetadataValue)
        share = meta["drift_share"].value
        assert isinstance(share, float)
        checks = check_results(result, DRIFT_KEY)
        assert set(checks) == {"data_drift", "prediction_drift"}
        expected = (
            dg.AssetCheckSeverity.ERROR
            if share >= min(1.0, 2 * threshold)
            else dg.AssetCheckSeverity.WARN
        )
        assert checks["data_drift"].severity == expected
        prediction = checks["prediction_drift"]
        assert prediction.severity == dg.AssetCheckSeverity.WARN
        row = read_lake(monitored.data_dir, DRIFT_KEY, day).row(0, named=True)
        assert prediction.passed is not row["prediction_drift"]
        assert prediction.metadata["statistic"].value == pytest.approx(
            row["prediction_statistic"], rel=1e-3
        )  # 4 significant digits
        assert prediction.description


def test_evidently_report_is_written_and_linked(monitored: Monitored) -> None:
    uri = tracking_uri(monitored.data_dir)
    mlflow_client = client(monitored.data_dir)
    (monitoring,) = [
        e for e in mlflow_client.search_experiments() if e.name == "mlops_assets/churn-monitoring"
    ]
    for day, result in monitored.results.items():
        report = monitored.data_dir / "reports" / "churn" / "drift" / f"{day}.html"
        meta = _raw_metadata(result)
        assert isinstance(meta["evidently_report_file"], dg.PathMetadataValue)
        assert meta["evidently_report_file"].value == str(report)
        # the clickable link opens the report in the MLflow UI's artifact view of the run
        run_id = str(meta["mlflow_run_id"].value)
        link = meta["evidently_report"]
        assert isinstance(link, dg.UrlMetadataValue)
        assert link.value == (
            f"http://127.0.0.1:5000/#/experiments/{monitoring.experiment_id}/runs/{run_id}"
            f"/artifactPath/evidently/{day}.html"
        )
        assert isinstance(meta["mlflow_run"], dg.UrlMetadataValue)
        assert isinstance(meta["mlflow_model_version"], dg.UrlMetadataValue)
        assert meta["mlflow_model_version"].value.endswith(f"/#/models/{MODEL}/versions/1")
        run = mlflow_client.get_run(run_id)
        assert run.info.experiment_id == monitoring.experiment_id  # not among training runs
        stored = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=f"evidently/{day}.html", tracking_uri=uri
        )
        assert Path(stored).read_bytes() == report.read_bytes()
        assert report.stat().st_size > 10_000
        assert "<html" in report.read_text(encoding="utf-8", errors="replace")[:5000].lower()
        row = read_lake(monitored.data_dir, DRIFT_KEY, day).row(0, named=True)
        assert row["report_path"] == str(report)


def test_drift_is_measured_against_the_champions_stored_reference(
    monitored: Monitored, tmp_path: Path
) -> None:
    data_dir = monitored.data_dir
    version = client(data_dir).get_model_version(MODEL, "1")
    stored = mlflow.artifacts.download_artifacts(
        artifact_uri=version.tags["mlops.artifact.reference_profile"],
        dst_path=str(tmp_path),
        tracking_uri=tracking_uri(data_dir),
    )
    reference = json.loads(Path(stored).read_text())
    # window counts: profiled on complete history, or (a short training period) not counted
    windows = {"observations_7d"}  # a count grows with history; a mean does not
    assert set(reference["complete_history"]) | set(reference["incomplete_history"]) == windows
    # the training run recorded its datasets (description and digest, no copy)
    run = client(data_dir).get_run(str(version.run_id))
    assert run.inputs is not None
    contexts = {i.tags[0].value for i in run.inputs.dataset_inputs if i.tags}
    assert contexts == {"training", "validation"}
    assert {i.dataset.name for i in run.inputs.dataset_inputs} == {"training_set"}
    cached = data_dir / "models" / MODEL / "v1" / "reference_profile.json"
    assert json.loads(cached.read_text()) == reference
    table = read_lake(data_dir, DRIFT_KEY)
    assert sorted(table["window"].to_list()) == sorted(monitored.results)
    assert table["model_version"].unique().to_list() == ["1"]
    assert table["n_reference"].unique().to_list() == [reference["n_rows"]]
    for day in monitored.results:
        assert metadata(monitored.results[day], DRIFT_KEY)["model_version"] == 1


def test_too_few_rows_is_insufficient_data_without_a_stale_report(
    monitored: Monitored, tmp_path: Path
) -> None:
    data_dir = copy_data_dir(monitored.data_dir, tmp_path)
    day = monitored.days[CLEAN[-1]]
    report = data_dir / "reports" / "churn" / "drift" / f"{day}.html"
    assert report.exists()  # written by the earlier, complete run of this day
    min_rows = project_for(data_dir).use_case("churn").monitoring.drift.min_rows
    few = read_lake(data_dir, FEATURES_KEY, day).head(min_rows // 4)
    write_table(data_dir.joinpath("lakehouse", *FEATURES_KEY.path), few, partitions=[day])
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_job(
            defs_for(data_dir),
            "churn_monitoring",
            instance,
            partition=day,
            asset_selection=[DRIFT_KEY],
        )
    assert result.success, step_error(result)
    meta = metadata(result, DRIFT_KEY)
    assert meta["status"] == "insufficient_data"
    assert meta["dataset_drift"] is False
    assert meta["n_current"] == few.height
    assert "evidently_report" not in meta
    assert not report.exists()
    assert read_lake(data_dir, DRIFT_KEY, day)["report_path"].to_list() == [None]
    check = check_results(result, DRIFT_KEY)["data_drift"]
    assert check.passed
    assert (check.description or "").startswith("No drift verdict: ")
    assert "passes without a verdict" in (check.description or "")


def test_check_descriptions_say_what_is_checked(tmp_path: Path) -> None:
    drift = project_for(tmp_path).use_case("churn").monitoring.drift
    specs = {s.name: s for s in defs_for(tmp_path).resolve_assets_def(DRIFT_KEY).check_specs}
    data = specs["data_drift"].description or ""
    assert data.startswith(
        f"Fails when at least {drift.drift_share:.0%} of the model's input columns drift"
    )
    assert f"fewer than {drift.min_rows} rows" in data
    assert "no @champion to judge against" in data
    prediction = specs["prediction_drift"].description or ""
    assert prediction.startswith("Warns when the champion's predictions drift")


def test_stored_rows_read_back_as_typed_windows_and_verdicts(monitored: Monitored) -> None:
    uc = project_for(monitored.data_dir).use_case("churn")
    house = LocalLakehouse(monitored.data_dir)
    windows = DriftWindow.read(house.read_table(UseCaseTables(uc).drift))
    assert [w.window for w in windows] == sorted(monitored.results)
    for window in windows:
        meta = metadata(monitored.results[window.window], DRIFT_KEY)
        assert window.status == meta["status"]
        assert meta["drift_share"] == pytest.approx(window.drift_share, rel=1e-3)  # 4 digits
        assert window.model_version == "1" and window.columns
        assert sorted(window.drifted_columns) == sorted(
            c.column for c in window.columns if c.drifted
        )
    verdicts = load_verdicts(house, uc)
    assert [v.window for v in verdicts] == [w.window for w in windows]
    assert [v.drift_detected for v in verdicts] == [w.status == "drift" for w in windows]
    first = monitored.days[MONITORED_DAYS[0]]
    assert verdicts[0].window == first
    assert verdicts[0].performance_degraded is None  # no labels yet: never a violation


def test_the_statistics_read_the_days_feature_files(monitored: Monitored) -> None:
    """The drift asset asks the lakehouse for the files of the day's feature partition and, when
    it names them, computes the statistics from those (categorical columns such as the injected
    `contract` counted from their dictionaries): the same rows as the IO manager's frame."""
    house = LocalLakehouse(monitored.data_dir)
    location = house.table_location(TableRef.from_path(FEATURES_KEY.path))
    for day in monitored.days:
        files = house.parquet_files(location, [day])
        assert files is not None, day
        scanned = house.scan(location, [day]).to_native().collect()
        assert files.scan().select(pl.len()).collect().item() == scanned.height > 0
