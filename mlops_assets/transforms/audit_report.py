"""The verdicts of a silver partition's audit, without an engine: the typed report and the
``rows_accounted`` check judged on the published tables.

Kept apart from :mod:`mlops_assets.transforms.audit` (which computes the verdicts over narwhals
frames) so that the Dagster layer can declare the asset checks when the code location loads
without importing a data engine.
"""

from typing import Literal

from pydantic import BaseModel, Field

from mlops_assets.storage.publish import PublishedPartition

ACCOUNTING_CHECK = "rows_accounted"
MetadataValue = str | int | float | bool


class CheckOutcome(BaseModel):
    """One asset check's verdict on the staged partition."""

    name: str = Field(description="Check name (the rule's check name).")
    passed: bool = Field(description="Whether the rule held.")
    severity: Literal["warn", "error"] = Field(description="Severity when it fails.")
    blocking: bool = Field(description="A failure stops publication.")
    metadata: dict[str, MetadataValue] = Field(description="Counts and observations.")


class AuditReport(BaseModel):
    """Everything the audit found about one staged partition."""

    outcomes: list[CheckOutcome] = Field(description="One per rule, plus schema conformance.")
    bronze_rows: int = Field(description="Rows in the bronze partition.")
    silver_rows: int = Field(description="Rows staged for silver.")
    quarantined_rows: int = Field(description="Rows sent to quarantine.")
    missing_columns: list[str] = Field(description="Declared columns absent from the batch.")
    quarantined_by_rule: dict[str, int] = Field(description="Quarantined rows by first rule.")
    example_reasons: list[tuple[str, str]] = Field(description="One example reason per rule.")

    @property
    def failed(self) -> list[CheckOutcome]:
        return [o for o in self.outcomes if not o.passed]

    @property
    def failed_blocking(self) -> list[CheckOutcome]:
        return [o for o in self.failed if o.blocking]

    @property
    def staged_accounted(self) -> bool:
        """Staged silver rows + quarantined rows == bronze rows (checked before publishing)."""
        return self.silver_rows + self.quarantined_rows == self.bronze_rows

    @property
    def publishable(self) -> bool:
        return not self.failed_blocking and self.staged_accounted

    def blocking_summary(self) -> str:
        """``name (detail)`` of each failed blocking check."""
        parts = []
        for o in self.failed_blocking:
            if "failing_rows" in o.metadata:
                detail = f"{o.metadata['failing_rows']}/{o.metadata['rows_checked']} rows"
            else:
                detail = str(o.metadata.get("observed", "failed"))
            parts.append(f"{o.name} ({detail})")
        if not self.staged_accounted:
            parts.append(
                f"{ACCOUNTING_CHECK} (staged: silver {self.silver_rows} + quarantine "
                f"{self.quarantined_rows} != bronze {self.bronze_rows})"
            )
        return "; ".join(parts)


def published_accounting(
    state: PublishedPartition, expected_run: str | None = None
) -> CheckOutcome:
    """``rows_accounted`` judged on the published tables: every bronze row of the partition is in
    silver or quarantine exactly once, both tables were last written by the same run (and by
    ``expected_run`` when given: the run that just published)."""
    problems = state.problems(expected_run)
    return _accounting(
        not problems,
        "published tables",
        (state.bronze_rows, state.silver_rows, state.quarantined_rows),
        silver_run=state.silver_run or "unknown",
        quarantine_run=state.quarantine_run or "unknown",
        problems="; ".join(problems) or "none",
    )


def staged_accounting(report: AuditReport) -> CheckOutcome:
    """``rows_accounted`` of an audit-only run, judged on the staged counts (nothing published)."""
    return _accounting(
        report.staged_accounted,
        "staged tables (audit only: nothing published)",
        (report.bronze_rows, report.silver_rows, report.quarantined_rows),
    )


def _accounting(
    passed: bool, read_from: str, rows: tuple[int, int, int], **extra: MetadataValue
) -> CheckOutcome:
    """The blocking ``rows_accounted`` outcome, with the (bronze, silver, quarantined) rows."""
    bronze, silver, quarantined = rows
    return CheckOutcome(
        name=ACCOUNTING_CHECK,
        passed=passed,
        severity="error",
        blocking=True,
        metadata={
            "read_from": read_from,
            "bronze_rows": bronze,
            "silver_rows": silver,
            "quarantined_rows": quarantined,
            **extra,
        },
    )


def severity(level: str) -> Literal["warn", "error"]:
    """A rule's severity as an asset check states it."""
    return "warn" if level == "warn" else "error"
