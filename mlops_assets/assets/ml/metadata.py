"""What the model lifecycle assets show in the Dagster UI: metrics as numbers, links, decisions."""

from typing import Any

import dagster as dg
from pydantic import BaseModel, ConfigDict, Field

from mlops_assets.ml.decisions import ChampionState, EvaluationReport
from mlops_assets.ml.tracking import MlflowSettings, model_version_url
from mlops_assets.resources.metadata import markdown_table, rounded, rounded_all
from mlops_assets.resources.serving import EndpointState

GATE_CHECK = "promotion_gate"
"""The asset check on the evaluation: did the challenger pass the promotion gates?"""


class MlflowLinks(BaseModel):
    """Where a materialization's MLflow records are, as links the Dagster UI can open."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: str | None = Field(default=None, description="The MLflow run of the step.")
    run_url: str | None = Field(default=None, description="The run in the MLflow UI.")
    model_version_url: str | None = Field(
        default=None, description="The model version concerned, in the MLflow UI."
    )
    report_url: str | None = Field(default=None, description="An HTML report in the UI.")
    images: dict[str, str] = Field(
        default_factory=dict, description="Plot title -> URL of the image (run artifacts)."
    )


def link_metadata(links: MlflowLinks) -> dict[str, Any]:
    """The links as clickable metadata (entries without a URL are left out)."""
    metadata: dict[str, Any] = {}
    if links.run_url:
        metadata["mlflow_run"] = dg.MetadataValue.url(links.run_url)
    if links.model_version_url:
        metadata["mlflow_model_version"] = dg.MetadataValue.url(links.model_version_url)
    if links.run_id:
        metadata["mlflow_run_id"] = links.run_id
    return metadata


def version_links(
    settings: MlflowSettings | None, model: str, versions: dict[str, str | None]
) -> dict[str, Any]:
    """``<role>_model_version`` URL metadata for each named version that exists."""
    if settings is None:
        return {}
    metadata: dict[str, Any] = {}
    for role, version in versions.items():
        url = model_version_url(settings, model, version) if version else None
        if url:
            metadata[f"{role}_model_version"] = dg.MetadataValue.url(url)
    return metadata


def image_markdown(images: dict[str, str]) -> dg.MetadataValue:
    """Plots as Markdown images, each under its title."""
    return dg.MetadataValue.md(
        "\n\n".join(f"**{title}**\n\n![{title}]({url})" for title, url in images.items())
    )


def gate_check(report: EvaluationReport) -> dg.AssetCheckResult:
    """The promotion gate as an asset check (WARN: a rejected challenger keeps the champion)."""
    decision = report.decision
    verdict = (
        f"v{report.challenger_version} passed the gates ({decision.action})"
        if decision.passed
        else f"v{report.challenger_version} failed the gates ({decision.action}; the champion "
        "is kept)"
    )
    return dg.AssetCheckResult(
        check_name=GATE_CHECK,
        passed=decision.passed,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{verdict}: " + " ".join(decision.reasons)
        if decision.reasons
        else verdict + ".",
        metadata={"action": decision.action, "reasons": "\n".join(decision.reasons)},
    )


def evaluation_plots(client: Any, settings: MlflowSettings, run_id: str) -> dict[str, str]:
    """Image URLs of the evaluation run's plots: challenger and champion overlaid when both were
    evaluated (``evaluation/comparison``), else the challenger's own; empty without a UI URL."""
    from mlops_assets.ml.tracking import artifact_content_url

    for folder in ("evaluation/comparison", "evaluation/challenger"):
        files = [f.path for f in client.list_artifacts(run_id, folder) if f.path.endswith(".png")]
        if files:
            urls = {
                path.rsplit("/", 1)[-1].removesuffix(".png").replace("_", " "): (
                    artifact_content_url(settings, run_id, path)
                )
                for path in sorted(files)
            }
            return {title: url for title, url in urls.items() if url}
    return {}


def evaluation_metadata(
    report: EvaluationReport,
    settings: MlflowSettings | None = None,
    client: Any = None,
) -> dict[str, Any]:
    """Headline test metrics first (plotted in that order), both versions, the decision with
    its reasons, the metrics side by side, the plots and the MLflow links (``settings`` and an
    MLflow ``client`` give the links and plots)."""
    from mlops_assets.ml.tracking import run_url

    url, plots = None, {}
    if settings is not None and client is not None:
        experiment_id = client.get_run(report.mlflow_run_id).info.experiment_id
        url = run_url(settings, experiment_id, report.mlflow_run_id)
        plots = evaluation_plots(client, settings, report.mlflow_run_id)
    decision = report.decision
    challenger = report.challenger_metrics
    champion = report.champion_metrics or {}
    metrics = sorted(challenger)
    rows = [(m, challenger[m], champion.get(m, "-")) for m in metrics]
    return {
        **rounded_all({m: challenger[m] for m in metrics}, prefix="test_"),
        "challenger_version": int(report.challenger_version),
        "champion_version": report.champion_version or "none",
        "decision": decision.action,
        "gate_mode": decision.mode,
        "gate_passed": decision.passed,
        "reasons": dg.MetadataValue.md("\n".join(f"- {r}" for r in decision.reasons)),
        "metrics": markdown_table(["metric", "challenger", "champion"], rows),
        "n_test": report.n_test,
        **({"plots": image_markdown(plots)} if plots else {}),
        **link_metadata(MlflowLinks(run_id=report.mlflow_run_id, run_url=url)),
        **version_links(
            settings,
            report.model_name,
            {"challenger": report.challenger_version, "champion": report.champion_version},
        ),
    }


def champion_metadata(
    state: ChampionState, settings: MlflowSettings | None = None
) -> dict[str, Any]:
    """The champion after the step, whether it moved and why, with links to both versions."""
    return {
        "champion_version": state.champion_version or "none",
        "promoted": state.promoted,
        "previous_champion": state.previous_champion or "none",
        "reason": state.reason,
        **version_links(
            settings,
            state.model_name,
            {"champion": state.champion_version, "previous_champion": state.previous_champion},
        ),
    }


def endpoint_metadata(
    state: EndpointState, url: str, n_rows: int, settings: MlflowSettings | None = None
) -> dict[str, Any]:
    """The served version (linked), where it answers (or that it was stopped), the smoke test."""
    return {
        **version_links(settings, state.model_name, {"served": state.model_version}),
        "model_version": int(state.model_version),
        "endpoint": dg.MetadataValue.url(url + "/invocations")
        if state.running
        else "stopped after the smoke test",
        "smoke_test_latency_ms": rounded(state.smoke_test_latency_ms),
        "smoke_test_rows": n_rows,
        **({"server_log": dg.MetadataValue.path(state.log_path)} if state.log_path else {}),
    }
