"""Evaluation and promotion: challenger vs ``@champion`` on the same held-out rows, typed gates."""

from collections.abc import Iterator
from typing import Any

import dagster as dg

from mlops_assets.assets.keys import group, key
from mlops_assets.assets.ml.common import model_config, registered_name, run_tags
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.engines.frames import LazyFrame, to_polars
from mlops_assets.ml.decisions import ChampionState, EvaluationReport
from mlops_assets.ml.model_store import ModelVersionInfo
from mlops_assets.resources.alerts import AlertsResource
from mlops_assets.resources.metadata import markdown_table
from mlops_assets.resources.mlflow import MlflowResource

GATE_CHECK = "promotion_gate"


def build_evaluation_assets(uc: UseCaseConfig) -> list[dg.AssetsDefinition]:
    """``[uc, models, evaluation]`` and ``[uc, models, champion]``."""
    config = model_config(uc)
    assert uc.training_set is not None
    name = registered_name(uc)
    model_key = key(uc.name, "models", config.name)
    eval_key = key(uc.name, "models", "evaluation")

    @dg.asset(
        key=eval_key,
        ins={
            "challenger": dg.AssetIn(key=model_key),
            "training_set": dg.AssetIn(key=key(uc.name, "features", uc.training_set.name)),
        },
        check_specs=[
            dg.AssetCheckSpec(
                GATE_CHECK,
                asset=eval_key,
                description="The challenger passed the promotion gates (WARN when it did not: "
                "the champion is kept).",
            )
        ],
        group_name=group(uc.name, "training"),
        io_manager_key="state_io",
        kinds={"mlflow"},
        owners=uc.owners or None,
        description=f"Evaluates the newest `{name}` version and the current @champion on the "
        f"same held-out entities, logs ROC/PR/confusion plots, applies the gates "
        f"(mode `{config.gates.mode}`, primary metric `{config.gates.primary_metric}`) and "
        "records the decision on the model version.",
    )
    def _evaluate(
        context: dg.AssetExecutionContext,
        alerts: AlertsResource,
        mlflow: MlflowResource,
        challenger: ModelVersionInfo,
        training_set: LazyFrame,
    ) -> Iterator[Any]:
        from mlops_assets.ml.evaluation import compare
        from mlops_assets.ml.gates import decide
        from mlops_assets.ml.registry import Registry
        from mlops_assets.ml.split import split_frame
        from mlops_assets.ml.tracking import start_run

        settings = mlflow.settings(uc.name)
        registry = Registry(settings, lock_dir=mlflow.locks)
        test = split_frame(to_polars(training_set), config.entity_key, config.split)["test"]
        champion = registry.alias_version(name, "champion")
        if champion is not None and champion.version == challenger.version:
            champion = None  # re-evaluating the champion itself: compare with nothing
        with start_run(
            settings, f"evaluate {name} v{challenger.version}", run_tags(context)
        ) as run:
            comparison = compare(
                challenger.model_uri, champion.model_uri if champion else None, test, config
            )
            run_id = run.info.run_id
        champion_metrics = comparison.champion.metrics if comparison.champion else None
        decision = decide(comparison.challenger.metrics, champion_metrics, config.gates)
        registry.record_decision(name, challenger.version, decision, comparison.challenger.metrics)
        if not decision.passed and decision.mode != "disabled":
            alerts.notify(
                context.log,
                uc.monitoring.alerts,
                event="gate_failed",
                severity="warning" if decision.action == "reject" else "info",
                title=f"{uc.name}: {name} v{challenger.version} failed the promotion gates",
                message=" ".join(decision.reasons),
                facts={
                    "use_case": uc.name,
                    "model": name,
                    "version": challenger.version,
                    "champion": champion.version if champion else "none",
                    "gate_mode": decision.mode,
                },
            )
        report = EvaluationReport(
            model_name=name,
            challenger_version=challenger.version,
            champion_version=champion.version if champion else None,
            challenger_metrics=comparison.challenger.metrics,
            champion_metrics=champion_metrics,
            n_test=comparison.challenger.n_rows,
            decision=decision,
            mlflow_run_id=run_id,
        )
        metrics = sorted(comparison.challenger.metrics)
        rows = [
            (m, comparison.challenger.metrics[m], (champion_metrics or {}).get(m, "-"))
            for m in metrics
        ]
        yield dg.AssetCheckResult(
            check_name=GATE_CHECK,
            passed=decision.passed,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"action": decision.action, "reasons": "\n".join(decision.reasons)},
        )
        yield dg.Output(
            report,
            metadata={
                "challenger_version": int(challenger.version),
                "champion_version": champion.version if champion else "none",
                "decision": decision.action,
                "gate_mode": decision.mode,
                "gate_passed": decision.passed,
                "reasons": dg.MetadataValue.md("\n".join(f"- {r}" for r in decision.reasons)),
                "metrics": markdown_table(["metric", "challenger", "champion"], rows),
                **{f"test_{m}": float(comparison.challenger.metrics[m]) for m in metrics},
                "n_test": report.n_test,
            },
        )

    @dg.asset(
        key=key(uc.name, "models", "champion"),
        ins={"evaluation": dg.AssetIn(key=eval_key)},
        group_name=group(uc.name, "registry"),
        io_manager_key="state_io",
        kinds={"mlflow"},
        owners=uc.owners or None,
        description=f"Moves `{name}@challenger` then `@champion` to the evaluated version when "
        "the gates say promote (serialised: two promotions cannot race); otherwise keeps the "
        "champion and says why.",
    )
    def _champion(
        context: dg.AssetExecutionContext, mlflow: MlflowResource, evaluation: EvaluationReport
    ) -> ChampionState:
        from mlops_assets.ml.registry import Registry

        registry = Registry(mlflow.settings(uc.name), lock_dir=mlflow.locks)
        decision = evaluation.decision
        current = registry.alias_version(name, "champion")
        if (
            decision.action == "promote"
            and current is not None
            and current.version == evaluation.challenger_version
        ):
            # Re-evaluating the champion itself (compared with nothing): nothing to move.
            state = ChampionState(
                model_name=name,
                champion_version=current.version,
                champion_uri=f"models:/{name}@champion",
                promoted=False,
                previous_champion=current.version,
                reason=f"v{current.version} already is the champion: " + " ".join(decision.reasons),
            )
        elif decision.action == "promote":
            result = registry.promote(
                name, evaluation.challenger_version, expected_champion=evaluation.champion_version
            )
            state = ChampionState(
                model_name=name,
                champion_version=result.version,
                champion_uri=f"models:/{name}@champion",
                promoted=result.changed,
                previous_champion=result.previous_champion,
                reason=" ".join(decision.reasons),
            )
        else:
            verb = "dry run: would promote" if decision.would_promote else "kept the champion"
            state = ChampionState(
                model_name=name,
                champion_version=current.version if current else None,
                champion_uri=f"models:/{name}@champion" if current else None,
                promoted=False,
                previous_champion=current.version if current else None,
                reason=f"{verb} ({decision.action}, mode {decision.mode}): "
                + " ".join(decision.reasons),
            )
        context.add_output_metadata(
            {
                "champion_version": state.champion_version or "none",
                "promoted": state.promoted,
                "previous_champion": state.previous_champion or "none",
                "reason": state.reason,
            }
        )
        return state

    return [_evaluate, _champion]
