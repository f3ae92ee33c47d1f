"""What the model lifecycle assets show in the Dagster UI: metrics as numbers, links, decisions."""

import json
from typing import Any

import dagster as dg

from mlops_assets.ml.decisions import ChampionState, EvaluationReport
from mlops_assets.ml.training import TrainingResult
from mlops_assets.resources.metadata import markdown_table
from mlops_assets.resources.serving import EndpointState

GATE_CHECK = "promotion_gate"
"""The asset check on the evaluation: did the challenger pass the promotion gates?"""


def training_metadata(result: TrainingResult, run_id: str, run_url: str | None) -> dict[str, Any]:
    """Validation metrics (table and numbers), parameters, split sizes and the MLflow run."""
    metadata: dict[str, Any] = {
        "validation_metrics": markdown_table(
            ["metric", "value"], sorted(result.validation_metrics.items())
        ),
        **{f"validation_{k}": float(v) for k, v in result.validation_metrics.items()},
        "params": json.dumps(result.params, sort_keys=True, default=str),
        "n_train": result.n_train,
        "n_validation": result.n_validation,
        "search_trials": len(result.trials),
        "mlflow_run_id": run_id,
    }
    if run_url:
        metadata["mlflow_run"] = dg.MetadataValue.url(run_url)
    return metadata


def gate_check(report: EvaluationReport) -> dg.AssetCheckResult:
    """The promotion gate as an asset check (WARN: a rejected challenger keeps the champion)."""
    decision = report.decision
    return dg.AssetCheckResult(
        check_name=GATE_CHECK,
        passed=decision.passed,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"action": decision.action, "reasons": "\n".join(decision.reasons)},
    )


def evaluation_metadata(report: EvaluationReport) -> dict[str, Any]:
    """Both versions, the decision with its reasons, and the metrics side by side."""
    decision = report.decision
    challenger = report.challenger_metrics
    champion = report.champion_metrics or {}
    metrics = sorted(challenger)
    rows = [(m, challenger[m], champion.get(m, "-")) for m in metrics]
    return {
        "challenger_version": int(report.challenger_version),
        "champion_version": report.champion_version or "none",
        "decision": decision.action,
        "gate_mode": decision.mode,
        "gate_passed": decision.passed,
        "reasons": dg.MetadataValue.md("\n".join(f"- {r}" for r in decision.reasons)),
        "metrics": markdown_table(["metric", "challenger", "champion"], rows),
        **{f"test_{m}": float(challenger[m]) for m in metrics},
        "n_test": report.n_test,
        "mlflow_run_id": report.mlflow_run_id,
    }


def champion_metadata(state: ChampionState) -> dict[str, Any]:
    """The champion after the step, whether it moved and why."""
    return {
        "champion_version": state.champion_version or "none",
        "promoted": state.promoted,
        "previous_champion": state.previous_champion or "none",
        "reason": state.reason,
    }


def endpoint_metadata(state: EndpointState, url: str, n_rows: int) -> dict[str, Any]:
    """The served version, where it answers (or that it was stopped) and the smoke test."""
    return {
        "model_version": int(state.model_version),
        "endpoint": dg.MetadataValue.url(url + "/invocations")
        if state.running
        else "stopped after the smoke test",
        "smoke_test_latency_ms": state.smoke_test_latency_ms,
        "smoke_test_rows": n_rows,
        **({"server_log": dg.MetadataValue.path(state.log_path)} if state.log_path else {}),
    }
