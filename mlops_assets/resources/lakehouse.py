"""The lakehouse as a Dagster resource: the one owner of table names and locations.

Assets, IO managers, sensors and the CLI ask :meth:`LakehouseResource.get` for the environment's
:class:`~mlops_assets.storage.lakehouse.Lakehouse`; nothing else builds a path or a table name.
"""

import os
import threading
from typing import TYPE_CHECKING

import dagster as dg
from pydantic import Field

from mlops_assets.errors import ConfigError
from mlops_assets.storage.lakehouse import Lakehouse, LocalLakehouse

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

_SESSIONS: "dict[str, SparkSession]" = {}
_SESSIONS_LOCK = threading.Lock()


class LakehouseResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The local lakehouse: Delta tables, staging, landing folders and reports under a root."""

    data_dir: str = Field(description="Root of landing files, tables, state and reports.")

    def get(self) -> Lakehouse:
        """The environment's lakehouse."""
        return LocalLakehouse(self.data_dir)


class UnityCatalogLakehouseResource(LakehouseResource):
    """Unity Catalog tables through a Spark Connect session; landing files in a Volume.

    The session comes from the URL in the environment variable named by ``spark_remote_env``
    (``sc://host:port`` for any Spark Connect server; for a Databricks cluster
    ``sc://<workspace>:443/;token=...;x-databricks-cluster-id=...``). The URL holds a secret, so
    only the variable's name is configuration.
    """

    catalog: str = Field(description="Unity Catalog catalog.")
    schema_name: str = Field(description="Unity Catalog schema of the use case's tables.")
    spark_remote_env: str = Field(
        default="SPARK_REMOTE", description="Env var holding the Spark Connect URL."
    )
    volume: str = Field(default="landing", description="Volume of the landing files.")
    files_volume: str = Field(default="mlops", description="Volume of reports and JSON state.")
    volume_root: str = Field(default="/Volumes", description="Where Volumes are mounted.")

    def session(self) -> "SparkSession":
        """The process's Spark Connect session to the configured server (:func:`remote_session`)."""
        url = os.environ.get(self.spark_remote_env, "")
        if not url:
            raise ConfigError(
                f"no Spark Connect URL: ${self.spark_remote_env} is not set",
                context={"variable": self.spark_remote_env},
                fix=f"export {self.spark_remote_env}=sc://<host>:<port> (a Databricks cluster: "
                "sc://<workspace>:443/;token=<pat>;x-databricks-cluster-id=<id>)",
            )
        return remote_session(url)

    def get(self) -> Lakehouse:
        from mlops_assets.storage.unity_catalog import UnityCatalogLakehouse

        return UnityCatalogLakehouse(
            self.catalog,
            self.schema_name,
            self.session,
            volume=self.volume,
            files_volume=self.files_volume,
            volume_root=self.volume_root,
            scratch_dir=self.data_dir,
        )


def remote_session(url: str, conf: "dict[str, str] | None" = None) -> "SparkSession":
    """The process's Spark Connect session to ``url``, opened (with ``conf``) on first use.

    Every step and IO manager call of a run shares it: a session is costly to open, and
    session-scoped state (temporary views, a test server's in-memory catalog) must survive from
    one table access to the next. A stopped session is replaced.
    """
    from mlops_assets.engines.spark import connect_remote

    with _SESSIONS_LOCK:
        session = _SESSIONS.get(url)
        if session is None or bool(getattr(session, "is_stopped", False)):
            session = _SESSIONS[url] = connect_remote(url, conf=conf)
        return session
