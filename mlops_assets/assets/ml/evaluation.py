"""Evaluation and promotion: challenger vs ``@champion`` on the same held-out rows, typed gates.

The work is done by the core (:mod:`mlops_assets.ml.promotion`); these assets wire the
resources, alert on a failed gate and attach the report to the UI.
"""

from collections.abc import Iterator
from typing import Any, cast

import dagster as dg

from mlops_assets.assets.keys import asset_key, group, tables
from mlops_assets.assets.ml.common import model_config, registered_name, run_tags
from mlops_assets.assets.ml.metadata import (
    GATE_CHECK,
    champion_metadata,
    evaluation_metadata,
    gate_check,
)
from mlops_assets.assets.ml.promotion_run_config import PromotionRunConfig
from mlops_assets.assets.ml.run_config import EvaluationRunConfigBase, evaluation_run_config
from mlops_assets.assets.run_config import run_config_metadata
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.engines.frames import LazyFrame
from mlops_assets.ml.decisions import ChampionState, EvaluationReport
from mlops_assets.ml.model_store import ModelVersionInfo
from mlops_assets.ml.pools import PROMOTION_POOL
from mlops_assets.resources.alerts import AlertsResource
from mlops_assets.resources.mlflow import MlflowResource


def build_evaluation_assets(uc: UseCaseConfig) -> list[dg.AssetsDefinition]:
    """``[uc, models, evaluation]`` and ``[uc, models, champion]``."""
    model_cfg = model_config(uc)
    refs = tables(uc)
    name = registered_name(uc)
    eval_key = asset_key(refs.evaluation)
    run_config_cls = evaluation_run_config(uc)

    @dg.asset(
        key=eval_key,
        ins={
            "challenger": dg.AssetIn(key=asset_key(refs.model)),
            "training_set": dg.AssetIn(key=asset_key(refs.training_set)),
        },
        check_specs=[_gate_check_spec(eval_key)],
        group_name=group(uc.name, "training"),
        io_manager_key="state_io",
        kinds={"mlflow"},
        owners=uc.owners or None,
        description=f"Evaluates the `{name}` version registered upstream and the current "
        f"@champion on the same held-out entities, logs ROC/PR/confusion plots, applies the "
        f"gates (mode `{model_cfg.gates.mode}`, primary metric `{model_cfg.gates.primary_metric}`) "
        "and records the decision on the model version.",
    )
    def _evaluate(
        context: dg.AssetExecutionContext,
        config: run_config_cls,  # type: ignore[valid-type]  # built per use case
        alerts: AlertsResource,
        mlflow: MlflowResource,
        challenger: ModelVersionInfo,
        training_set: LazyFrame,
    ) -> Iterator[Any]:
        from mlops_assets.ml.promotion import evaluate_challenger
        from mlops_assets.ml.registry import Registry

        run_config = cast(EvaluationRunConfigBase, config)
        registry = Registry(mlflow.settings(uc.name), lock_dir=mlflow.locks)
        chosen = run_config.challenger(registry, name, challenger)
        report = evaluate_challenger(
            registry, chosen, training_set, run_config.model(), run_tags(context)
        )
        run_config.tag(registry, report.mlflow_run_id)
        _alert_on_failed_gate(context, alerts, uc, report)
        yield gate_check(report)
        metadata = {
            **evaluation_metadata(report, mlflow.settings(uc.name), registry.client),
            **run_config_metadata(run_config),
        }
        yield dg.Output(report, metadata=metadata)

    @dg.asset(
        key=asset_key(refs.champion),
        ins={"evaluation": dg.AssetIn(key=eval_key)},
        pool=PROMOTION_POOL,  # one promotion at a time across runs and machines (limit 1)
        group_name=group(uc.name, "registry"),
        io_manager_key="state_io",
        kinds={"mlflow"},
        owners=uc.owners or None,
        description=f"Moves `{name}@challenger` then `@champion` to the evaluated version when "
        "the gates say promote (serialised: two promotions cannot race); otherwise keeps the "
        "champion and says why. Run config: `promotion: dry_run` (with a reason) records the "
        "verdict and moves nothing; `expected_challenger` pins the version it may promote.",
    )
    def _champion(
        context: dg.AssetExecutionContext,
        config: PromotionRunConfig,
        mlflow: MlflowResource,
        evaluation: EvaluationReport,
    ) -> ChampionState:
        from mlops_assets.ml.promotion import apply_promotion, should_promote
        from mlops_assets.ml.registry import Registry

        config.check_challenger(evaluation)
        registry = Registry(mlflow.settings(uc.name), lock_dir=mlflow.locks)
        if config.dry_run:
            state = config.held_back(registry, evaluation)
        else:
            state = apply_promotion(registry, evaluation)
        config.tag(registry, evaluation.mlflow_run_id)
        context.add_output_metadata(
            {
                **champion_metadata(state, mlflow.settings(uc.name)),
                **(
                    {"would_promote": should_promote(evaluation, state.previous_champion)}
                    if config.dry_run
                    else {}
                ),
                **run_config_metadata(config),
            }
        )
        return state

    return [_evaluate, _champion]


def _gate_check_spec(eval_key: dg.AssetKey) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        GATE_CHECK,
        asset=eval_key,
        description="The challenger passed the promotion gates (WARN when it did not: "
        "the champion is kept).",
    )


def _alert_on_failed_gate(
    context: dg.AssetExecutionContext,
    alerts: AlertsResource,
    uc: UseCaseConfig,
    report: EvaluationReport,
) -> None:
    """A ``gate_failed`` alert when enabled or dry-run gates refused the challenger."""
    decision = report.decision
    if decision.passed or decision.mode == "disabled":
        return
    alerts.notify(
        context.log,
        uc.monitoring.alerts,
        event="gate_failed",
        severity="warning" if decision.action == "reject" else "info",
        title=f"{uc.name}: {report.model_name} v{report.challenger_version} failed the "
        "promotion gates",
        message=" ".join(decision.reasons),
        facts={
            "use_case": uc.name,
            "model": report.model_name,
            "version": report.challenger_version,
            "champion": report.champion_version or "none",
            "gate_mode": decision.mode,
        },
    )
