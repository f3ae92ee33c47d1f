"""The typed monitoring rows: written to and read back from real Delta tables, and the policy's
view of them."""

from pathlib import Path

import polars as pl
import pytest

from mlops_assets.engines.frames import lazy
from mlops_assets.monitoring.performance import PerformanceResult
from mlops_assets.monitoring.schema import ColumnDrift, DriftResult
from mlops_assets.monitoring.windows import DriftWindow, PerformanceWindow, verdicts
from mlops_assets.storage.lakehouse import LocalLakehouse, TableRef

DRIFT = TableRef(use_case="uc", layer="monitoring", name="drift")
PERFORMANCE = TableRef(use_case="uc", layer="monitoring", name="performance")
COLUMNS = [
    ColumnDrift(
        column="tenure",
        column_type="numeric",
        method="wasserstein",
        statistic=0.31,
        threshold=0.1,
        drifted=True,
    ),
    ColumnDrift(
        column="contract",
        column_type="categorical",
        method="jensenshannon",
        statistic=None,
        threshold=0.1,
        drifted=False,
        note="no valid value",
    ),
]


def _drift(window: str, status: str = "drift", share: float = 0.5) -> DriftWindow:
    result = DriftResult(
        status=status,
        drift_share=share,
        dataset_drift=status == "drift",
        n_reference=5_000,
        n_current=400,
        columns=COLUMNS,
        share_threshold=0.5,
    )
    prediction = result.model_copy(update={"columns": COLUMNS[:1], "dataset_drift": True})
    return DriftWindow.from_results(window, "3", result, prediction, Path("/r") / f"{window}.html")


def _write(house: LocalLakehouse, ref: TableRef, frame: pl.DataFrame, window: str) -> None:
    house.write(house.table_location(ref), lazy(frame), partitions=[window])


def test_drift_windows_round_trip_through_a_delta_table(tmp_path: Path) -> None:
    house = LocalLakehouse(tmp_path)
    written = [_drift("2026-03-02"), _drift("2026-03-01", "ok", 0.0)]
    for window in written:
        _write(house, DRIFT, window.to_frame(), window.window)
    table = house.read_table(DRIFT)
    assert set(table.collect_schema().names()) == set(DriftWindow.stored_columns())
    read = DriftWindow.read(table)
    assert [w.window for w in read] == ["2026-03-01", "2026-03-02"]  # oldest first
    assert read == sorted(written, key=lambda w: w.window)
    latest = read[-1]
    assert latest.drifted_columns == ["tenure"]
    assert latest.columns[1].statistic is None and latest.columns[1].note == "no valid value"
    assert (latest.prediction_drift, latest.prediction_statistic) == (True, 0.31)
    assert latest.report_path == "/r/2026-03-02.html"


def test_a_window_without_prediction_profile_or_report_stores_typed_nulls(tmp_path: Path) -> None:
    result = DriftResult(
        status="insufficient_data",
        drift_share=0.0,
        dataset_drift=False,
        n_reference=5_000,
        n_current=12,
        columns=[],
        share_threshold=0.5,
    )
    window = DriftWindow.from_results("2026-03-03", "3", result, None, None)
    frame = window.to_frame()
    assert frame.schema["prediction_statistic"] == pl.Float64
    assert frame.schema["report_path"] == pl.String
    house = LocalLakehouse(tmp_path)
    _write(house, DRIFT, _drift("2026-03-02").to_frame(), "2026-03-02")
    _write(house, DRIFT, frame, "2026-03-03")  # nulls fit the existing column types
    (_, read) = DriftWindow.read(house.read_table(DRIFT))
    assert read == window
    assert read.drifted_columns == [] and read.prediction_statistic is None


def test_performance_windows_round_trip_through_a_delta_table(tmp_path: Path) -> None:
    result = PerformanceResult(
        status="degraded",
        n_labelled=250,
        metrics={"roc_auc": 0.61, "f1": 0.4},
        baseline={"roc_auc": 0.8},
        degradation={"roc_auc": 0.19},
        reasons=["roc_auc fell from 0.8000 to 0.6100.", "f1 was not compared: no baseline."],
    )
    window = PerformanceWindow.from_result("2026-03-04", "3", result, labels_received=260)
    house = LocalLakehouse(tmp_path)
    _write(house, PERFORMANCE, window.to_frame(), "2026-03-04")
    table = house.read_table(PERFORMANCE)
    assert set(table.collect_schema().names()) == set(PerformanceWindow.stored_columns())
    (read,) = PerformanceWindow.read(table)
    assert read == window
    assert read.reasons == result.reasons and read.metrics == result.metrics


@pytest.mark.parametrize(
    ("status", "expected"),
    [("degraded", True), ("ok", False), ("insufficient_data", None), (None, None)],
)
def test_verdicts_join_performance_and_never_count_missing_labels(
    status: str | None, expected: bool | None
) -> None:
    drift = [_drift("2026-03-02", "ok", 0.1), _drift("2026-03-01")]
    performance = []
    if status is not None:
        performance.append(
            PerformanceWindow(
                window="2026-03-02",
                model_version="3",
                status=status,
                degraded=status == "degraded",
                n_labelled=300,
            )
        )
    first, second = verdicts(drift, performance)
    assert (first.window, first.drift_detected, first.performance_degraded) == (
        "2026-03-01",
        True,
        None,
    )
    assert (second.window, second.drift_detected) == ("2026-03-02", False)
    assert second.performance_degraded is expected
    assert (second.drift_share, second.n_rows) == (0.1, 400)


def test_days_without_a_champion_round_trip_and_are_no_evidence(tmp_path: Path) -> None:
    house = LocalLakehouse(tmp_path)
    drift = DriftWindow.without_champion("2026-03-03", n_current=400)
    performance = PerformanceWindow.without_champion("2026-03-03", labels_received=120)
    _write(house, DRIFT, _drift("2026-03-02").to_frame(), "2026-03-02")
    _write(house, DRIFT, drift.to_frame(), "2026-03-03")  # the same columns and types
    _write(house, PERFORMANCE, performance.to_frame(), "2026-03-03")
    stored = DriftWindow.read(house.read_table(DRIFT))
    assert stored[-1] == drift and (drift.status, drift.model_version) == ("no_champion", "")
    assert not drift.dataset_drift and drift.drifted_columns == []
    (read,) = PerformanceWindow.read(house.read_table(PERFORMANCE))
    assert read == performance and (read.status, read.degraded) == ("no_champion", False)
    # the policy sees only the day judged against a champion, with no performance verdict
    (only,) = verdicts(stored, [read])
    assert (only.window, only.drift_detected) == ("2026-03-02", True)
    assert verdicts([drift], [read]) == []
