"""Run configuration of deployment and batch inference: which model version to serve or score.

What to serve is a discriminated union, so Dagster rejects a bad combination when the run is
launched (before any step): ``champion`` (default), ``version`` with a ``version`` and a required
``reason``, or ``rollback`` with a required ``reason``. A version and a rollback at once cannot be
written at all.
"""

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from mlops_assets.assets.run_config import RunConfigBase
from mlops_assets.errors import RegistryError

if TYPE_CHECKING:
    from mlops_assets.ml.model_store import ModelVersionInfo
    from mlops_assets.ml.registry import Registry

_REASON = "Why anything but the champion is served (recorded in metadata)."


class ServeChampion(RunConfigBase):
    """Serve the current @champion (as configured)."""

    kind: Literal["champion"] = Field(default="champion", description="Serve @champion.")


class ServeVersion(RunConfigBase):
    """Serve a given registered version."""

    kind: Literal["version"] = Field(default="version", description="Serve a given version.")
    version: str = Field(pattern=r"^\d+$", description="Registered version to serve.")
    reason: str = Field(min_length=1, pattern=r"\S", description=_REASON)


class ServeRollback(RunConfigBase):
    """Serve the champion before the last promotion."""

    kind: Literal["rollback"] = Field(default="rollback", description="Roll back.")
    reason: str = Field(min_length=1, pattern=r"\S", description=_REASON)


class DeploymentRunConfig(RunConfigBase):
    """Knobs of one deployment: serve the champion (default), a given version, or roll back."""

    serve: ServeChampion | ServeVersion | ServeRollback = Field(
        default_factory=ServeChampion,
        discriminator="kind",
        description="`champion` (default: the current @champion), `version` (a registered "
        "version, with a required `reason`) or `rollback` (the champion before the last "
        "promotion, with a required `reason`).",
    )

    @property
    def version(self) -> str:
        """The version asked for, or '' (champion or rollback)."""
        return self.serve.version if isinstance(self.serve, ServeVersion) else ""

    @property
    def rollback(self) -> bool:
        """Whether this run rolls back to the previous champion."""
        return isinstance(self.serve, ServeRollback)

    @property
    def reason(self) -> str:
        """Why anything but the champion is served ('' for the champion)."""
        return "" if isinstance(self.serve, ServeChampion) else self.serve.reason


class InferenceRunConfig(RunConfigBase):
    """Knobs of one batch-inference run: which model scores the day, in batches of what size."""

    alias: Literal["champion", "challenger"] = Field(
        default="champion", description="Registry alias of the scoring model."
    )
    version: str = Field(
        default="",
        pattern=r"^(\d+)?$",
        description="Registered version to score with (overrides `alias`); empty: the alias.",
    )
    batch_size: int = Field(
        default=0,
        ge=0,
        description="Rows per scoring call (bounds the memory of one predict); 0: the whole "
        "partition in one call (as configured).",
    )

    def batches(self, rows: int) -> list[tuple[int, int]]:
        """``(offset, length)`` of each scoring call over ``rows`` rows."""
        from mlops_assets.ml.batch import batch_bounds

        return batch_bounds(rows, self.batch_size)

    def scorer(self, registry: "Registry", name: str) -> tuple["ModelVersionInfo", str | None]:
        """The version that scores this run, and the alias it was resolved through (if any)."""
        from mlops_assets.ml.registry import CHAMPION

        if self.version:
            return registry.get_version(name, self.version), None
        if self.alias == CHAMPION:
            return registry.require_champion(name, purpose="score with"), CHAMPION
        found = registry.alias_version(name, self.alias)
        if found is None:
            raise RegistryError(
                f"{name} has no @{self.alias} version to score with",
                context={"model": name, "alias": self.alias},
                fix="train and evaluate a model first, or score with the champion",
            )
        return found, self.alias
