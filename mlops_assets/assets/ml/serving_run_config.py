"""Run configuration of deployment and batch inference: which model version to serve or score."""

from typing import Literal

from pydantic import Field, model_validator

from mlops_assets.assets.run_config import RunConfigBase


class DeploymentRunConfig(RunConfigBase):
    """Knobs of one deployment: serve the champion (default), a given version, or roll back."""

    version: str = Field(
        default="",
        pattern=r"^(\d+)?$",
        description="Registered version to serve; empty: the current @champion.",
    )
    rollback: bool = Field(
        default=False, description="Serve the champion before the last promotion."
    )
    reason: str = Field(
        default="", description="Why anything but the champion is served (required then)."
    )

    @model_validator(mode="after")
    def _consistent(self) -> "DeploymentRunConfig":
        if self.version and self.rollback:
            raise ValueError("give `version` or `rollback`, not both; fix: remove one")
        if (self.version or self.rollback) and not self.reason.strip():
            raise ValueError(
                "serving something other than @champion needs a `reason`; fix: add one"
            )
        return self


class InferenceRunConfig(RunConfigBase):
    """Knobs of one batch-inference run: which model scores the day."""

    alias: Literal["champion", "challenger"] = Field(
        default="champion", description="Registry alias of the scoring model."
    )
    version: str = Field(
        default="",
        pattern=r"^(\d+)?$",
        description="Registered version to score with (overrides `alias`); empty: the alias.",
    )
