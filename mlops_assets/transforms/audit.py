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
from typing import Any

import narwhals as nw

from mlops_assets.config.datasets import DatasetConfig
from mlops_assets.transforms.audit_report import (
    AuditReport,
    CheckOutcome,
    severity,
)
from mlops_assets.transforms.quality import (
    REASON,
    RULE,
    RuleCounts,
    table_rule_results,
)
from mlops_assets.transforms.schema_contract import CAST_ERROR_RULE


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
                severity=severity(rc.rule.severity),
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
                severity=severity(result.rule.severity),
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
