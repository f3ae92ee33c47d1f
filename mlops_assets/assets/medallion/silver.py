"""Silver: typed, deduplicated and validated; rejected rows go to quarantine with their reason.

Write-audit-publish: the refined partition is first written to a staging table, audited there
(every rule becomes an asset check), and only published when no blocking check failed, so bad data
never becomes visible in the published table. A refused partition keeps its staged copy for
inspection and the published table keeps its previous version.
"""

from collections.abc import Iterator
from typing import Any

import dagster as dg
import narwhals as nw
import polars as pl

from mlops_assets.assets.keys import daily_partitions, group, key, quarantine_name
from mlops_assets.automation.alerts import notify
from mlops_assets.config.datasets import DatasetConfig
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.errors import DataValidationError
from mlops_assets.resources.lakehouse import LakehouseResource
from mlops_assets.resources.metadata import counts_table, frame_metadata, markdown_table
from mlops_assets.storage.delta import read_table, remove_table, write_table
from mlops_assets.transforms.quality import (
    REASON,
    RULE,
    count_failures,
    refine,
    table_rule_results,
)
from mlops_assets.transforms.schema import CAST_ERROR_RULE

ACCOUNTING_CHECK = "rows_accounted"


def _severity(level: str) -> dg.AssetCheckSeverity:
    return dg.AssetCheckSeverity.WARN if level == "warn" else dg.AssetCheckSeverity.ERROR


def build_silver_assets(uc: UseCaseConfig, ds: DatasetConfig) -> dg.AssetsDefinition:
    """Silver table + quarantine table for one dataset, with one asset check per rule."""
    silver_key = key(uc.name, "silver", ds.name)
    quarantine_key = key(uc.name, "silver", quarantine_name(ds.name))
    rules = ds.all_rules()
    specs = [
        dg.AssetCheckSpec(
            name=r.check_name,
            asset=silver_key,
            blocking=r.blocking,
            description=r.description
            or f"{r.type} rule ({r.severity}" + (", blocking" if r.blocking else "") + ")",
        )
        for r in rules
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
            description="Every bronze row is in silver or quarantine, exactly once.",
        )
    )
    column_docs = "\n".join(
        f"- `{c.name}` ({c.dtype}{'' if c.nullable else ', required'}): {c.description or ''}"
        for c in ds.columns
    )

    @dg.multi_asset(
        outs={
            "silver": dg.AssetOut(
                key=silver_key,
                io_manager_key="lakehouse_io",
                kinds={"delta", "polars"},
                owners=uc.owners or None,
                description=f"Typed, deduplicated `{ds.name}` (keys: {', '.join(ds.keys)}). "
                f"{ds.description}\n\n{column_docs}",
            ),
            "quarantine": dg.AssetOut(
                key=quarantine_key,
                io_manager_key="lakehouse_io",
                kinds={"delta", "polars"},
                owners=uc.owners or None,
                description=f"Rows of `{ds.name}` rejected by a rule, raw values kept, with "
                "`_rule` (first rule broken) and `_reason` (every reason).",
            ),
        },
        ins={"bronze": dg.AssetIn(key=key(uc.name, "bronze", ds.name))},
        check_specs=specs,
        partitions_def=daily_partitions(uc),
        group_name=group(uc.name, "silver"),
        name=f"{uc.name}_silver_{ds.name}",
    )
    def _silver(
        context: dg.AssetExecutionContext, lakehouse: LakehouseResource, bronze: pl.DataFrame
    ) -> Iterator[Any]:
        partition = context.partition_key
        split = refine(nw.from_native(bronze).lazy(), ds)
        silver = split.silver.collect().to_native()
        quarantine = split.quarantine.collect().to_native()
        counts = count_failures(split, ds)

        # Write: stage the refined partition.
        staging = lakehouse.staging_path(silver_key, partition)
        write_table(staging, silver)
        staged = read_table(staging)
        # Audit: every rule on the staged data.
        failed_blocking: list[str] = []
        by_name = {r.check_name: r for r in rules}
        for name, rc in counts.items():
            if name == CAST_ERROR_RULE:
                continue
            yield dg.AssetCheckResult(
                asset_key=silver_key,
                check_name=name,
                passed=rc.passed,
                severity=_severity(rc.rule.severity),
                metadata={
                    "failing_rows": rc.failing,
                    "failing_fraction": rc.fraction,
                    "max_failure_fraction": rc.rule.max_failure_fraction,
                    "rows_checked": rc.total,
                },
            )
            if not rc.passed and rc.rule.blocking:
                failed_blocking.append(f"{name} ({rc.failing}/{rc.total} rows)")
        window_end = context.partition_time_window.end
        raw_columns = len([c for c in bronze.columns if not c.startswith("_")])
        table_results = table_rule_results(
            nw.from_native(staged), ds, as_of=window_end, raw_columns=raw_columns
        )
        for result in table_results:
            yield dg.AssetCheckResult(
                asset_key=silver_key,
                check_name=result.rule.check_name,
                passed=result.passed,
                severity=_severity(result.rule.severity),
                metadata={"observed": result.observed},
            )
            if not result.passed and result.rule.blocking:
                failed_blocking.append(f"{result.rule.check_name} ({result.observed})")
        cast = counts.get(CAST_ERROR_RULE)
        yield dg.AssetCheckResult(
            asset_key=silver_key,
            check_name=CAST_ERROR_RULE,
            passed=cast is None or cast.failing == 0,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "failing_rows": cast.failing if cast else 0,
                "missing_columns": ", ".join(split.missing_columns) or "none",
            },
        )
        accounted = staged.height + quarantine.height == bronze.height
        yield dg.AssetCheckResult(
            asset_key=silver_key,
            check_name=ACCOUNTING_CHECK,
            passed=accounted,
            metadata={
                "bronze_rows": bronze.height,
                "silver_rows": staged.height,
                "quarantined_rows": quarantine.height,
            },
        )
        if not accounted:
            failed_blocking.append(ACCOUNTING_CHECK)
        failed_checks = [n for n, rc in counts.items() if n != CAST_ERROR_RULE and not rc.passed]
        failed_checks += [r.rule.check_name for r in table_results if not r.passed]
        if not accounted:
            failed_checks.append(ACCOUNTING_CHECK)
        if failed_checks:
            notify(
                context,
                uc.monitoring.alerts,
                event="check_failed",
                severity="error" if failed_blocking else "warning",
                title=f"{uc.name}: {len(failed_checks)} data-quality check(s) failed on "
                f"{ds.name} {partition}",
                message=("Not published: blocking checks failed. " if failed_blocking else "")
                + f"Failed: {', '.join(failed_checks)}.",
                facts={"use_case": uc.name, "dataset": ds.name, "partition": partition},
            )
        if failed_blocking:
            raise DataValidationError(
                f"{ds.name} partition {partition} not published: blocking checks failed: "
                + "; ".join(failed_blocking),
                context={"dataset": ds.name, "partition": partition, "staging": str(staging)},
                fix="inspect the staged partition and the quarantine reasons, fix the source "
                "files or the rule thresholds, then re-materialize the partition",
            )
        # Publish: the IO manager commits both tables.
        del by_name
        by_rule = quarantine.group_by(RULE).len().rows()
        reasons = quarantine.select(RULE, REASON).unique(RULE, keep="first").sort(RULE).rows()
        yield dg.Output(
            staged,
            output_name="silver",
            metadata={
                **frame_metadata(staged),
                "bronze_rows": bronze.height,
                "quarantined_rows": quarantine.height,
                "missing_columns": ", ".join(split.missing_columns) or "none",
            },
        )
        yield dg.Output(
            quarantine,
            output_name="quarantine",
            metadata={
                "quarantined_by_rule": counts_table(dict(by_rule), "rule", "rows"),
                "example_reasons": markdown_table(["rule", "example reason"], reasons),
            },
        )
        remove_table(staging)

    return _silver
