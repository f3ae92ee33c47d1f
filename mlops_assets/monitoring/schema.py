"""Our stable drift result schema.

Evidently's output format changes between releases; everything outside
:mod:`mlops_assets.monitoring.evidently_report` sees only these models.
"""

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ResolvedMethod = Literal["wasserstein", "ks", "jensenshannon", "chisquare", "psi", "ztest"]
"""A drift method after ``auto`` has been resolved."""
P_VALUE_METHODS: frozenset[str] = frozenset({"ks", "chisquare", "ztest"})
"""Methods whose score is a p-value (lower means drift); the others are distances."""


class ColumnDrift(BaseModel):
    """The drift verdict of one column."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    column: str = Field(description="Column name.")
    column_type: Literal["numeric", "categorical"] = Field(description="How it was compared.")
    method: ResolvedMethod = Field(description="The method used (never `auto`).")
    statistic: float | None = Field(
        description="The value compared with the threshold (Evidently's `drift_score`): a "
        "distance or PSI (higher = drift) or a p-value (lower = drift). None when the column "
        "has no valid value in the current data."
    )
    threshold: float = Field(description="Threshold the statistic was compared with.")
    drifted: bool = Field(description="Whether this column drifted.")
    p_value: float | None = Field(
        default=None, description="The p-value for p-value tests (ks, chisquare, ztest)."
    )
    note: str | None = Field(default=None, description="Why the verdict is special, if it is.")


class DriftResult(BaseModel):
    """The drift verdict of one current window against the reference."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: Literal["ok", "drift", "insufficient_data"] = Field(
        description="`drift` when the drifted share reaches `share_threshold`; "
        "`insufficient_data` (no verdict) when the current data has too few rows."
    )
    drift_share: float = Field(description="Share of compared columns that drifted (0 if none).")
    dataset_drift: bool = Field(description="drift_share >= share_threshold (False: no verdict).")
    n_reference: int = Field(description="Rows of the reference (training) data.")
    n_current: int = Field(description="Rows of the current data.")
    columns: list[ColumnDrift] = Field(description="Per-column verdicts (empty: no verdict).")
    share_threshold: float = Field(description="The configured drift_share.")
    engine: Literal["mlops_assets", "evidently"] = Field(
        default="mlops_assets", description="Who computed the statistics."
    )

    @property
    def drifted_columns(self) -> list[str]:
        """Names of the drifted columns."""
        return [c.column for c in self.columns if c.drifted]

    def column(self, name: str) -> ColumnDrift:
        """The verdict of one column (KeyError if it was not compared)."""
        for col in self.columns:
            if col.column == name:
                return col
        raise KeyError(name)

    def summary(self) -> str:
        """One sentence that says the verdict with its numbers."""
        if self.status == "insufficient_data":
            return (
                f"No drift verdict: {self.n_current} current rows are fewer than the minimum "
                "required."
            )
        n_drift = len(self.drifted_columns)
        verdict = "Dataset drift" if self.dataset_drift else "No dataset drift"
        return (
            f"{verdict}: {n_drift} of {len(self.columns)} columns drifted "
            f"(share {self.drift_share:.2f}, threshold {self.share_threshold:.2f}) on "
            f"{self.n_current:,} current vs {self.n_reference:,} reference rows."
        )

    def to_markdown(self, *, drifted_first: bool = True) -> str:
        """A Markdown table of the per-column verdicts, drifted columns first."""
        if not self.columns:
            return f"_{self.summary()}_"
        rows = list(self.columns)
        if drifted_first:
            rows.sort(key=lambda c: (not c.drifted, c.column))
        lines = [
            self.summary(),
            "",
            "| column | type | method | statistic | threshold | drift |",
            "| --- | --- | --- | ---: | ---: | :---: |",
        ]
        for col in rows:
            lines.append(
                f"| {_escape(col.column)} | {col.column_type} | {col.method} | "
                f"{_fmt(col.statistic)} | {_fmt(col.threshold)} | "
                f"{'**yes**' if col.drifted else _no(col)} |"
            )
        notes = [f"- `{_escape(c.column)}`: {c.note}" for c in rows if c.note]
        return "\n".join(lines + (["", *notes] if notes else []))


def _no(column: ColumnDrift) -> str:
    return f"no ({column.note.split(':')[0]})" if column.note else "no"


def _fmt(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
        return f"{value:.3e}"
    return f"{value:.4f}"


def _escape(text: str) -> str:
    return text.replace("|", "\\|")
