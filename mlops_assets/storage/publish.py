"""Publishing a partition to two tables, and proving from the published tables that it happened.

A silver partition and its quarantine are two Delta tables: no single commit covers both. The
protocol (see ``docs/reliability.md``):

1. the run takes the partition's lease (:mod:`mlops_assets.storage.lease`): one writer at a time;
2. it stages and audits silver; before the first published commit it marks the lease
   ``publishing`` with the row counts the publish will leave;
3. it publishes quarantine, then silver, each commit tagged with the run id and partition;
4. it reads the PUBLISHED tables back (:func:`published_partition`): silver rows + quarantine rows
   must equal bronze rows and both tables must have been last written by this run.

A run killed between 3's two commits leaves quarantine ahead of silver. That state never looks
healthy: the writers differ (and usually the counts), the ``rows_accounted`` check computed from
:func:`published_partition` fails, and the next run of the partition finds the dead holder's
``publishing`` record (:func:`interrupted_publish`) and re-publishes both tables.

:func:`pause_point` is a test hook: crash tests stop a real run at a named point and kill it.
"""

import os
import time
from pathlib import Path

from pydantic import BaseModel, Field

from mlops_assets.engines.frames import row_count
from mlops_assets.storage.atomic import write_text_atomic
from mlops_assets.storage.lakehouse import Lakehouse, TableRef
from mlops_assets.storage.lease import LeaseRecord

PAUSE_AT_ENV = "MLOPS_TEST_PAUSE_AT"
PAUSE_DIR_ENV = "MLOPS_TEST_PAUSE_DIR"
PAUSE_DEADLINE_SECONDS = 120.0


class PublishedPartition(BaseModel):
    """One partition as the published bronze, silver and quarantine tables hold it."""

    partition: str = Field(description="Partition key.")
    bronze_rows: int = Field(description="Rows of the partition in bronze.")
    silver_rows: int = Field(description="Rows of the partition in silver.")
    quarantined_rows: int = Field(description="Rows of the partition in quarantine.")
    silver_run: str | None = Field(description="Run that last replaced the silver partition.")
    quarantine_run: str | None = Field(
        description="Run that last replaced the quarantine partition."
    )

    def problems(self, expected_run: str | None = None) -> list[str]:
        """What is wrong with the published partition (empty when it is whole)."""
        found = []
        accounted = self.silver_rows + self.quarantined_rows
        if accounted != self.bronze_rows:
            found.append(
                f"silver {self.silver_rows} + quarantine {self.quarantined_rows} = {accounted} "
                f"rows, bronze has {self.bronze_rows}"
            )
        if self.silver_run != self.quarantine_run and self.quarantine_run is not None:
            found.append(
                f"quarantine was published by run {self.quarantine_run} but silver by run "
                f"{self.silver_run or '(none)'}: a publish was interrupted"
            )
        if expected_run is not None and self.silver_run != expected_run:
            found.append(f"silver was last written by run {self.silver_run}, not {expected_run}")
        return found


def published_partition(
    house: Lakehouse, *, bronze: TableRef, silver: TableRef, quarantine: TableRef, partition: str
) -> PublishedPartition:
    """Count the partition in the three published tables and read who last wrote silver and
    quarantine (a missing table counts 0 rows)."""

    def rows(ref: TableRef) -> int:
        location = house.table_location(ref)
        return row_count(house.scan(location, [partition])) if house.exists(location) else 0

    return PublishedPartition(
        partition=partition,
        bronze_rows=rows(bronze),
        silver_rows=rows(silver),
        quarantined_rows=rows(quarantine),
        silver_run=house.partition_writer(house.table_location(silver), partition),
        quarantine_run=house.partition_writer(house.table_location(quarantine), partition),
    )


def interrupted_publish(
    house: Lakehouse,
    *,
    silver: TableRef,
    quarantine: TableRef,
    partition: str,
    predecessor: LeaseRecord | None,
) -> str | None:
    """Why the partition is half-published (None when it is not): a holder that died while
    publishing, or silver and quarantine last written by different runs."""
    reasons = []
    if predecessor is not None and predecessor.stage == "publishing":
        reasons.append(f"{predecessor.describe()} died while publishing")
    silver_run = house.partition_writer(house.table_location(silver), partition)
    quarantine_run = house.partition_writer(house.table_location(quarantine), partition)
    if quarantine_run is not None and silver_run != quarantine_run:
        reasons.append(
            f"quarantine is from run {quarantine_run}, silver from run {silver_run or '(none)'}"
        )
    return "; ".join(reasons) or None


def pause_point(name: str) -> None:
    """Test hook: when ``$MLOPS_TEST_PAUSE_AT`` equals ``name``, stop here until released.

    The process writes ``<$MLOPS_TEST_PAUSE_DIR>/<name>.paused`` (its pid) and waits for
    ``<name>.go`` to appear (at most two minutes, then it raises). Crash tests use it to SIGKILL a
    real run at an exact point; unset (always, outside tests) it costs one environment lookup.
    """
    if os.environ.get(PAUSE_AT_ENV) != name:
        return
    folder = os.environ.get(PAUSE_DIR_ENV)
    if not folder:
        raise RuntimeError(f"{PAUSE_AT_ENV}={name} needs {PAUSE_DIR_ENV} (a folder) as well")
    stem = Path(folder) / name.replace(":", "_").replace("/", "_")
    release = stem.with_name(f"{stem.name}.go")
    # written whole, then renamed: a waiter that sees the marker can always read the pid
    write_text_atomic(stem.with_name(f"{stem.name}.paused"), str(os.getpid()))
    deadline = time.monotonic() + PAUSE_DEADLINE_SECONDS
    while not release.exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"pause point {name} was not released within 120 s ({release})")
        time.sleep(0.02)
