"""Monitoring tables written directly (through the same typed windows and lakehouse the drift and
performance assets use) and one evaluation of the retraining sensor, as the daemon does it."""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from mlops_assets.engines.frames import lazy
from mlops_assets.monitoring.windows import DriftWindow, MonitoringWindow, PerformanceWindow
from mlops_assets.storage.lakehouse import LocalLakehouse, TableRef
from mlops_assets.storage.tables import UseCaseTables
from mlops_assets_tests.assets.ml.lifecycle_helpers import USE_CASE, day_keys, project_for

RETRAINING_SENSOR = "churn_retraining_sensor"


def _write(house: LocalLakehouse, ref: TableRef, windows: Sequence[MonitoringWindow]) -> None:
    for window in windows:  # one partition per window, as the assets write them
        house.write(house.table_location(ref), lazy(window.to_frame()), partitions=[window.window])


def write_windows(
    data_dir: Path,
    drift: Sequence[str],
    *,
    rows: int = 400,
    performance: Sequence[str] | None = None,
) -> list[str]:
    """Monitoring tables as the assets write them: one row per daily window (partition)."""
    windows = day_keys(len(drift))
    house = LocalLakehouse(data_dir)
    names = UseCaseTables(project_for(data_dir).use_case(USE_CASE))
    drifted = ["monthly_charges", "contract"]
    _write(
        house,
        names.drift,
        [
            DriftWindow.model_validate(
                {
                    "window": day,
                    "model_version": "1",
                    "status": status,
                    "drift_share": 0.4 if status == "drift" else 0.0,
                    "dataset_drift": status == "drift",
                    "drifted_columns": drifted if status == "drift" else [],
                    "n_current": rows,
                }
            )
            for day, status in zip(windows, drift, strict=True)
        ],
    )
    if performance is not None:
        _write(
            house,
            names.performance,
            [
                PerformanceWindow.model_validate(
                    {
                        "window": day,
                        "model_version": "1",
                        "status": status,
                        "degraded": status == "degraded",
                        "n_labelled": rows,
                    }
                )
                for day, status in zip(windows, performance, strict=True)
            ],
        )
    return windows


@dataclass(frozen=True)
class Tick:
    """What one evaluation of the sensor returned."""

    run_requests: list[dg.RunRequest]
    skip_message: str | None
    cursor: str | None


def tick(defs: dg.Definitions, instance: dg.DagsterInstance, cursor: str | None = None) -> Tick:
    """One evaluation of the sensor with the code location's resources, as the daemon does it."""
    with dg.build_sensor_context(
        instance=instance, cursor=cursor, definitions=defs, resources=defs.resources
    ) as context:
        result = defs.resolve_sensor_def(RETRAINING_SENSOR).evaluate_tick(context)
    return Tick(list(result.run_requests or []), result.skip_message, result.cursor)
