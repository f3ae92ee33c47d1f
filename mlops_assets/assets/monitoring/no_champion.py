"""Monitoring before there is a model to monitor: a day recorded without a verdict, explained.

Until a model passes the promotion gates there is no ``@champion``: nothing to compare the day's
data or labels against. The drift and performance assets then succeed with the status
``no_champion``, say why and what to do in their metadata and check results (which pass without a
verdict), and the retraining sensor treats such a day as no evidence.
"""

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import dagster as dg

from mlops_assets.assets.monitoring.performance_reporting import PERFORMANCE_CHECK
from mlops_assets.assets.monitoring.reporting import DATA_DRIFT_CHECK, PREDICTION_DRIFT_CHECK

if TYPE_CHECKING:  # polars-backed rows: imported when a day is recorded, not at load time
    from mlops_assets.monitoring.windows import DriftWindow, PerformanceWindow

NO_CHAMPION = "no_champion"
VERDICT = "no verdict (no @champion yet)"


def no_champion_reason(model_name: str, window: str, what: str) -> str:
    """Why a day has no verdict and what to do about it."""
    return (
        f"No verdict on {window}: {model_name} has no @champion yet, so there is no model "
        f"whose {what} this day could be judged against. Run the training job until a model "
        "passes the promotion gates, then materialize this partition again."
    )


def _skipped(check_name: str, reason: str) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=check_name,
        passed=True,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{reason} The check passes without a verdict.",
        metadata={"verdict": VERDICT},
    )


def _metadata(row: "DriftWindow | PerformanceWindow", reason: str) -> dict[str, Any]:
    return {"status": row.status, "verdict": dg.MetadataValue.md(reason)}


def drift_without_champion(model_name: str, window: str, n_current: int) -> Iterator[Any]:
    """The drift asset's check results and output on a day without a champion."""
    from mlops_assets.monitoring.windows import DriftWindow

    reason = no_champion_reason(model_name, window, "training reference")
    row = DriftWindow.without_champion(window, n_current)
    yield _skipped(DATA_DRIFT_CHECK, reason)
    yield _skipped(PREDICTION_DRIFT_CHECK, reason)
    yield dg.Output(row.to_frame(), metadata={**_metadata(row, reason), "n_current": n_current})


def performance_without_champion(
    model_name: str, window: str, labels_received: int
) -> Iterator[Any]:
    """The performance asset's check result and output on a day without a champion."""
    from mlops_assets.monitoring.windows import PerformanceWindow

    reason = no_champion_reason(model_name, window, "held-out metrics")
    row = PerformanceWindow.without_champion(window, labels_received)
    yield _skipped(PERFORMANCE_CHECK, reason)
    yield dg.Output(
        row.to_frame(), metadata={**_metadata(row, reason), "labels_received": labels_received}
    )
