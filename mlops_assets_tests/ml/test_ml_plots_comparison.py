"""Challenger and champion on one ROC and one precision-recall figure, logged to the run."""

from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from mlops_assets.ml.metrics import Predictions
from mlops_assets.ml.plots import COMPARISON_DIR, comparison_figures, log_comparison
from mlops_assets.ml.tracking import MlflowSettings, RunTags, start_run


def _models() -> tuple[np.ndarray, dict[str, Predictions]]:
    rng = np.random.default_rng(11)
    y = (rng.random(600) < 0.3).astype(int)
    out = {}
    for name, noise in (("challenger", 0.8), ("champion", 2.0)):
        p = 1 / (1 + np.exp(-(np.where(y == 1, 1.2, -1.2) + rng.normal(0, noise, y.size))))
        out[name] = Predictions(prediction=(p >= 0.5).astype(int), probability=p)
    return y, out


def _legend(figure: Any) -> list[str]:
    legend = figure.axes[0].get_legend()
    assert legend is not None
    return [t.get_text() for t in legend.get_texts()]


def test_both_models_are_overlaid_with_their_scores() -> None:
    y, models = _models()
    figures = comparison_figures(y, models)
    assert set(figures) == {"roc_curve.png", "precision_recall_curve.png", "confusion_matrix.png"}
    roc, pr = (_legend(figures[f]) for f in ("roc_curve.png", "precision_recall_curve.png"))
    for name, predictions in models.items():
        auc = roc_auc_score(y, predictions.probability)
        ap = average_precision_score(y, predictions.probability)
        assert any(t.startswith(name) and f"{auc:.2f}" in t for t in roc), roc
        assert any(t.startswith(name) and f"{ap:.2f}" in t for t in pr), pr
    matrix = figures["confusion_matrix.png"].axes[0]
    assert "challenger" in matrix.get_title()
    cells = sorted(int(t.get_text()) for t in matrix.texts)
    challenger = models["challenger"].prediction
    expected = [int(((y == a) & (challenger == b)).sum()) for a in (0, 1) for b in (0, 1)]
    assert cells == sorted(expected)


def test_logged_to_the_active_run_for_binary_models_only(settings: MlflowSettings) -> None:
    import mlflow

    y, models = _models()
    with start_run(settings, "evaluate", RunTags(dagster_run_id="r", asset_key="a")) as run:
        paths = log_comparison("binary", y, models)
        assert log_comparison("regression", y, models) == []
    assert paths == [
        f"{COMPARISON_DIR}/{name}"
        for name in ("roc_curve.png", "precision_recall_curve.png", "confusion_matrix.png")
    ]
    client = mlflow.MlflowClient(settings.tracking_uri)
    logged = sorted(f.path for f in client.list_artifacts(run.info.run_id, COMPARISON_DIR))
    assert logged == sorted(paths)


def test_the_evaluation_page_embeds_the_overlaid_plots(settings: MlflowSettings) -> None:
    import dagster as dg
    import mlflow

    from mlops_assets.assets.ml.metadata import evaluation_plots, image_markdown

    y, models = _models()
    with start_run(settings, "evaluate", RunTags(dagster_run_id="r", asset_key="a")) as run:
        log_comparison("binary", y, models)
    client = mlflow.MlflowClient(settings.tracking_uri)
    run_id = run.info.run_id
    bare = settings.model_copy(update={"ui_url": None})
    assert evaluation_plots(client, bare, run_id) == {}  # no UI configured: no links
    ui = settings.model_copy(update={"ui_url": "http://127.0.0.1:5000"})
    plots = evaluation_plots(client, ui, run_id)
    assert plots == {
        title: f"http://127.0.0.1:5000/get-artifact?path=evaluation%2Fcomparison%2F{file}"
        f"&run_uuid={run_id}"
        for title, file in (
            ("confusion matrix", "confusion_matrix.png"),
            ("precision recall curve", "precision_recall_curve.png"),
            ("roc curve", "roc_curve.png"),
        )
    }
    markdown = image_markdown(plots)
    assert isinstance(markdown, dg.MarkdownMetadataValue)
    assert all(f"![{title}]({url})" in str(markdown.value) for title, url in plots.items())
