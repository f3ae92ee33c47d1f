"""Silver: typed, deduplicated and validated; rejected rows go to quarantine with their reason.

Write-audit-publish: the refined partition is staged in a table private to the run, audited there
(:func:`~mlops_assets.transforms.audit.audit_partition`; every rule is an asset check) and only
published when no blocking check failed, so bad data never becomes visible and the published table
keeps its previous version. A refused partition keeps its staged copy for inspection.
"""

from collections.abc import Iterator
from functools import partial
from typing import Any

import dagster as dg

from mlops_assets.assets.keys import asset_key, daily_partitions, group, tables
from mlops_assets.assets.medallion.silver_checks import (
    alert_failed_checks,
    check_results,
    check_specs,
    column_docs,
    table_out,
)
from mlops_assets.config.datasets import DatasetConfig
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.engines.frames import LazyFrame, persist, row_count
from mlops_assets.errors import DataValidationError
from mlops_assets.resources.alerts import AlertsResource
from mlops_assets.resources.lakehouse import LakehouseResource
from mlops_assets.resources.metadata import counts_table, markdown_table
from mlops_assets.transforms.audit import audit_partition
from mlops_assets.transforms.quality import count_failures, refine


def build_silver_assets(uc: UseCaseConfig, ds: DatasetConfig) -> dg.AssetsDefinition:
    """Silver table + quarantine table for one dataset, with one asset check per rule."""
    names = tables(uc)
    silver_ref = names.silver(ds.name)
    silver_key = asset_key(silver_ref)
    out = partial(table_out, owners=uc.owners)

    @dg.multi_asset(
        outs={
            "silver": out(silver_ref, column_docs(ds)),
            "quarantine": out(
                names.quarantine(ds.name),
                f"Rows of `{ds.name}` rejected by a rule, raw values kept, with "
                "`_rule` (first rule broken) and `_reason` (every reason).",
            ),
        },
        ins={"bronze": dg.AssetIn(key=asset_key(names.bronze(ds.name)))},
        check_specs=check_specs(silver_key, ds),
        partitions_def=daily_partitions(uc),
        group_name=group(uc.name, "silver"),
        name=f"{uc.name}_silver_{ds.name}",
    )
    def _silver(
        context: dg.AssetExecutionContext,
        lakehouse: LakehouseResource,
        alerts: AlertsResource,
        bronze: LazyFrame,
    ) -> Iterator[Any]:
        house, partition = lakehouse.get(), context.partition_key
        split = refine(bronze, ds)
        quarantine = persist(split.quarantine)
        staging = house.staging_location(silver_ref, partition, context.run_id)
        house.write(staging, split.silver)  # write ...
        staged = house.scan(staging)
        report = audit_partition(  # ... audit ...
            ds,
            counts=count_failures(split, ds),
            staged=staged.collect(),
            quarantine=quarantine.collect(),
            bronze_rows=row_count(bronze),
            raw_columns=len([c for c in bronze.collect_schema().names() if c[0] != "_"]),
            missing_columns=split.missing_columns,
            as_of=context.partition_time_window.end,
        )
        yield from check_results(silver_key, report)
        alert_failed_checks(alerts, context.log, uc, ds.name, partition, report)
        if not report.publishable:
            raise DataValidationError(
                f"{ds.name} partition {partition} not published: blocking checks failed: "
                + report.blocking_summary(),
                context={"dataset": ds.name, "partition": partition, "staging": staging},
                fix="inspect the staged partition and the quarantine reasons, fix the source "
                "files or the rule thresholds, then re-materialize the partition",
            )
        meta = {"bronze_rows": report.bronze_rows, "quarantined_rows": report.quarantined_rows}
        yield dg.Output(  # ... publish (the IO manager commits both tables)
            staged,
            output_name="silver",
            metadata={**meta, "missing_columns": ", ".join(report.missing_columns) or "none"},
        )
        yield dg.Output(
            quarantine,
            output_name="quarantine",
            metadata={
                "quarantined_by_rule": counts_table(report.quarantined_by_rule, "rule", "rows"),
                "example_reasons": markdown_table(
                    ["rule", "example reason"], report.example_reasons
                ),
            },
        )
        house.remove(staging)

    return _silver
