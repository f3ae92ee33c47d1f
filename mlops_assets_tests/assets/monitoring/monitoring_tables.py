"""Monitoring tables written directly (as the drift and performance assets write them) and
one evaluation of the retraining sensor, as the daemon does it."""

from collections.abc import Sequence
from pathlib import Path

import dagster as dg
import polars as pl
from dagster._core.definitions.sensor_definition import SensorExecutionData

from mlops_assets.storage.delta import write_table
from mlops_assets_tests.assets.ml.lifecycle_helpers import day_keys

RETRAINING_SENSOR = "churn_retraining_sensor"


def write_windows(
    data_dir: Path,
    drift: Sequence[str],
    *,
    rows: int = 400,
    performance: Sequence[str] | None = None,
) -> list[str]:
    """Monitoring tables as the assets write them: one row per daily window (partition)."""
    windows = day_keys(len(drift))
    root = data_dir / "lakehouse" / "churn" / "monitoring"
    drift_rows = pl.DataFrame(
        {
            "window": windows,
            "status": list(drift),
            "drift_share": [0.4 if s == "drift" else 0.0 for s in drift],
            "dataset_drift": [s == "drift" for s in drift],
            "drifted_columns": ["monthly_charges, contract" if s == "drift" else "" for s in drift],
            "n_current": [rows] * len(drift),
            "_partition_date": windows,
        }
    )
    write_table(root / "drift", drift_rows, partitions=windows)
    if performance is not None:
        perf_rows = pl.DataFrame(
            {
                "window": windows,
                "status": list(performance),
                "degraded": [s == "degraded" for s in performance],
                "n_labelled": [rows] * len(drift),
                "_partition_date": windows,
            }
        )
        write_table(root / "performance", perf_rows, partitions=windows)
    return windows


def tick(
    defs: dg.Definitions, instance: dg.DagsterInstance, cursor: str | None = None
) -> SensorExecutionData:
    """One evaluation of the sensor, as the daemon does it."""
    context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs)
    return defs.resolve_sensor_def(RETRAINING_SENSOR).evaluate_tick(context)
