"""The lakehouse as a Dagster resource: the one owner of table names and locations.

Assets, IO managers, sensors and the CLI ask :meth:`LakehouseResource.get` for the environment's
:class:`~mlops_assets.storage.lakehouse.Lakehouse`; nothing else builds a path or a table name.
"""

import dagster as dg
from pydantic import Field

from mlops_assets.storage.lakehouse import Lakehouse, LocalLakehouse


class LakehouseResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The local lakehouse: Delta tables, staging, landing folders and reports under a root."""

    data_dir: str = Field(description="Root of landing files, tables, state and reports.")

    def get(self) -> Lakehouse:
        """The environment's lakehouse."""
        return LocalLakehouse(self.data_dir)
