"""Helpers of the asset tests: real local resources, landing files, materializing one day."""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from mlops_assets.assets.factory import build_data_assets
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.resources.alerts import AlertsResource
from mlops_assets.resources.feature_compute import LocalFeatureCompute
from mlops_assets.resources.io_managers.delta import LakehouseIOManager
from mlops_assets.resources.lakehouse import LakehouseResource
from mlops_assets.storage.delta import read_table, table_exists, table_version
from mlops_assets.storage.lakehouse import LocalLakehouse, TableRef

DAY = "2026-01-01"


def local_resources(data_dir: Path) -> dict[str, Any]:
    """The local lakehouse resource, its IO manager, alerts and the in-process feature compute,
    rooted at ``data_dir``."""
    lakehouse = LakehouseResource(data_dir=str(data_dir))
    return {
        "lakehouse": lakehouse,
        "lakehouse_io": LakehouseIOManager(lakehouse=lakehouse),
        "alerts": AlertsResource(),
        "feature_compute": LocalFeatureCompute(),
    }


def materialize_day(
    uc: UseCaseConfig,
    data_dir: Path,
    day: str,
    instance: dg.DagsterInstance,
    selection: Sequence[str] | None = None,
) -> dg.ExecuteInProcessResult:
    """Materialize the data assets of ``uc`` (or those matching ``selection``) for one day."""
    assets = build_data_assets(uc)
    chosen = None
    if selection is not None:
        chosen = dg.AssetSelection.keys(*[dg.AssetKey.from_user_string(s) for s in selection])
    return dg.materialize(
        assets,
        partition_key=day,
        resources=local_resources(data_dir),
        instance=instance,
        selection=chosen,
        raise_on_error=False,
    )


def table_path(data_dir: Path, key: str) -> Path:
    """Where the local lakehouse keeps ``churn/silver/customers``."""
    return Path(LocalLakehouse(data_dir).table_location(TableRef.from_path(key.split("/"))))


def table(data_dir: Path, key: str, day: str | None = None) -> pl.DataFrame:
    """A Delta table (or one partition of it) as a frame."""
    return read_table(table_path(data_dir, key), [day] if day else None)


def version(data_dir: Path, key: str) -> int | None:
    """Current Delta version of a table."""
    return table_version(table_path(data_dir, key))


def exists(data_dir: Path, key: str) -> bool:
    """Whether the table has been written."""
    return table_exists(table_path(data_dir, key))


def landing_file(data_dir: Path, dataset: str, day: str = DAY, use_case: str = "churn") -> Path:
    """``<data_dir>/landing/<use_case>/<dataset>/<day>/<dataset>_<day>.csv``."""
    return data_dir / "landing" / use_case / dataset / day / f"{dataset}_{day}.csv"


def read_landing_text(path: Path) -> pl.DataFrame:
    """A landing CSV with every column as text (as the simulator wrote it)."""
    return pl.read_csv(path, infer_schema=False)


def write_landing(path: Path, frame: pl.DataFrame) -> Path:
    """Replace a landing CSV with ``frame``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(path)
    return path


def checks_by_name(result: dg.ExecuteInProcessResult, key: str) -> dict[str, Any]:
    """The asset-check evaluations of one asset, by check name."""
    asset_key = dg.AssetKey.from_user_string(key)
    return {
        e.check_name: e for e in result.get_asset_check_evaluations() if e.asset_key == asset_key
    }


def materializations(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetMaterialization]:
    """Materializations of a run by asset key string (``churn/silver/customers``)."""
    return {
        e.asset_key.to_user_string(): e.materialization
        for e in result.get_asset_materialization_events()
        if e.asset_key is not None
    }


def step_error(result: dg.ExecuteInProcessResult) -> str:
    """The message of the first failed step, unwrapped from Dagster's wrapper errors."""
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data.error is not None:
            err = event.step_failure_data.error
            while err.cause is not None and "DagsterExecution" in (err.cls_name or ""):
                err = err.cause
            return err.message
    return ""
