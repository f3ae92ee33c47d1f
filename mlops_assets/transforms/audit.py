"""The audit of a staged silver partition: every rule's verdict, in one typed report.

Write-audit-publish: the silver asset stages the refined partition, calls :func:`audit_partition`
on the staged data and publishes only when :attr:`AuditReport.publishable` (every blocking rule
held and the staged rows account for bronze). The ``rows_accounted`` check itself is judged on the
PUBLISHED tables after the publish (:func:`published_accounting`), so a half-finished publish
can never pass it. The Dagster layer only turns the outcomes into asset check results; everything
decided here is plain Python over narwhals frames, so it runs the same on Polars and Spark and is
tested without Dagster.
"""

from datetime import datetime
from typing import Any, Literal

import narwhals as nw
from pydantic import BaseModel, Field

from mlops_assets.config.datasets import DatasetConfig
from mlops_assets.storage.publish import PublishedPartition
from mlops_assets.transforms.quality import (
    REASON,
    RULE,
    RuleCounts,
    table_rule_results,
)
from mlops_assets.transforms.schema import CAST_ERROR_RULE

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


def audit_partition(
    dataset: DatasetConfig,
    *,
    counts: dict[str, RuleCounts],
    staged: nw.DataFrame[Any],
    quarantine: nw.DataFrame[Any],
    bronze_rows: int,
    raw_columns: int,
    missing_columns: list[str],
    as_of: datetime,
) -> AuditReport:
    """Judge a staged silver partition against every rule of ``dataset``.

    ``counts`` are the row-rule failure counts of the refine, ``staged`` the silver rows as
    staged, ``quarantine`` the rejected rows; ``raw_columns`` the source columns the batch came
    with (column-count rules judge the source).
    """
    outcomes: list[CheckOutcome] = []
    for name, rc in counts.items():
        if name == CAST_ERROR_RULE:
            continue
        outcomes.append(
            CheckOutcome(
                name=name,
                passed=rc.passed,
                severity=_severity(rc.rule.severity),
                blocking=rc.rule.blocking,
                metadata={
                    "failing_rows": rc.failing,
                    "failing_fraction": round(rc.fraction, 6),
                    "max_failure_fraction": rc.rule.max_failure_fraction,
                    "rows_checked": rc.total,
                },
            )
        )
    for result in table_rule_results(staged, dataset, as_of=as_of, raw_columns=raw_columns):
        outcomes.append(
            CheckOutcome(
                name=result.rule.check_name,
                passed=result.passed,
                severity=_severity(result.rule.severity),
                blocking=result.rule.blocking,
                metadata={"observed": result.observed},
            )
        )
    cast = counts.get(CAST_ERROR_RULE)
    outcomes.append(
        CheckOutcome(
            name=CAST_ERROR_RULE,
            passed=cast is None or cast.failing == 0,
            severity="warn",
            blocking=False,
            metadata={
                "failing_rows": cast.failing if cast else 0,
                "missing_columns": ", ".join(missing_columns) or "none",
            },
        )
    )
    silver_rows = len(staged)
    quarantined_rows = len(quarantine)
    by_rule = quarantine.group_by(RULE).agg(nw.len().alias("rows")).sort(RULE)
    examples = quarantine.sort(RULE, REASON).unique(
        subset=[RULE], keep="first", maintain_order=True
    )
    return AuditReport(
        outcomes=outcomes,
        bronze_rows=bronze_rows,
        silver_rows=silver_rows,
        quarantined_rows=quarantined_rows,
        missing_columns=missing_columns,
        quarantined_by_rule={
            str(r): int(n) for r, n in zip(by_rule[RULE], by_rule["rows"], strict=True)
        },
        example_reasons=[
            (str(r), str(t)) for r, t in zip(examples[RULE], examples[REASON], strict=True)
        ],
    )


def published_accounting(
    state: PublishedPartition, expected_run: str | None = None
) -> CheckOutcome:
    """``rows_accounted`` judged on the published tables: every bronze row of the partition is in
    silver or quarantine exactly once, both tables were last written by the same run (and by
    ``expected_run`` when given: the run that just published)."""
    problems = state.problems(expected_run)
    return CheckOutcome(
        name=ACCOUNTING_CHECK,
        passed=not problems,
        severity="error",
        blocking=True,
        metadata={
            "read_from": "published tables",
            "bronze_rows": state.bronze_rows,
            "silver_rows": state.silver_rows,
            "quarantined_rows": state.quarantined_rows,
            "silver_run": state.silver_run or "unknown",
            "quarantine_run": state.quarantine_run or "unknown",
            "problems": "; ".join(problems) or "none",
        },
    )


def _severity(level: str) -> Literal["warn", "error"]:
    return "warn" if level == "warn" else "error"
