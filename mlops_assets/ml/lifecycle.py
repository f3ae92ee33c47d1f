"""One candidate through the whole lifecycle: train, register, compare, gate, maybe promote.

The champion is read *before* anything else and passed to the promotion as the expected
champion, so a champion that changes meanwhile (another run promoted) makes this promotion fail
instead of silently replacing a model it was never compared with. Any error before the promotion
leaves every alias where it was.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from mlops_assets.config.ml import ModelConfig, ParamValue
from mlops_assets.ml.evaluation import Comparison, compare
from mlops_assets.ml.gates import GateDecision, decide
from mlops_assets.ml.model_store import ModelVersionInfo, log_and_register
from mlops_assets.ml.registry import CHAMPION, PromotionResult, Registry
from mlops_assets.ml.tracking import MlflowSettings
from mlops_assets.ml.training import train_model


class CandidateOutcome(BaseModel):
    """What happened to one candidate model."""

    model_config = ConfigDict(frozen=True)

    version: ModelVersionInfo = Field(description="The registered candidate.")
    previous_champion: ModelVersionInfo | None = Field(description="Champion it was compared to.")
    validation_metrics: dict[str, float] = Field(description="Metrics on the validation rows.")
    comparison: Comparison = Field(description="Held-out metrics of challenger and champion.")
    decision: GateDecision = Field(description="The gate decision.")
    promotion: PromotionResult | None = Field(description="The alias move, if promoted.")


def run_candidate(
    train: pl.DataFrame,
    validation: pl.DataFrame,
    test: pl.DataFrame,
    config: ModelConfig,
    settings: MlflowSettings,
    registry: Registry,
    *,
    params_override: dict[str, ParamValue] | None = None,
    artifacts: dict[str, Path] | None = None,
    registered_name: str | None = None,
) -> CandidateOutcome:
    """Train, register as ``@challenger``, compare with ``@champion``, gate, and maybe promote.

    Call it inside :func:`mlops_assets.ml.tracking.start_run`: training, the model and the
    evaluation are logged to that run.

    Raises:
        The typed errors of each stage (data, config, training, registry, evaluation); a
        PromotionError if the champion changed during the run. No alias moves on error.
    """
    name = registered_name or config.name
    champion = registry.alias_version(name, CHAMPION)
    result = train_model(train, validation, config, params_override)
    version = log_and_register(
        result, config, settings, train.head(5), artifacts, registered_name=name
    )
    registry.set_challenger(name, version.version)
    comparison = compare(
        version.model_uri, None if champion is None else champion.model_uri, test, config
    )
    decision = decide(
        comparison.challenger.metrics,
        None if comparison.champion is None else comparison.champion.metrics,
        config.gates,
    )
    registry.record_decision(name, version.version, decision, comparison.challenger.metrics)
    promotion = None
    if decision.action == "promote":
        expected = None if champion is None else champion.version
        promotion = registry.promote(name, version.version, expected_champion=expected)
    return CandidateOutcome(
        version=version,
        previous_champion=champion,
        validation_metrics=result.validation_metrics,
        comparison=comparison,
        decision=decision,
        promotion=promotion,
    )
