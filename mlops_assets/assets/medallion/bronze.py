"""Bronze: raw landing files, append-only per daily partition, with ingestion metadata.

No landing file goes unaccounted: every entry of the day's folder is ingested, rejected or skipped
with its reason (:func:`~mlops_assets.storage.landing.read_landing`). The account is in the
materialization's metadata (a Markdown table) and in a table users can query,
``[use_case, bronze, <dataset>_landing_files]``, one row per entry and partitioned by day like
bronze itself (re-running a day replaces its rows). Two asset checks make problems visible
without holding back the good files of the day: ``landing_files_ingested`` fails when a file was
rejected, ``declared_columns_present`` when an ingested file lacks declared columns (its rows are
kept with nulls there, and silver's checks judge them). Run configuration
(:class:`~mlops_assets.assets.medallion.run_config.BronzeRunConfig`) chooses between reprocessing
the partition from every file (default) and adding only the files not ingested yet (the others
are not opened again: their rows and records are kept as the partition has them).
"""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg

from mlops_assets.assets.keys import asset_key, daily_partitions, group, tables
from mlops_assets.assets.medallion.run_config import (
    BronzeRunConfig,
    already_ingested,
    keep_ingested,
)
from mlops_assets.assets.run_config import run_config_metadata
from mlops_assets.config.datasets import DatasetConfig
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.resources.alerts import AlertsResource
from mlops_assets.resources.io_managers.delta import SCHEMA_EVOLUTION_TAG
from mlops_assets.resources.lakehouse import LakehouseResource
from mlops_assets.resources.metadata import markdown_table
from mlops_assets.storage.lakehouse import TableRef

if TYPE_CHECKING:
    from mlops_assets.storage.landing import LandingBatch, LandingFile

LANDING_FILES_SUFFIX = "_landing_files"
FILES_CHECK = "landing_files_ingested"
COLUMNS_CHECK = "declared_columns_present"
_SHOWN = 200  # rows of a Markdown table in metadata; the landing-files table has them all


def landing_files_ref(uc: UseCaseConfig, ds: DatasetConfig) -> TableRef:
    """The table accounting for every landing file of a dataset, one row per file and day."""
    return tables(uc).ref("bronze", f"{ds.name}{LANDING_FILES_SUFFIX}")


def _files_table(records: "list[LandingFile]", *, columns: bool = False) -> dg.MetadataValue:
    if columns:
        rows: list[list[object]] = [[r.file, ", ".join(r.missing_columns)] for r in records]
        headers = ["file", "missing declared columns"]
    else:
        rows = [[r.file, r.status, r.rows, r.reason] for r in records]
        headers = ["file", "status", "rows", "reason"]
    if len(rows) > _SHOWN:
        more: list[object] = [f"... {len(rows) - _SHOWN} more", *[""] * (len(headers) - 1)]
        rows = [*rows[:_SHOWN], more]
    return markdown_table(headers, rows)


def _check_results(key: dg.AssetKey, batch: "LandingBatch") -> Iterator[dg.AssetCheckResult]:
    lacking = [r for r in batch.records if r.status == "ingested" and r.missing_columns]
    yield dg.AssetCheckResult(
        asset_key=key,
        check_name=FILES_CHECK,
        passed=not batch.rejected,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "rejected_files": len(batch.rejected),
            "skipped_files": len(batch.skipped),
            "rejected": _files_table(batch.rejected),
        },
    )
    yield dg.AssetCheckResult(
        asset_key=key,
        check_name=COLUMNS_CHECK,
        passed=not lacking,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "files_lacking_columns": len(lacking),
            "files": _files_table(lacking, columns=True),
        },
    )


def _log(context: dg.AssetExecutionContext, batch: "LandingBatch", folder: str) -> None:
    for record in batch.records:
        if record.status == "rejected":
            context.log.warning(f"rejected landing file {record.file}: {record.reason}")
        elif record.status == "skipped":
            context.log.info(f"skipped landing entry {record.file}: {record.reason}")
        elif record.reason:
            context.log.warning(f"landing file {record.file} ({record.rows} rows): {record.reason}")
    if not batch.files:
        context.log.warning(
            f"no landing file ingested from {folder} ({len(batch.rejected)} rejected, "
            f"{len(batch.skipped)} skipped); the partition is empty (late data re-runs it "
            "through the landing sensor)"
        )


def _alert(
    alerts: AlertsResource,
    log: dg.DagsterLogManager,
    uc: UseCaseConfig,
    ds: DatasetConfig,
    partition: str,
    batch: "LandingBatch",
) -> None:
    """A ``check_failed`` warning listing rejected files and files lacking declared columns."""
    lacking = [r.file for r in batch.records if r.status == "ingested" and r.missing_columns]
    if not (batch.rejected or lacking):
        return
    alerts.notify(
        log,
        uc.monitoring.alerts,
        event="check_failed",
        severity="warning",
        title=f"{uc.name}: landing files of {ds.name} {partition} need attention",
        message="\n".join(
            [f"- rejected {r.file}: {r.reason}" for r in batch.rejected]
            + [f"- {f} lacks declared columns" for f in lacking]
        ),
        facts={"use_case": uc.name, "dataset": ds.name, "partition": partition},
    )


def _output_metadata(batch: "LandingBatch", folder: Path, location: str) -> dict[str, Any]:
    return {
        "files": _files_table(batch.records),
        "file_count": len(batch.files),
        "empty_files": len(batch.empty_files),
        "rejected_files": len(batch.rejected),
        "skipped_files": len(batch.skipped),
        "landing_folder": dg.MetadataValue.path(str(folder)),
        "landing_files_table": dg.MetadataValue.path(location)
        if "/" in location
        else dg.MetadataValue.text(location),
    }


def build_bronze_asset(uc: UseCaseConfig, ds: DatasetConfig) -> dg.AssetsDefinition:
    """One bronze asset per dataset: every row of every landing file of the day, as it came."""
    key = asset_key(tables(uc).bronze(ds.name))
    files_ref = landing_files_ref(uc, ds)

    @dg.asset(
        key=key,
        group_name=group(uc.name, "bronze"),
        partitions_def=daily_partitions(uc),
        io_manager_key="lakehouse_io",
        kinds={"delta", "polars"},
        owners=uc.owners or None,
        description=f"Raw `{ds.name}` landing files ({ds.source.format}, or another known "
        f"format read by its content), one partition per day, with `_ingested_at`, "
        f"`_source_file`, `_row_number`, `_batch_id` and `_missing_fields` (a CSV cut "
        f"mid-row). Every landing file is ingested, rejected or skipped with its reason, "
        f"recorded in `{files_ref}`. {ds.description}",
        metadata={SCHEMA_EVOLUTION_TAG: ds.schema_evolution, "landing_subdir": ds.landing_subdir},
        check_specs=[
            dg.AssetCheckSpec(
                FILES_CHECK,
                asset=key,
                description="Every landing file of the day was ingested (none rejected).",
            ),
            dg.AssetCheckSpec(
                COLUMNS_CHECK,
                asset=key,
                description="Every ingested landing file has every declared column.",
            ),
        ],
    )
    def _bronze(
        context: dg.AssetExecutionContext,
        config: BronzeRunConfig,
        lakehouse: LakehouseResource,
        alerts: AlertsResource,
    ) -> Iterator[Any]:
        import narwhals as nw

        from mlops_assets.storage.landing import read_landing

        house, partition = lakehouse.get(), context.partition_key
        folder = house.landing_dir(uc.name, ds.landing_subdir) / partition
        location = house.table_location(files_ref)
        bronze = house.table_location(tables(uc).bronze(ds.name))
        before = (
            already_ingested(house, bronze, location, partition)
            if config.landing_files == "new"
            else None
        )
        batch = read_landing(
            folder,
            house.landing_root(),
            ds.source.format,
            batch_id=context.run_id,
            ingested_at=datetime.now(UTC),
            delimiter=ds.source.delimiter,
            columns=[c.source_name for c in ds.columns],
            exclude=set() if before is None else set(before["file"].to_list()),
        )
        if before is not None:
            batch = keep_ingested(house, bronze, partition, batch, before)
        house.write(location, nw.from_native(batch.records_frame()), partitions=[partition])
        _log(context, batch, str(folder))
        yield from _check_results(key, batch)
        _alert(alerts, context.log, uc, ds, partition, batch)
        metadata = {**_output_metadata(batch, folder, location), **run_config_metadata(config)}
        yield dg.Output(nw.from_native(batch.frame), metadata=metadata)

    return _bronze
