"""Where tables and landing files live, derived from asset keys ``[use_case, layer, table]``."""

from pathlib import Path

import dagster as dg


class LakehouseResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The local lakehouse root: landing files, Delta tables, staging and reports."""

    data_dir: str

    @property
    def root(self) -> Path:
        return Path(self.data_dir)

    def table_path(self, key: dg.AssetKey) -> Path:
        """``<data_dir>/lakehouse/<use_case>/<layer>/<table>``."""
        return self.root.joinpath("lakehouse", *key.path)

    def staging_path(self, key: dg.AssetKey, partition: str | None) -> Path:
        """Write-audit-publish staging location of one partition of a table."""
        return self.root.joinpath("lakehouse", "_staging", *key.path, partition or "_all")

    def landing_dir(self, use_case: str, subdir: str) -> Path:
        return self.root / "landing" / use_case / subdir

    def reports_dir(self, use_case: str) -> Path:
        return self.root / "reports" / use_case
