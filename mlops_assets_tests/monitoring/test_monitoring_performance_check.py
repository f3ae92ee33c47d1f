"""One day of model quality as the performance asset runs it: labels joined to predictions on
their keys (lazily, from real Delta tables), scored against the champion's baseline."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from sklearn import metrics as skm

from mlops_assets.config.monitoring import PerformanceConfig
from mlops_assets.engines.frames import lazy
from mlops_assets.monitoring.performance_check import PerformanceOutcome, check_performance
from mlops_assets.storage.lakehouse import LocalLakehouse, TableRef

KEYS = ["customer_id", "event_ts"]
DAY = "2026-03-09"
CONFIG = PerformanceConfig(
    metrics=["roc_auc", "f1", "accuracy"], max_degradation={"roc_auc": 0.05}, min_labelled_rows=100
)


def _tables(tmp_path: Path, n: int, *, flip: bool = False) -> tuple[object, object, pl.DataFrame]:
    """Predictions of ``n`` observations, labels for 80% of them plus 30 unknown ones."""
    rng = np.random.default_rng(5)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    ids = [f"C{i:05d}" for i in range(n)]
    times = [start + timedelta(hours=i) for i in range(n)]
    churn = rng.random(n) < 0.3
    probability = 1 / (1 + np.exp(-(np.where(churn, 1.2, -1.2) + rng.normal(0, 1, n))))
    predictions = pl.DataFrame(
        {
            "customer_id": ids,
            "event_ts": times,
            "prediction": np.where(probability >= 0.5, "Yes", "No"),
            "probability": probability,
            "model_version": "4",
        }
    )
    truth = churn if not flip else ~churn
    labelled = pl.DataFrame(
        {"customer_id": ids, "event_ts": times, "churn": np.where(truth, "Yes", "No")}
    ).sample(fraction=0.8, seed=1)
    unknown = pl.DataFrame(
        {
            "customer_id": [f"X{i:05d}" for i in range(30)],
            "event_ts": times[:30],
            "churn": ["Yes"] * 30,
        }
    )
    labels = pl.concat([labelled, unknown])
    house = LocalLakehouse(tmp_path)
    stored = []
    for name, frame in (("labels", labels), ("predictions", predictions)):
        ref = TableRef(use_case="uc", layer="monitoring_test", name=name)
        house.write(house.table_location(ref), lazy(frame), partitions=[DAY])
        stored.append(house.read_table(ref, [DAY]))
    joined = labelled.join(predictions, on=KEYS)
    return stored[0], stored[1], joined


def _check(labels: object, predictions: object, baseline: dict[str, float]) -> PerformanceOutcome:
    return check_performance(
        labels,
        predictions,
        keys=KEYS,
        label_column="churn",
        task="classification",
        baseline=baseline,
        config=CONFIG,
        window=DAY,
        model_version="4",
        positive_label="Yes",
    )


def test_metrics_are_computed_on_the_joined_rows_only(tmp_path: Path) -> None:
    labels, predictions, joined = _tables(tmp_path, 600)
    y = joined["churn"].to_numpy() == "Yes"
    auc = skm.roc_auc_score(y, joined["probability"].to_numpy())
    outcome = _check(labels, predictions, {"roc_auc": auc + 0.01})
    row = outcome.window
    assert (row.window, row.model_version, row.status, row.degraded) == (DAY, "4", "ok", False)
    assert row.n_labelled == joined.height == 480
    assert row.labels_received == 480 + 30  # unknown observations arrive but are not scored
    assert row.metrics["roc_auc"] == pytest.approx(auc, abs=1e-12)
    hard = joined["probability"].to_numpy() >= 0.5
    assert row.metrics["accuracy"] == pytest.approx(skm.accuracy_score(y, hard), abs=1e-12)
    assert row.baseline == {"roc_auc": pytest.approx(auc + 0.01)}
    assert outcome.result.metrics == row.metrics


def test_flipped_labels_degrade_with_a_reason(tmp_path: Path) -> None:
    labels, predictions, joined = _tables(tmp_path, 600, flip=True)
    outcome = _check(labels, predictions, {"roc_auc": 0.8})
    assert outcome.window.status == "degraded" and outcome.window.degraded
    assert outcome.window.metrics["roc_auc"] < 0.5
    (reason,) = [r for r in outcome.window.reasons if r.startswith("roc_auc fell from 0.8000")]
    assert f"on {joined.height:,} labelled rows" in reason


def test_too_few_labels_is_no_verdict(tmp_path: Path) -> None:
    labels, predictions, _ = _tables(tmp_path, 100)  # 80 labelled < 100 required
    outcome = _check(labels, predictions, {"roc_auc": 0.8})
    assert outcome.window.status == "insufficient_data"
    assert (outcome.window.n_labelled, outcome.window.metrics) == (80, {})
