"""Partition write leases: one run at a time writes a partition, and a dead writer never blocks.

A lease is an exclusive ``flock`` on ``<lease>.lock`` held for the whole write (stage, audit,
publish), plus a small JSON record ``<lease>.json`` saying who holds it and how far it got. The
operating system drops the lock when its process dies, however it dies (SIGKILL included), so a
killed run never leaves a lock behind; its record stays, and the next run reads it to learn that
a predecessor died (and whether it died while publishing).

A second run asking for a held lease gets a :class:`~mlops_assets.errors.StorageError` naming the
holder (run id, process, host, since when), never a data-quality failure.

Scope: ``flock`` serialises processes on one machine (or on a file system that implements it:
local disks do; many network mounts do not). The local lakehouse keeps leases in its staging area.
"""

import json
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from mlops_assets.errors import StorageError
from mlops_assets.storage.atomic import write_text_atomic

Stage = Literal["writing", "publishing"]


class LeaseRecord(BaseModel):
    """Who holds a partition lease, and how far the write got."""

    run_id: str = Field(description="Run holding the lease.")
    pid: int = Field(description="Process of that run.")
    host: str = Field(description="Machine of that process.")
    acquired_at: datetime = Field(description="When the lease was taken (UTC).")
    stage: Stage = Field(
        default="writing",
        description="``writing`` until the audit passed, ``publishing`` once the first published "
        "table may have been committed.",
    )
    expected_rows: dict[str, int] = Field(
        default_factory=dict, description="Rows each table will hold once published."
    )

    def describe(self) -> str:
        return (
            f"run {self.run_id} (pid {self.pid} on {self.host}, since "
            f"{self.acquired_at.isoformat(timespec='seconds')})"
        )


class PartitionLease:
    """The write lease of one partition; use as a context manager or acquire/release."""

    def __init__(self, path: Path, run_id: str, what: str) -> None:
        self.lock_path = path.with_name(f"{path.name}.lock")
        self.record_path = path.with_name(f"{path.name}.json")
        self.run_id = run_id
        self.what = what
        self.predecessor: LeaseRecord | None = None
        """The record left by a holder that died without releasing (None when it ended well)."""
        self._fd: int | None = None
        self._record: LeaseRecord | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> "PartitionLease":
        """Take the lease, or raise a StorageError naming the run that holds it."""
        import fcntl

        if self.held:
            return self
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = read_record(self.record_path)
            who = holder.describe() if holder else "another run (starting)"
            raise StorageError(
                f"{self.what} is being written by {who}: wait for it to finish or cancel it",
                context={
                    "lease": str(self.lock_path),
                    "holder_run_id": holder.run_id if holder else None,
                    "this_run_id": self.run_id,
                },
                fix="wait for that run to finish (or cancel it in the Dagster UI), then "
                "re-materialize this partition; nothing was written by this run",
            ) from None
        self._fd = fd
        left = read_record(self.record_path)
        self.predecessor = left if left is not None and left.run_id != self.run_id else None
        self._record = LeaseRecord(
            run_id=self.run_id,
            pid=os.getpid(),
            host=socket.gethostname(),
            acquired_at=datetime.now(UTC),
        )
        self._write()
        return self

    def mark(self, stage: Stage, expected_rows: dict[str, int] | None = None) -> None:
        """Record progress (e.g. ``publishing`` with the row counts the publish will leave)."""
        if self._record is None:
            raise StorageError(f"lease of {self.what} is not held", context={"run": self.run_id})
        update = {"stage": stage, "expected_rows": expected_rows or {}}
        self._record = self._record.model_copy(update=update)
        self._write()

    def release(self) -> None:
        """Drop the record and the lock (a finished write leaves no trace)."""
        import fcntl

        if self._fd is None:
            return
        try:
            self.record_path.unlink(missing_ok=True)
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd, self._record = None, None

    def _write(self) -> None:
        assert self._record is not None
        # readers see the old record or the new one, never half
        write_text_atomic(self.record_path, self._record.model_dump_json())

    def __enter__(self) -> "PartitionLease":
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def read_record(path: Path) -> LeaseRecord | None:
    """The lease record at ``path`` (None when absent or unreadable)."""
    try:
        return LeaseRecord.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (FileNotFoundError, json.JSONDecodeError, ValidationError):
        return None
