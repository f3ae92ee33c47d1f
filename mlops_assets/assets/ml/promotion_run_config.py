"""Run configuration of the promotion step (``[uc, models, champion]``), for one run.

The evaluation decides (its ``gate`` knob sets the gate mode); this step applies the decision.
Its knobs only ever hold a promotion back, never force one:

- ``promotion`` is a discriminated union: ``enabled`` (default: move ``@champion`` when the
  gates said promote) or ``dry_run`` with a required ``reason`` (decide and record the verdict,
  leave ``@champion`` where it is; the same evaluation can be promoted by a later run). Dagster
  rejects a dry run without a reason when the run is launched.
- ``expected_challenger``: the version this run may promote; the step refuses, moving nothing,
  when the evaluation upstream judged another one (e.g. a newer model arrived since review).

Non-default values are in the materialization's metadata and tagged on the evaluation's MLflow
run as ``mlops.run_config.champion.<field>`` (stale tags of an earlier run are removed).
"""

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from mlops_assets.assets.run_config import RunConfigBase, run_config_tags
from mlops_assets.errors import PromotionError
from mlops_assets.ml.decisions import ChampionState, EvaluationReport

if TYPE_CHECKING:
    from mlops_assets.ml.registry import Registry

TAG_PREFIX = "mlops.run_config.champion."
"""MLflow tags of this step's non-default run config, on the evaluation run it applied."""


class PromotionEnabled(RunConfigBase):
    """Move @champion when the gates said promote (as configured)."""

    mode: Literal["enabled"] = Field(default="enabled", description="Apply the gates' decision.")


class PromotionDryRun(RunConfigBase):
    """Decide and record the verdict, but leave @champion where it is."""

    mode: Literal["dry_run"] = Field(default="dry_run", description="Record, never move.")
    reason: str = Field(
        min_length=1,
        pattern=r"\S",
        description="Why a promotion the gates may approve is held back (recorded with the "
        "verdict).",
    )


class PromotionRunConfig(RunConfigBase):
    """Knobs of one promotion step: hold the promotion back, or pin the version it may promote."""

    promotion: PromotionEnabled | PromotionDryRun = Field(
        default_factory=PromotionEnabled,
        discriminator="mode",
        description="`enabled` (default: move @champion when the gates said promote) or "
        "`dry_run` with a required `reason` (record the verdict, move nothing).",
    )
    expected_challenger: str = Field(
        default="",
        pattern=r"^(\d+)?$",
        description="Registered version this run may promote: the step fails, moving nothing, "
        "when the evaluation upstream judged another version; empty: the version evaluated.",
    )

    @property
    def dry_run(self) -> bool:
        """Whether this run leaves @champion where it is."""
        return isinstance(self.promotion, PromotionDryRun)

    def check_challenger(self, evaluation: EvaluationReport) -> None:
        """Refuse an evaluation of another version than ``expected_challenger``."""
        expected = self.expected_challenger
        if expected and evaluation.challenger_version != expected:
            raise PromotionError(
                f"{evaluation.model_name}: this run may promote v{expected} only, but the "
                f"evaluation upstream judged v{evaluation.challenger_version}",
                context={
                    "model": evaluation.model_name,
                    "expected_challenger": expected,
                    "evaluated": evaluation.challenger_version,
                },
                fix=f"evaluate v{expected} first (evaluation `challenger_version: {expected}`), "
                "or clear `expected_challenger`",
            )

    def held_back(self, registry: "Registry", evaluation: EvaluationReport) -> ChampionState:
        """The state of a dry run: @champion unchanged, the verdict and why it was held."""
        from mlops_assets.ml.promotion import decide_champion, should_promote
        from mlops_assets.ml.registry import CHAMPION

        current = registry.alias_version(evaluation.model_name, CHAMPION)
        version = current.version if current else None
        state = decide_champion(evaluation, version)
        reason = self.promotion.reason if isinstance(self.promotion, PromotionDryRun) else ""
        if should_promote(evaluation, version):
            verdict = (
                f"dry run: would promote v{evaluation.challenger_version} over "
                f"{'v' + version if version else 'no champion'} "
                f"({' '.join(evaluation.decision.reasons)})"
            )
        else:
            verdict = f"dry run: {state.reason}"
        return state.model_copy(update={"reason": f"{verdict}; held back: {reason}"})

    def tag(self, registry: "Registry", run_id: str) -> None:
        """This run's non-default values on the evaluation run; an earlier run's are removed."""
        client = registry.client
        wanted = {
            tag.replace("mlops.run_config.", TAG_PREFIX, 1): value
            for tag, value in run_config_tags(self).items()
        }
        for tag in client.get_run(run_id).data.tags:
            if tag.startswith(TAG_PREFIX) and tag not in wanted:
                client.delete_tag(run_id, tag)
        for tag, value in wanted.items():
            client.set_tag(run_id, tag, value)
