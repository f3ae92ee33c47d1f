"""The rows of the monitoring tables: one typed window per day of drift and of performance.

The drift and performance assets write through :meth:`DriftWindow.to_frame` /
:meth:`PerformanceWindow.to_frame`, and every reader (the retraining sensor, the CLI) reads back
through :meth:`DriftWindow.read` / :meth:`PerformanceWindow.read`: the stored column names live
in this module and nowhere else. Lists and per-column details are stored as text (a separated
list, JSON) so the tables stay flat on every engine.
"""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from mlops_assets.engines.frames import lazy, to_polars
from mlops_assets.monitoring.performance import PerformanceResult
from mlops_assets.monitoring.policy import WindowVerdict
from mlops_assets.monitoring.schema import ColumnDrift, DriftResult

_COLUMNS_SEPARATOR = ", "
_REASONS_SEPARATOR = "; "


def _now() -> datetime:
    return datetime.now(UTC)


def _split(text: str | None, separator: str) -> list[str]:
    return [part for part in (text or "").split(separator) if part]


class MonitoringWindow(BaseModel):
    """What every monitoring row has: its window, the model version monitored, when."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    nullable_types: ClassVar[dict[str, type[pl.DataType]]] = {}
    """Stored types of the columns that may be null (a null alone has no type)."""

    window: str = Field(description="The daily partition key, e.g. `2026-03-01`.")
    model_version: str = Field(description="The champion version that was monitored.")
    computed_at: datetime = Field(default_factory=_now, description="When it was computed (UTC).")

    def to_row(self) -> dict[str, Any]:
        """The stored columns of this window."""
        raise NotImplementedError

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Self:
        """A window from its stored columns."""
        raise NotImplementedError

    @classmethod
    def stored_columns(cls) -> list[str]:
        """The columns a table of these windows has."""
        raise NotImplementedError

    def to_frame(self) -> pl.DataFrame:
        """The one-row frame written to the monitoring table."""
        return pl.DataFrame([self.to_row()], schema_overrides=self.nullable_types)

    @classmethod
    def read(cls, frame: object) -> list[Self]:
        """Every window of a monitoring table (any engine's frame), oldest first."""
        table = lazy(frame)
        present = set(table.collect_schema().names())
        rows = to_polars(table.select(*[c for c in cls.stored_columns() if c in present]))
        return sorted((cls.from_row(r) for r in rows.to_dicts()), key=lambda w: w.window)


class DriftWindow(MonitoringWindow):
    """A row of ``[uc, monitoring, drift]``: one day's drift verdict against the champion."""

    nullable_types: ClassVar[dict[str, type[pl.DataType]]] = {
        "prediction_statistic": pl.Float64,
        "report_path": pl.String,
    }

    status: Literal["ok", "drift", "insufficient_data", "no_champion"] = Field(
        description="Dataset verdict; `no_champion`: no verdict, there was no model to judge "
        "against (no `@champion` yet)."
    )
    drift_share: float = Field(description="Share of the model's input columns that drifted.")
    dataset_drift: bool = Field(description="The share reached the configured drift share.")
    drifted_columns: list[str] = Field(default_factory=list, description="Drifted inputs.")
    n_current: int = Field(description="Rows of the day.")
    n_reference: int = Field(default=0, description="Rows of the training reference.")
    prediction_drift: bool = Field(default=False, description="The predictions drifted.")
    prediction_statistic: float | None = Field(
        default=None, description="Drift statistic of the predictions (None: not measured)."
    )
    report_path: str | None = Field(default=None, description="The Evidently HTML, if written.")
    columns: list[ColumnDrift] = Field(default_factory=list, description="Per-column verdicts.")

    @classmethod
    def from_results(
        cls,
        window: str,
        model_version: str,
        result: DriftResult,
        prediction: DriftResult | None,
        report: Path | None,
    ) -> "DriftWindow":
        """The row of a day from its input and prediction drift results."""
        statistic = prediction.columns[0].statistic if prediction and prediction.columns else None
        return cls(
            window=window,
            model_version=model_version,
            status=result.status,
            drift_share=result.drift_share,
            dataset_drift=result.dataset_drift,
            drifted_columns=result.drifted_columns,
            n_current=result.n_current,
            n_reference=result.n_reference,
            prediction_drift=bool(prediction and prediction.dataset_drift),
            prediction_statistic=statistic,
            report_path=str(report) if report is not None else None,
            columns=result.columns,
        )

    @classmethod
    def without_champion(cls, window: str, n_current: int) -> "DriftWindow":
        """The row of a day monitored before any ``@champion`` existed: no verdict."""
        return cls(
            window=window,
            model_version="",
            status="no_champion",
            drift_share=0.0,
            dataset_drift=False,
            n_current=n_current,
        )

    def to_row(self) -> dict[str, Any]:
        row = self.model_dump(exclude={"drifted_columns", "columns"})
        row["drifted_columns"] = _COLUMNS_SEPARATOR.join(self.drifted_columns)
        row["columns_json"] = json.dumps([c.model_dump() for c in self.columns])
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Self:
        values = {k: v for k, v in row.items() if v is not None}
        values["drifted_columns"] = _split(values.get("drifted_columns"), _COLUMNS_SEPARATOR)
        values["columns"] = json.loads(values.pop("columns_json", "[]"))
        return cls.model_validate(values)

    @classmethod
    def stored_columns(cls) -> list[str]:
        return [c for c in cls.model_fields if c != "columns"] + ["columns_json"]


class PerformanceWindow(MonitoringWindow):
    """A row of ``[uc, monitoring, performance]``: the model's quality on a day's labels."""

    status: Literal["ok", "degraded", "insufficient_data", "no_champion"] = Field(
        description="The verdict; `no_champion`: no verdict, there was no model to judge "
        "against (no `@champion` yet)."
    )
    degraded: bool = Field(description="A metric worsened beyond its allowance.")
    n_labelled: int = Field(description="Labels of the day joined to their predictions.")
    labels_received: int = Field(default=0, description="Labels that arrived on the day.")
    metrics: dict[str, float] = Field(default_factory=dict, description="Metrics of the day.")
    baseline: dict[str, float] = Field(default_factory=dict, description="The champion's.")
    reasons: list[str] = Field(default_factory=list, description="One sentence per finding.")

    @classmethod
    def from_result(
        cls, window: str, model_version: str, result: PerformanceResult, labels_received: int
    ) -> "PerformanceWindow":
        """The row of a day from its performance result."""
        return cls(
            window=window,
            model_version=model_version,
            status=result.status,
            degraded=result.degraded,
            n_labelled=result.n_labelled,
            labels_received=labels_received,
            metrics=result.metrics,
            baseline=result.baseline,
            reasons=result.reasons,
        )

    @classmethod
    def without_champion(cls, window: str, labels_received: int) -> "PerformanceWindow":
        """The row of a day monitored before any ``@champion`` existed: no verdict."""
        return cls(
            window=window,
            model_version="",
            status="no_champion",
            degraded=False,
            n_labelled=0,
            labels_received=labels_received,
        )

    def to_row(self) -> dict[str, Any]:
        row = self.model_dump(exclude={"metrics", "baseline", "reasons"})
        row["metrics_json"] = json.dumps(self.metrics)
        row["baseline_json"] = json.dumps(self.baseline)
        row["reasons"] = _REASONS_SEPARATOR.join(self.reasons)
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Self:
        values = {k: v for k, v in row.items() if v is not None}
        values["metrics"] = json.loads(values.pop("metrics_json", "{}"))
        values["baseline"] = json.loads(values.pop("baseline_json", "{}"))
        values["reasons"] = _split(values.get("reasons"), _REASONS_SEPARATOR)
        return cls.model_validate(values)

    @classmethod
    def stored_columns(cls) -> list[str]:
        renamed = {"metrics": "metrics_json", "baseline": "baseline_json"}
        return [renamed.get(c, c) for c in cls.model_fields]


def verdicts(drift: list[DriftWindow], performance: list[PerformanceWindow]) -> list[WindowVerdict]:
    """The retraining policy's view of each drift window (oldest first), with its performance.

    A window without a performance row, or with too few labels for a verdict, has no
    performance verdict (``None``): missing labels never count as a violation. A window
    monitored before any champion existed (``no_champion``) is no evidence at all: left out.
    """
    no_verdict = {"insufficient_data", "no_champion"}
    judged = {p.window: p.degraded for p in performance if p.status not in no_verdict}
    return [
        WindowVerdict(
            window=d.window,
            drift_detected=d.status == "drift",
            performance_degraded=judged.get(d.window),
            drift_share=d.drift_share,
            n_rows=d.n_current,
            model_version=d.model_version or None,
        )
        for d in sorted(drift, key=lambda w: w.window)
        if d.status != "no_champion"
    ]
