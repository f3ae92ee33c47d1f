"""Evaluate a registered challenger against ``@champion``, then decide and apply the promotion.

:func:`evaluate_challenger` compares the challenger and the current champion on the same held-out
rows (one MLflow run), applies the gates and records the decision on the version.
:func:`apply_promotion` turns that report into the new :class:`ChampionState`, moving the aliases
(compare-and-swap, see :meth:`Registry.promote`) only when the gates said promote; the decision
itself is the pure :func:`decide_champion`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlops_assets.errors import PromotionError
from mlops_assets.ml.decisions import ChampionState, EvaluationReport
from mlops_assets.ml.registry import CHAMPION, PromotionResult, Registry, recorded_gate_action

if TYPE_CHECKING:
    from mlops_assets.config.ml import ModelConfig
    from mlops_assets.ml.gates import GateDecision
    from mlops_assets.ml.model_store import ModelVersionInfo
    from mlops_assets.ml.tracking import RunTags


def evaluate_challenger(
    registry: Registry,
    challenger: ModelVersionInfo,
    training_set: object,
    config: ModelConfig,
    tags: RunTags,
) -> EvaluationReport:
    """Challenger vs the current ``@champion`` on the test split of ``training_set``.

    The champion is read first; re-evaluating the champion itself compares it with nothing
    (first-model rules). Both models are scored on the same rows (each held to its own
    signature), metrics and plots are logged to a run of ``registry.settings``' experiment, and
    the gate decision and test metrics are recorded on the challenger version, except that
    re-evaluating the champion never overwrites the record that promoted it with a verdict
    that does not promote (it would revoke the champion's approval to score and serve).

    Args:
        training_set: any narwhals-supported frame; only the columns the models need are
            collected.

    Raises:
        The typed errors of :func:`mlops_assets.ml.evaluation.compare` (data, schema, registry,
        evaluation); nothing is recorded on the version then.
    """
    from mlops_assets.ml.columns import collect_columns, evaluation_columns
    from mlops_assets.ml.evaluation import compare
    from mlops_assets.ml.gates import decide
    from mlops_assets.ml.split import split_frame
    from mlops_assets.ml.tracking import start_run

    name = challenger.name
    champion = registry.alias_version(name, CHAMPION)
    re_evaluated = champion if champion and champion.version == challenger.version else None
    if re_evaluated is not None:
        champion = None
    uris = [challenger.model_uri] + ([champion.model_uri] if champion else [])
    with start_run(registry.settings, f"evaluate {name} v{challenger.version}", tags) as run:
        rows = collect_columns(training_set, evaluation_columns(config, uris))
        test = split_frame(rows, config.entity_key, config.split)["test"]
        comparison = compare(
            challenger.model_uri, champion.model_uri if champion else None, test, config
        )
        run_id = run.info.run_id
    champion_metrics = comparison.champion.metrics if comparison.champion else None
    decision = decide(comparison.challenger.metrics, champion_metrics, config.gates)
    if not _keeps_promotion_record(re_evaluated, decision):
        registry.record_decision(
            name, challenger.version, decision, comparison.challenger.metrics, run_id=run_id
        )
    return EvaluationReport(
        model_name=name,
        challenger_version=challenger.version,
        champion_version=champion.version if champion else None,
        challenger_metrics=comparison.challenger.metrics,
        champion_metrics=champion_metrics,
        n_test=comparison.challenger.n_rows,
        decision=decision,
        mlflow_run_id=run_id,
    )


def _keeps_promotion_record(current: ModelVersionInfo | None, decision: GateDecision) -> bool:
    """Whether re-evaluating the serving ``@champion`` leaves its recorded gate decision alone.

    The decision recorded on a version is what approves it to score and serve
    (:mod:`mlops_assets.ml.approval`). Re-evaluating the champion moves no alias, so a verdict
    that is not ``promote`` (a dry run, disabled gates, thresholds missed on newer rows) must
    not overwrite the record that promoted it and silently stop batch scoring and serving; the
    verdict stays in the report and the evaluation run.
    """
    return (
        current is not None
        and decision.action != "promote"
        and recorded_gate_action(current) == "promote"
    )


def should_promote(evaluation: EvaluationReport, current_champion: str | None) -> bool:
    """Whether the aliases must move: the gates said promote and the challenger is not already
    the champion (re-evaluating the champion promotes nothing)."""
    return (
        evaluation.decision.action == "promote"
        and current_champion != evaluation.challenger_version
    )


def decide_champion(
    evaluation: EvaluationReport,
    current_champion: str | None,
    promotion: PromotionResult | None = None,
) -> ChampionState:
    """The champion after this step (pure: no I/O).

    Args:
        evaluation: the challenger's report.
        current_champion: the ``@champion`` version before this step, if any.
        promotion: the alias move, when :func:`should_promote` said so and it happened.
    """
    name, decision = evaluation.model_name, evaluation.decision
    reasons = " ".join(decision.reasons)
    uri = f"models:/{name}@{CHAMPION}"
    if promotion is not None:
        return ChampionState(
            model_name=name,
            champion_version=promotion.version,
            champion_uri=uri,
            promoted=promotion.changed,
            previous_champion=promotion.previous_champion,
            reason=reasons,
        )
    if decision.action == "promote" and current_champion == evaluation.challenger_version:
        reason = f"v{current_champion} already is the champion: {reasons}"
    else:
        verb = "dry run: would promote" if decision.would_promote else "kept the champion"
        reason = f"{verb} ({decision.action}, mode {decision.mode}): {reasons}"
    return ChampionState(
        model_name=name,
        champion_version=current_champion,
        champion_uri=uri if current_champion else None,
        promoted=False,
        previous_champion=current_champion,
        reason=reason,
    )


def apply_promotion(registry: Registry, evaluation: EvaluationReport) -> ChampionState:
    """Read ``@champion``, promote the challenger if the gates said so, return the new state.

    The promotion expects the champion the challenger was compared with
    (``evaluation.champion_version``), so a champion that changed meanwhile is refused.

    Raises:
        PromotionError: the champion changed since the evaluation, or the lock timed out.
        RegistryError: the registry refused.
    """
    name = evaluation.model_name
    current = registry.alias_version(name, CHAMPION)
    current_version = current.version if current else None
    promotion = None
    if should_promote(evaluation, current_version):
        _require_recorded_promotion(registry, evaluation)
        promotion = registry.promote(
            name, evaluation.challenger_version, expected_champion=evaluation.champion_version
        )
    return decide_champion(evaluation, current_version, promotion)


def _require_recorded_promotion(registry: Registry, evaluation: EvaluationReport) -> None:
    """Refuse unless MLflow's own record of the gates on the challenger says ``promote``."""
    name, version = evaluation.model_name, evaluation.challenger_version
    recorded = recorded_gate_action(registry.get_version(name, version))
    if recorded != "promote":
        raise PromotionError(
            f"{name} v{version} was not promoted: the evaluation says promote but the gate "
            f"decision recorded on the version in MLflow is {recorded or 'missing'!r}",
            context={"model": name, "version": version, "recorded_gate_action": recorded},
            fix="re-run the evaluation (never edit evaluation state by hand); only versions the "
            "gates promoted can become @champion",
        )
