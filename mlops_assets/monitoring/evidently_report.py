"""The Evidently HTML drift report, and the only module that knows Evidently's output format.

Evidently renders a rich, self-contained HTML page; it is slow on large frames (seconds per
100k rows), so it gets a bounded sample of each side. The verdict of record comes from
:func:`mlops_assets.monitoring.statistics.compute_drift` on all current rows; the
:class:`DriftResult` returned here describes the sample shown in the report.
"""

from pathlib import Path
from typing import Any

import polars as pl

from mlops_assets.config.monitoring import DriftConfig
from mlops_assets.errors import MonitoringError, SchemaMismatchError
from mlops_assets.monitoring.columns import DEFAULT_THRESHOLDS
from mlops_assets.monitoring.profile import category_strings
from mlops_assets.monitoring.schema import ColumnDrift, DriftResult, ResolvedMethod
from mlops_assets.storage.atomic import replace_file

# Evidently 0.7.23 names a ValueDrift method by its display name when it picked it ("auto") and
# by its registered name when it was given one.
_EVIDENTLY_METHODS: dict[str, ResolvedMethod] = {
    "Wasserstein distance (normed)": "wasserstein",
    "wasserstein": "wasserstein",
    "K-S p_value": "ks",
    "ks": "ks",
    "Jensen-Shannon distance": "jensenshannon",
    "jensenshannon": "jensenshannon",
    "chi-square p_value": "chisquare",
    "chisquare": "chisquare",
    "Z-test p_value": "ztest",
    "z": "ztest",
    "PSI": "psi",
    "psi": "psi",
}
_TO_EVIDENTLY = {"ztest": "z"}


def render_report(
    reference: pl.DataFrame,
    current: pl.DataFrame,
    numeric: list[str],
    categorical: list[str],
    out_html: Path,
    sample_size: int = 5_000,
    seed: int = 0,
    config: DriftConfig | None = None,
) -> DriftResult:
    """Run Evidently's ``DataDriftPreset`` on bounded samples and write the HTML report.

    ``config`` passes the drift share and per-column methods/thresholds on to Evidently
    (``psi`` there is Evidently's own PSI). The HTML is written atomically to ``out_html``.

    Raises:
        SchemaMismatchError: a column is missing on either side.
        MonitoringError: Evidently failed or returned a format this module does not know.
    """
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    cfg = config or DriftConfig()
    columns = numeric + categorical
    for side, frame in (("reference", reference), ("current", current)):
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise SchemaMismatchError(
                f"The {side} frame lacks columns of the drift report.",
                context={"side": side, "missing": missing},
                fix="Pass the same feature columns on both sides.",
            )
    ref = _prepare(reference, numeric, categorical, sample_size, seed)
    cur = _prepare(current, numeric, categorical, sample_size, seed)
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
    preset = DataDriftPreset(
        columns=columns, drift_share=cfg.drift_share, **_method_options(cfg, columns)
    )
    try:
        snapshot = Report([preset], include_tests=True).run(
            Dataset.from_pandas(cur, data_definition=definition),
            Dataset.from_pandas(ref, data_definition=definition),
        )
        replace_file(out_html, lambda tmp: snapshot.save_html(str(tmp)))
        payload = snapshot.dict()
    except (ValueError, TypeError, KeyError) as exc:
        raise MonitoringError(
            "Evidently could not build the drift report.",
            context={"error": f"{type(exc).__name__}: {exc}", "columns": len(columns)},
            fix="Check that numeric columns hold numbers and that no column is entirely empty.",
        ) from exc
    return _to_result(payload, set(numeric), cfg.drift_share, ref.shape[0], cur.shape[0])


def _prepare(
    frame: pl.DataFrame, numeric: list[str], categorical: list[str], size: int, seed: int
) -> Any:
    sample = frame if frame.height <= size else frame.sample(n=size, seed=seed)
    data = [sample.get_column(c).cast(pl.Float64) for c in numeric]
    data += [category_strings(sample.get_column(c)) for c in categorical]
    return pl.DataFrame(data).to_pandas()


def _method_options(cfg: DriftConfig, columns: list[str]) -> dict[str, Any]:
    def name(method: str) -> str | None:
        return None if method == "auto" else _TO_EVIDENTLY.get(method, method)

    per_method = {
        c: name(o.method) for c, o in cfg.per_column.items() if c in columns and o.method != "auto"
    }
    per_threshold = {
        c: o.threshold for c, o in cfg.per_column.items() if c in columns and o.threshold
    }
    return {
        "num_method": name(cfg.default_numeric_method),
        "cat_method": name(cfg.default_categorical_method),
        "per_column_method": per_method or None,
        "per_column_threshold": per_threshold or None,
    }


def _to_result(
    payload: dict[str, Any], numeric: set[str], share: float, n_ref: int, n_cur: int
) -> DriftResult:
    """Convert ``snapshot.dict()`` of a DataDriftPreset run into our schema."""
    failed = {
        t["metric_config"]["metric_id"]
        for t in payload.get("tests", [])
        if t.get("id") == "drift" and t.get("status") == "FAIL"
    }
    columns: list[ColumnDrift] = []
    for metric in payload["metrics"]:
        config = metric["config"]
        if not str(config.get("type", "")).endswith("ValueDrift"):
            continue
        method = _EVIDENTLY_METHODS.get(str(config.get("method")))
        if method is None:
            raise MonitoringError(
                "Evidently reported a drift method this version does not map.",
                context={"method": config.get("method"), "column": config.get("column")},
                fix="Pin evidently==0.7.23 or extend _EVIDENTLY_METHODS.",
            )
        threshold = config.get("threshold")
        columns.append(
            ColumnDrift(
                column=str(config["column"]),
                column_type="numeric" if config["column"] in numeric else "categorical",
                method=method,
                statistic=float(metric["value"]),
                threshold=float(threshold if threshold is not None else DEFAULT_THRESHOLDS[method]),
                drifted=metric["id"] in failed,
                p_value=float(metric["value"]) if method in ("ks", "chisquare", "ztest") else None,
            )
        )
    drifted = sum(c.drifted for c in columns)
    drift_share = drifted / len(columns) if columns else 0.0
    dataset_drift = bool(columns) and drift_share >= share
    return DriftResult(
        status="drift" if dataset_drift else "ok",
        drift_share=drift_share,
        dataset_drift=dataset_drift,
        n_reference=n_ref,
        n_current=n_cur,
        columns=columns,
        share_threshold=share,
        engine="evidently",
    )
