"""The drift checks' words and numbers when a model has several outputs (multiclass: its class
and that class's probability): each output says whether it drifted, by its own statistic."""

from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl

from mlops_assets.assets.monitoring.reporting import drift_check_results
from mlops_assets.config.monitoring import DriftConfig
from mlops_assets.monitoring.drift_check import check_drift
from mlops_assets.monitoring.profile import build_profile
from mlops_assets.resources.metadata import rounded
from mlops_assets_tests.monitoring.conftest import CATEGORICAL, NUMERIC, make_frame

CONFIG = DriftConfig()
CLASSES = ["none", "minor", "major"]


def _outputs(n: int, seed: int, mix: list[float]) -> pl.DataFrame:
    """A multiclass model's outputs: the class (in ``mix``) and its probability (steady)."""
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {"prediction": rng.choice(CLASSES, n, p=mix), "probability": rng.uniform(0.4, 1.0, n)}
    )


def test_the_output_that_drifted_is_named_with_its_statistic(tmp_path: Path) -> None:
    inputs = make_frame(800, seed=1)
    reference = build_profile(inputs, NUMERIC, CATEGORICAL, CONFIG, seed=0)
    outputs = build_profile(
        _outputs(800, 2, [1 / 3, 1 / 3, 1 / 3]), ["probability"], ["prediction"], CONFIG, seed=0
    )
    outcome = check_drift(
        make_frame(800, seed=3),
        _outputs(800, 4, [0.6, 0.2, 0.2]),  # the class mix moved, the probabilities did not
        reference=reference,
        prediction_profile=outputs,
        config=CONFIG,
        window="2026-03-05",
        model_version="3",
        reports_dir=tmp_path,
        render_report=False,
    )
    assert outcome.predictions is not None
    by_name = {c.column: c for c in outcome.predictions.columns}
    assert by_name["prediction"].drifted and not by_name["probability"].drifted
    assert outcome.window.prediction_drift

    checks = {r.check_name: r for r in drift_check_results(outcome, CONFIG)}
    check = checks["prediction_drift"]
    assert not check.passed
    description = check.description or ""
    assert description.startswith("Predictions drifted: ")
    for column in by_name.values():
        state = "drifted" if column.drifted else "steady"
        assert (
            f"{column.column} {column.method} {column.statistic:.4g} against threshold "
            f"{column.threshold:.4g} ({state})"
        ) in description
    meta = check.metadata
    assert meta["drifted_columns"] == dg.MetadataValue.text("prediction")
    for column in by_name.values():
        assert column.statistic is not None
        value = meta[f"statistic_{column.column}"]
        assert isinstance(value, dg.FloatMetadataValue)
        assert value.value == rounded(column.statistic)
    # the stored series stays the first output's statistic
    first = outcome.predictions.columns[0].statistic
    assert first is not None and meta["statistic"] == dg.MetadataValue.float(rounded(first))
