"""The Delta history of a Unity Catalog table: its version and the commit metadata of each commit.

Spark on Databricks answers ``DESCRIBE HISTORY`` (newest commit first, ``userMetadata`` holding
the JSON the IO manager recorded through the ``userMetadata`` write option). Engines without it
(Sail) fall back to reading the Delta log with delta-rs when the table's files are on this
machine; otherwise the history is unknown (None).
"""

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


class TableHistory:
    """Reads one session's table histories; remembers when ``DESCRIBE HISTORY`` is refused."""

    def __init__(self) -> None:
        self.unavailable: str | None = None
        """Why ``DESCRIBE HISTORY`` is not used (None until it failed once)."""

    def commits(self, spark: "SparkSession", name: str, limit: int | None = None) -> list[Any]:
        """``(version, user metadata)`` of the newest commits first (empty when unknown).

        ``name`` is a quoted table name; the user metadata is a dict (empty without any).
        """
        if self.unavailable is None:
            query = f"DESCRIBE HISTORY {name}" + (f" LIMIT {int(limit)}" if limit else "")
            try:
                rows = spark.sql(query).collect()
            except Exception as exc:  # the engine has no Delta history (Sail) or refuses it
                self.unavailable = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
            else:
                return [(int(r["version"]), _metadata(r["userMetadata"])) for r in rows]
        return _log_commits(spark, name, limit)

    def version(self, spark: "SparkSession", name: str) -> int | None:
        commits = self.commits(spark, name, limit=1)
        return int(commits[0][0]) if commits else None


def _metadata(value: object) -> dict[str, Any]:
    if not isinstance(value, str) or not value:
        return {}
    try:
        parsed = json.loads(value)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def local_table_path(spark: "SparkSession", name: str) -> Path | None:
    """The table's folder when its location is on this machine and holds a Delta log."""
    rows = spark.sql(f"DESCRIBE TABLE EXTENDED {name}").collect()
    where = next((str(r[1]) for r in rows if str(r[0]).strip() == "Location"), "")
    path = Path(where.removeprefix("file://")) if where.startswith(("/", "file:/")) else None
    if path is None or not (path / "_delta_log").is_dir():
        return None
    return path


def _log_commits(spark: "SparkSession", name: str, limit: int | None) -> list[Any]:
    path = local_table_path(spark, name)
    if path is None:
        return []
    from deltalake import DeltaTable

    table = DeltaTable(str(path))
    history = table.history(limit)  # newest first
    newest = int(table.version())
    commits = []
    for offset, commit in enumerate(history):
        version = commit.get("version")
        commits.append(
            (
                int(version) if version is not None else newest - offset,
                _metadata(commit.get("userMetadata")),
            )
        )
    return commits
