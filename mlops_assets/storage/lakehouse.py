"""The one owner of locations: where a table, a staging table, a landing folder or a report lives.

Everything that needs a place asks a :class:`Lakehouse`: the IO managers, the sensors, the assets
and the CLI. Nothing else builds a path or a table name. Two implementations share the interface:

- :class:`LocalLakehouse`: Delta tables under ``<data_dir>/lakehouse`` through delta-rs, read as
  Polars-backed narwhals frames.
- a Unity Catalog implementation (three-part names ``catalog.schema.<layer>_<table>``, landing
  files in a Volume, Spark reads and writes) plugs in behind the same methods.

Tables are named by :class:`TableRef` (``[use_case, layer, name]``, the asset key), never by path.
"""

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from mlops_assets.engines.frames import AnyFrame, to_polars
from mlops_assets.errors import StorageError
from mlops_assets.storage.lease import PartitionLease

if TYPE_CHECKING:  # narwhals, delta-rs, Polars and pyarrow load when a table is first touched,
    # not with the code location
    import narwhals as nw

    from mlops_assets.storage.delta import SchemaEvolution, WriteResult
    from mlops_assets.storage.parquet_files import ParquetFiles

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")
_SAFE_PARTITION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-.:]*$")


def safe_name(value: str, what: str) -> str:
    """``value`` when it is a plain name (no separators, no traversal, no control characters)."""
    if not _SAFE.match(value) or ".." in value:
        raise StorageError(
            f"{what} {value!r} is not a safe name",
            context={what: value},
            fix="use letters, digits, '_' and '-' only (no '/', '..', spaces or control "
            "characters)",
        )
    return value


def safe_partition(value: str) -> str:
    """A partition key fit for a folder name and a predicate (dates, ``2026-01-01``)."""
    if not _SAFE_PARTITION.match(value) or ".." in value:
        raise StorageError(
            f"partition key {value!r} is not safe",
            context={"partition": value},
            fix="partition keys are dates such as 2026-01-31",
        )
    return value


class TableRef(BaseModel):
    """A table by name: ``[use_case, layer, name]``, the same parts as its asset key."""

    model_config = ConfigDict(frozen=True)

    use_case: str = Field(description="Use case (first part of the asset key).")
    layer: str = Field(description="Layer: bronze, silver, gold, features, inference, ...")
    name: str = Field(description="Table name within the layer.")

    @classmethod
    def from_path(cls, path: Sequence[str]) -> "TableRef":
        """From an asset key path ``[use_case, layer, name]``."""
        if len(path) != 3:
            raise StorageError(
                f"asset key {'/'.join(path)} is not [use_case, layer, name]",
                context={"asset_key": list(path)},
                fix="give lakehouse assets keys of exactly three parts",
            )
        use_case, layer, name = path
        return cls(
            use_case=safe_name(use_case, "use case"),
            layer=safe_name(layer, "layer"),
            name=safe_name(name, "table"),
        )

    @property
    def parts(self) -> list[str]:
        return [self.use_case, self.layer, self.name]

    def __str__(self) -> str:
        return "/".join(self.parts)


class Lakehouse(ABC):
    """Names and locations of everything the graph stores, and reads and writes of its tables."""

    engine: str = "polars"

    # -- names and places -------------------------------------------------------------------
    @abstractmethod
    def table_location(self, ref: TableRef) -> str:
        """Where the published table lives: a path locally, ``catalog.schema.table`` in UC."""

    @abstractmethod
    def staging_location(self, ref: TableRef, partition: str | None, run_id: str) -> str:
        """A write-audit-publish staging table private to one run and partition."""

    @abstractmethod
    def landing_root(self) -> Path:
        """The root of every landing folder (file names in bronze are relative to it)."""

    @abstractmethod
    def landing_dir(self, use_case: str, subdir: str) -> Path:
        """The folder (local disk or a mounted Volume) where a dataset's files land."""

    @abstractmethod
    def reports_dir(self, use_case: str) -> Path:
        """Where human reports (Evidently HTML) of a use case are written."""

    @abstractmethod
    def state_path(self, ref: TableRef) -> Path:
        """Where a small JSON state asset (evaluation, champion, endpoint) is kept."""

    @abstractmethod
    def cache_dir(self, what: str) -> Path:
        """A local scratch folder (downloaded model profiles, ...)."""

    @abstractmethod
    def use_case_locations(self, use_case: str) -> list[str]:
        """Everything a use case owns here, so a fresh start can reset exactly that."""

    # -- data -----------------------------------------------------------------------------
    @abstractmethod
    def exists(self, location: str) -> bool:
        """Whether a table exists at ``location``."""

    @abstractmethod
    def version(self, location: str) -> int | None:
        """The table's current version, or None when there is none."""

    @abstractmethod
    def scan(self, location: str, partitions: Sequence[str] | None = None) -> "nw.LazyFrame[Any]":
        """A lazy frame of the table (optionally only some partitions)."""

    @abstractmethod
    def write(
        self,
        location: str,
        frame: AnyFrame,
        *,
        partitions: Sequence[str] | None = None,
        schema_evolution: "SchemaEvolution" = "add_columns",
        commit_metadata: Mapping[str, str] | None = None,
    ) -> "WriteResult":
        """One atomic commit; partitions replace only their own data."""

    @abstractmethod
    def remove(self, location: str) -> None:
        """Drop a (staging) table."""

    # -- concurrency and publish bookkeeping (defaults; engines may do better) -------------
    def lease_path(self, ref: TableRef, partition: str | None) -> Path:
        """Where the write lease of one partition of ``ref`` is kept (without suffix).

        The default keeps it beside the use case's state files; it serialises the processes of
        one machine (see :mod:`mlops_assets.storage.lease`).
        """
        part = safe_partition(partition) if partition else "_all"
        return self.state_path(ref).with_suffix("").joinpath("_leases", part)

    def partition_lease(self, ref: TableRef, partition: str | None, run_id: str) -> PartitionLease:
        """The lease a run holds while it writes (stages, audits and publishes) a partition."""
        what = f"partition {partition or '(all)'} of {ref}"
        return PartitionLease(self.lease_path(ref, partition), safe_name(run_id, "run"), what)

    def partition_writer(self, location: str, partition: str) -> str | None:
        """The run that last replaced ``partition`` of the table (None when unknown).

        Read from the commit metadata the IO manager records; the default knows nothing.
        """
        return None

    def parquet_files(
        self, location: str, partitions: Sequence[str] | None = None
    ) -> "ParquetFiles | None":
        """The Parquet files that hold exactly the rows ``scan`` reads, when this engine can
        name them (None: read through ``scan``). The default names none."""
        return None

    # -- conveniences over the above --------------------------------------------------------
    def read_table(
        self, ref: TableRef, partitions: Sequence[str] | None = None
    ) -> "nw.LazyFrame[Any]":
        """The published table ``ref`` or a StorageError saying what to materialize."""
        location = self.table_location(ref)
        if not self.exists(location):
            raise StorageError(
                f"table {ref} does not exist yet ({location})",
                context={"table": str(ref), "location": location},
                fix=f"materialize the asset {ref} first",
            )
        return self.scan(location, partitions)

    def table_exists(self, ref: TableRef) -> bool:
        return self.exists(self.table_location(ref))


class LocalLakehouse(Lakehouse):
    """``<data_dir>/lakehouse/<use_case>/<layer>/<table>`` as delta-rs tables; Polars frames."""

    engine = "polars"

    def __init__(self, data_dir: Path | str) -> None:
        self.root = Path(data_dir)

    def __repr__(self) -> str:
        return f"LocalLakehouse({str(self.root)!r})"

    def table_location(self, ref: TableRef) -> str:
        return str(self.root.joinpath("lakehouse", *ref.parts))

    def staging_location(self, ref: TableRef, partition: str | None, run_id: str) -> str:
        part = safe_partition(partition) if partition else "_all"
        return str(
            self.root.joinpath("lakehouse", "_staging", *ref.parts, part, safe_name(run_id, "run"))
        )

    def lease_path(self, ref: TableRef, partition: str | None) -> Path:
        part = safe_partition(partition) if partition else "_all"
        return self.root.joinpath("lakehouse", "_staging", *ref.parts, part, "_lease")

    def partition_writer(self, location: str, partition: str) -> str | None:
        from mlops_assets.storage.delta import last_writer

        return last_writer(Path(location), partition)

    def landing_root(self) -> Path:
        return self.root / "landing"

    def landing_dir(self, use_case: str, subdir: str) -> Path:
        return self.landing_root() / safe_name(use_case, "use case") / safe_name(subdir, "landing")

    def reports_dir(self, use_case: str) -> Path:
        return self.root / "reports" / safe_name(use_case, "use case")

    def state_path(self, ref: TableRef) -> Path:
        return self.root.joinpath("state", *ref.parts).with_suffix(".json")

    def cache_dir(self, what: str) -> Path:
        return self.root / safe_name(what, "cache")

    def use_case_locations(self, use_case: str) -> list[str]:
        uc = safe_name(use_case, "use case")
        return [
            str(self.root / "landing" / uc),
            str(self.root / "lakehouse" / uc),
            str(self.root / "lakehouse" / "_staging" / uc),
            str(self.root / "reports" / uc),
            str(self.root / "state" / uc),
        ]

    def exists(self, location: str) -> bool:
        from mlops_assets.storage.delta import table_exists

        return table_exists(Path(location))

    def version(self, location: str) -> int | None:
        from mlops_assets.storage.delta import table_version

        return table_version(Path(location))

    def parquet_files(
        self, location: str, partitions: Sequence[str] | None = None
    ) -> "ParquetFiles | None":
        from mlops_assets.storage.delta import partition_files
        from mlops_assets.storage.parquet_files import ParquetFiles

        files = partition_files(Path(location), partitions)
        return None if files is None else ParquetFiles(files=tuple(files))

    def scan(self, location: str, partitions: Sequence[str] | None = None) -> "nw.LazyFrame[Any]":
        import narwhals as nw

        from mlops_assets.storage.delta import scan_table

        return nw.from_native(scan_table(Path(location), partitions))

    def write(
        self,
        location: str,
        frame: AnyFrame,
        *,
        partitions: Sequence[str] | None = None,
        schema_evolution: "SchemaEvolution" = "add_columns",
        commit_metadata: Mapping[str, str] | None = None,
    ) -> "WriteResult":
        from mlops_assets.storage.delta import write_table

        return write_table(
            Path(location),
            to_polars(frame),
            partitions=partitions,
            schema_evolution=schema_evolution,
            commit_metadata=commit_metadata,
        )

    def remove(self, location: str) -> None:
        from mlops_assets.storage.delta import remove_table

        remove_table(Path(location))
