"""The asset checks of a silver table: their specs, and results from the audit report."""

from collections.abc import Iterator

import dagster as dg

from mlops_assets.assets.keys import asset_key
from mlops_assets.config.datasets import DatasetConfig
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.resources.alerts import AlertsResource
from mlops_assets.storage.lakehouse import TableRef
from mlops_assets.transforms.audit import ACCOUNTING_CHECK, AuditReport, CheckOutcome
from mlops_assets.transforms.schema import CAST_ERROR_RULE


def check_specs(silver_key: dg.AssetKey, ds: DatasetConfig) -> list[dg.AssetCheckSpec]:
    """One check per rule, plus schema conformance and row accounting."""
    specs = [
        dg.AssetCheckSpec(
            name=r.check_name,
            asset=silver_key,
            blocking=r.blocking,
            description=r.description
            or f"{r.type} rule ({r.severity}" + (", blocking" if r.blocking else "") + ")",
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


def check_result(silver_key: dg.AssetKey, outcome: CheckOutcome) -> dg.AssetCheckResult:
    """One outcome as an asset check result."""
    return dg.AssetCheckResult(
        asset_key=silver_key,
        check_name=outcome.name,
        passed=outcome.passed,
        severity=dg.AssetCheckSeverity.WARN
        if outcome.severity == "warn"
        else dg.AssetCheckSeverity.ERROR,
        metadata=dict(outcome.metadata),
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


def table_out(ref: TableRef, description: str, owners: list[str]) -> dg.AssetOut:
    """An output of the silver multi-asset, stored by the lakehouse IO manager."""
    return dg.AssetOut(
        key=asset_key(ref),
        io_manager_key="lakehouse_io",
        kinds={"delta", "polars"},
        owners=owners or None,
        description=description,
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
