"""The asset checks of a silver table: their specs, and results from the audit report."""

from collections.abc import Iterator
from typing import Any

import dagster as dg

from mlops_assets.assets.keys import asset_key
from mlops_assets.config.datasets import DatasetConfig
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.resources.alerts import AlertsResource
from mlops_assets.storage.lakehouse import TableRef
from mlops_assets.transforms.audit_report import ACCOUNTING_CHECK, AuditReport, CheckOutcome
from mlops_assets.transforms.schema_contract import CAST_ERROR_RULE, column_descriptions

ROW_RULES = frozenset({"not_null", "unique", "range", "accepted_values", "regex", "sql"})
"""Rules judged row by row: their failing rows go to quarantine, never into silver."""


def _rule_description(rule: Any) -> str:
    """What a rule checks and what its failure means for silver (see docs/checks.md)."""
    what = rule.description or f"{rule.type} rule"
    tolerance = f"more than {rule.max_failure_fraction:.2%} of the rows break it"
    if rule.type not in ROW_RULES:
        return f"{what}. Fails ({rule.severity.upper()}) when the table breaks it" + (
            "; blocking: the partition is not published." if rule.blocking else "."
        )
    if rule.blocking:
        return (
            f"{what}. Failing rows go to quarantine. Fails (ERROR, blocking) when {tolerance}: "
            "the partition is then not published."
        )
    return (
        f"{what}. Failing rows go to quarantine, so silver only holds rows that pass: a failure "
        f"(when {tolerance}) is a WARN about the source data, not a broken silver table. "
        "Make the rule blocking to stop publication instead."
    )


def check_specs(silver_key: dg.AssetKey, ds: DatasetConfig) -> list[dg.AssetCheckSpec]:
    """One check per rule, plus schema conformance and row accounting."""
    specs = [
        dg.AssetCheckSpec(
            name=r.check_name,
            asset=silver_key,
            blocking=r.blocking,
            description=_rule_description(r),
        )
        for r in ds.all_rules()
    ]
    specs.append(
        dg.AssetCheckSpec(
            name=CAST_ERROR_RULE,
            asset=silver_key,
            description="Raw values that do not parse as the declared column type, and CSV "
            "lines cut short (missing fields).",
        )
    )
    specs.append(
        dg.AssetCheckSpec(
            name=ACCOUNTING_CHECK,
            asset=silver_key,
            blocking=True,
            description="Read on the PUBLISHED tables after the publish: every bronze row of "
            "the partition is in silver or quarantine exactly once, and both tables were last "
            "written by the same run (a publish cut short by a crash fails it).",
        )
    )
    return specs


def check_results(silver_key: dg.AssetKey, report: AuditReport) -> Iterator[dg.AssetCheckResult]:
    """The audit's outcomes as asset check results."""
    for outcome in report.outcomes:
        yield check_result(silver_key, outcome)


def quarantined(outcome: CheckOutcome) -> bool:
    """Whether the outcome is a non-blocking row rule: its failing rows went to quarantine and
    silver was published without them (the rule did its job)."""
    return (
        not outcome.blocking
        and "failing_rows" in outcome.metadata
        and outcome.name not in (CAST_ERROR_RULE, ACCOUNTING_CHECK)
    )


def check_result(silver_key: dg.AssetKey, outcome: CheckOutcome) -> dg.AssetCheckResult:
    """One outcome as an asset check result, with a sentence that says what it means.

    A non-blocking row rule that fails is a WARN whatever its configured severity: its rows
    were quarantined and silver holds only rows that pass, so the table is not broken (the
    configured severity applies to blocking and table rules). See ``docs/checks.md``.
    """
    severity = outcome.severity
    if quarantined(outcome):
        severity = "warn"
    return dg.AssetCheckResult(
        asset_key=silver_key,
        check_name=outcome.name,
        passed=outcome.passed,
        severity=dg.AssetCheckSeverity.WARN if severity == "warn" else dg.AssetCheckSeverity.ERROR,
        description=_result_description(outcome),
        metadata={
            **dict(outcome.metadata),
            **({"configured_severity": outcome.severity} if quarantined(outcome) else {}),
        },
    )


def _result_description(outcome: CheckOutcome) -> str:
    meta = outcome.metadata
    if "failing_rows" in meta and outcome.name != CAST_ERROR_RULE:
        rows, total = int(meta["failing_rows"]), int(meta.get("rows_checked", 0))
        share = f" ({rows / total:.2%} of {total:,})" if total else ""
        if rows == 0:
            return "No row breaks the rule."
        kept_out = f"{rows:,} row(s){share} broke the rule and went to quarantine"
        if outcome.passed:
            return f"{kept_out}, within the tolerated fraction."
        if outcome.blocking:
            return f"{kept_out}: more than tolerated, the partition was not published."
        return (
            f"{kept_out}: more than tolerated. Silver holds only the rows that pass (this "
            "flags the source data, not the silver table)."
        )
    if outcome.name == CAST_ERROR_RULE:
        rows = int(meta.get("failing_rows", 0))
        return (
            "Every raw value parsed as its declared type."
            if outcome.passed
            else f"{rows:,} row(s) had unparseable values or cut-short lines (quarantined)."
        )
    if outcome.name == ACCOUNTING_CHECK:
        return (
            "Every bronze row is in silver or quarantine exactly once."
            if outcome.passed
            else f"Rows are not accounted for: {meta.get('problems', 'see metadata')}."
        )
    return (
        f"Observed: {meta['observed']}."
        if "observed" in meta
        else ("Passed." if outcome.passed else "Failed.")
    )


def column_docs(ds: DatasetConfig) -> str:
    """The silver table's description, with one line per declared column."""
    lines = "\n".join(
        f"- `{c.name}` ({c.dtype}{'' if c.nullable else ', required'}): {c.description or ''}"
        for c in ds.columns
    )
    return (
        f"Typed, deduplicated `{ds.name}` (keys: {', '.join(ds.keys)}). {ds.description}\n\n{lines}"
    )


def column_schema(ds: DatasetConfig) -> dg.TableSchema:
    """The silver table's declared columns with their descriptions (the asset's Columns tab)."""
    docs = column_descriptions(ds.columns)
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=c.name,
                type=c.dtype,
                description=docs[c.name],
                constraints=dg.TableColumnConstraints(nullable=c.nullable),
            )
            for c in ds.columns
        ]
    )


def table_out(
    ref: TableRef,
    description: str,
    owners: list[str],
    columns: dg.TableSchema | None = None,
) -> dg.AssetOut:
    """An output of the silver multi-asset, stored by the lakehouse IO manager; ``columns`` is
    its declared column schema (descriptions carried into every materialization's schema)."""
    return dg.AssetOut(
        key=asset_key(ref),
        io_manager_key="lakehouse_io",
        kinds={"delta", "polars"},
        owners=owners or None,
        description=description,
        metadata={"dagster/column_schema": columns} if columns is not None else None,
    )


def alert_failed_checks(
    alerts: AlertsResource,
    log: dg.DagsterLogManager,
    uc: UseCaseConfig,
    dataset: str,
    partition: str,
    report: AuditReport,
) -> None:
    """One ``check_failed`` alert listing the failed checks (an error when publication stops)."""
    if not report.failed:
        return
    blocked = bool(report.failed_blocking)
    alerts.notify(
        log,
        uc.monitoring.alerts,
        event="check_failed",
        severity="error" if blocked else "warning",
        title=f"{uc.name}: {len(report.failed)} data-quality check(s) failed on "
        f"{dataset} {partition}",
        message=("Not published: blocking checks failed. " if blocked else "")
        + f"Failed: {', '.join(o.name for o in report.failed)}.",
        facts={"use_case": uc.name, "dataset": dataset, "partition": partition},
    )
