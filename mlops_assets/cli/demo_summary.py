"""The plain-text summary ``mlops-assets demo`` prints: rows per table, quarantine reasons,
the model and its endpoint, the monitoring verdicts, check and run counts."""

from collections import Counter

import dagster as dg

from mlops_assets.cli.demo_outcome import DemoReport
from mlops_assets.cli.demo_window import window_row
from mlops_assets.config.ml import ModelConfig
from mlops_assets.config.project import ProjectConfig, local_environment
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.storage.lakehouse import Lakehouse, LocalLakehouse, TableRef
from mlops_assets.storage.tables import UseCaseTables


def summarise(project: ProjectConfig, report: DemoReport, defs: dg.Definitions) -> str:
    """Rows per table, quarantine reasons and check results, as plain text."""
    from mlops_assets.engines.frames import row_count

    uc = project.use_case(report.use_case)
    lakehouse = LocalLakehouse(local_environment(project).data_dir)
    names = UseCaseTables(uc)
    lines = [f"\nData root: {report.data_dir}", "\nRows per table:"]
    for ref in use_case_tables(defs, uc):
        if lakehouse.table_exists(ref):
            lines.append(f"  {ref!s:<44} {row_count(lakehouse.read_table(ref)):>9,}")
    lines.append("\nQuarantined rows and why:")
    for ds in uc.datasets:
        lines.extend(_quarantine_lines(lakehouse, names.quarantine(ds.name), ds.name))
    lines.extend(_model_summary(lakehouse, names))
    lines.extend(_monitoring_summary(lakehouse, names, report))
    failed = Counter(c for s in report.steps for c in s.checks_failed)
    passed = sum(s.checks_passed for s in report.steps)
    lines.append(f"\nAsset checks: {passed} passed, {sum(failed.values())} failed")
    for check, n in sorted(failed.items()):
        lines.append(f"  failed {n}x: {check}")
    ok = sum(s.success for s in report.steps)
    lines.append(f"\nRuns: {ok}/{len(report.steps)} succeeded")
    return "\n".join(lines)


def use_case_tables(defs: dg.Definitions, uc: UseCaseConfig) -> list[TableRef]:
    """The use case's tables: its assets (named as their keys say) and the landing-file
    accounts bronze keeps beside them."""
    from mlops_assets.assets.medallion.bronze import landing_files_ref

    keys = [list(k.path) for k in defs.resolve_all_asset_keys()]
    refs = [TableRef.from_path(k) for k in keys if len(k) == 3 and k[0] == uc.name]
    refs += [landing_files_ref(uc, ds) for ds in uc.datasets]
    return sorted(set(refs), key=lambda ref: ref.parts)


def _quarantine_lines(lakehouse: Lakehouse, ref: TableRef, dataset: str) -> list[str]:
    from mlops_assets.engines.frames import to_polars

    if not lakehouse.table_exists(ref):
        return []
    rows = to_polars(lakehouse.read_table(ref).select("_rule", "_reason"))
    lines: list[str] = []
    for rule, n in sorted(Counter(rows["_rule"].to_list()).items(), key=lambda kv: -kv[1]):
        example = rows.filter(rows["_rule"] == rule)["_reason"][0]
        lines.append(f"  {dataset:<10} {rule:<28} {n:>6}  e.g. {example[:70]}")
    return lines


def _model_summary(lakehouse: Lakehouse, names: UseCaseTables) -> list[str]:
    """Champion, gate decision and endpoint, from the state the lifecycle assets stored."""
    from mlops_assets.ml.decisions import ChampionState, EvaluationReport
    from mlops_assets.resources.serving import EndpointState

    if names.uc.model is None:
        return []
    lines: list[str] = []
    evaluation = lakehouse.state_path(names.evaluation)
    if evaluation.exists():
        report = EvaluationReport.model_validate_json(evaluation.read_text(encoding="utf-8"))
        metrics = ", ".join(f"{k}={v:.3f}" for k, v in sorted(report.challenger_metrics.items()))
        lines.append(f"\nModel {report.model_name} v{report.challenger_version}: {metrics}")
        lines.append(f"  gate: {report.decision.reasons[0]}")
    champion = lakehouse.state_path(names.champion)
    if champion.exists():
        champ = ChampionState.model_validate_json(champion.read_text(encoding="utf-8"))
        lines.append(f"  champion: v{champ.champion_version} ({champ.champion_uri})")
    endpoint = lakehouse.state_path(names.endpoint)
    if endpoint.exists():
        ep = EndpointState.model_validate_json(endpoint.read_text(encoding="utf-8"))
        lines.append(
            f"  served v{ep.model_version}: smoke test answered in "
            f"{ep.smoke_test_latency_ms:.0f} ms, {_answer_name(names.uc.model)} = "
            + ", ".join(f"{p:.2f}" for p in ep.smoke_test_predictions)
        )
    return lines


def _answer_name(model: ModelConfig) -> str:
    """What the smoke test's numbers are (see ``EndpointState.smoke_test_predictions``)."""
    if model.task == "binary":
        return f"P({model.label}={model.positive_label or '1'})"
    if model.task == "multiclass":
        return f"P(predicted {model.label})"
    return f"predicted {model.label}"


def _monitoring_summary(
    lakehouse: Lakehouse, names: UseCaseTables, report: DemoReport
) -> list[str]:
    """Per day: the drift share and verdict, the performance verdict; then the sensor."""
    if not lakehouse.table_exists(names.drift):
        return []
    lines = ["\nMonitoring per day (drift share, drift, performance):"]
    for day in report.days:
        drift = window_row(lakehouse, names.drift, day) or {}
        perf = window_row(lakehouse, names.performance, day) or {}
        share = drift.get("drift_share")
        shown = f"{float(share):.0%}" if isinstance(share, int | float) else "-"
        lines.append(
            f"  {day}  {shown:>5}  {drift.get('status', '-')!s:<10} {perf.get('status', '-')}"
        )
    if report.sensor_decision:
        lines.append(f"  {report.sensor_decision}")
    return lines
