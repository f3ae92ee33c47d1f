"""Run configuration of silver: per-rule threshold overrides for one run, each with a reason.

The rule names are the dataset's check names (a ``Literal``, so a misspelt rule is rejected when
the run is launched, and so is an override without its ``reason``). The overrides are applied to
a copy of the dataset config that this run refines and audits with; the YAML is untouched.
"""

from typing import Any, Literal

from pydantic import Field, create_model

from mlops_assets.assets.run_config import RunConfigBase
from mlops_assets.config.datasets import DatasetConfig


class RuleOverrideBase(RunConfigBase):
    """One rule's threshold for this run."""

    rule: str = Field(description="Check name of the rule (as shown in the UI).")
    max_failure_fraction: float = Field(
        ge=0.0, le=1.0, description="Failing fraction at or below which the rule passes."
    )
    reason: str = Field(
        min_length=1, pattern=r"\S", description="Why this run judges the rule differently."
    )


class SilverRunConfigBase(RunConfigBase):
    """What every dataset's silver run configuration has."""

    rule_overrides: list[RuleOverrideBase] = Field(
        default_factory=list, description="Per-rule thresholds for this run."
    )

    def dataset(self, ds: DatasetConfig) -> DatasetConfig:
        """``ds`` with this run's thresholds (implied not-null rules become explicit)."""
        if not self.rule_overrides:
            return ds
        changed = {o.rule: o.max_failure_fraction for o in self.rule_overrides}
        rules = [
            r.model_copy(update={"max_failure_fraction": changed[r.check_name]})
            if r.check_name in changed
            else r
            for r in ds.all_rules()
            if r in ds.rules or r.check_name in changed
        ]
        return ds.model_copy(update={"rules": rules})


def silver_run_config(ds: DatasetConfig) -> type[SilverRunConfigBase]:
    """The silver asset's run configuration for dataset ``ds``."""
    names = tuple(r.check_name for r in ds.all_rules())
    rule_type: Any = Literal[names] if names else str
    override: Any = create_model(
        f"{ds.name.title().replace('_', '')}RuleOverride",
        __base__=RuleOverrideBase,
        rule=(rule_type, Field(description=f"Check name of the rule: {', '.join(names)}.")),
    )
    silver: type[SilverRunConfigBase] = create_model(
        f"{ds.name.title().replace('_', '')}SilverRunConfig",
        __base__=SilverRunConfigBase,
        rule_overrides=(
            list[override],
            Field(
                default_factory=list,
                description="Per-rule `max_failure_fraction` for this run, each with a required "
                "`reason`; other rules keep their YAML threshold.",
            ),
        ),
    )
    return silver
