"""Whole candidates through the lifecycle on a real MLflow server: bad inputs move no alias."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from mlops_assets.errors import (
    DataValidationError,
    MLOpsError,
    SchemaMismatchError,
    TrainingError,
)
from mlops_assets.ml.lifecycle import run_candidate
from mlops_assets.ml.registry import CHAMPION, Registry
from mlops_assets.ml.tracking import MlflowSettings, RunTags, start_run
from mlops_assets_tests.ml.conftest import dummy_flavor, model_config

TAGS = RunTags(dagster_run_id="run-lifecycle", asset_key="churn/model/candidate")


def _with_nan(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(
        tenure_months=pl.when(pl.int_range(pl.len()) < 4)
        .then(float("nan"))
        .otherwise(pl.col("tenure_months"))
    )


BAD_INPUTS: dict[str, tuple[type[MLOpsError], str, Callable[[pl.DataFrame], pl.DataFrame], Any]] = {
    "training_failure": (TrainingError, "fitting", lambda df: df, {"learning_rate": -1.0}),
    "missing_label": (SchemaMismatchError, r"churn \(label\)", lambda df: df.drop("churn"), None),
    "single_class": (
        DataValidationError,
        "single class",
        lambda df: df.with_columns(churn=pl.lit("No")),
        None,
    ),
    "nan_features": (DataValidationError, "tenure_months: 4 NaN", _with_nan, None),
}


@pytest.mark.slow
def test_ml_lifecycle_champion_survives_bad_inputs_and_weak_models(
    server_settings: MlflowSettings,
    churn_splits: dict[str, pl.DataFrame],
    model_name: str,
    tmp_path: Path,
) -> None:
    import mlflow

    registry = Registry(server_settings, lock_dir=tmp_path)
    train, validation, test = (churn_splits[k] for k in ("train", "validation", "test"))
    config = model_config()
    with start_run(server_settings, "first", TAGS):
        first = run_candidate(
            train, validation, test, config, server_settings, registry, registered_name=model_name
        )
    assert first.decision.first_model and first.promotion is not None
    client = mlflow.MlflowClient(server_settings.tracking_uri)

    def state() -> tuple[str | None, int]:
        champion = registry.alias_version(model_name, CHAMPION)
        count = len(client.search_model_versions(f"name = '{model_name}'"))
        return (None if champion is None else champion.version), count

    before = state()
    assert before == (first.version.version, 1)
    for case, (error, message, corrupt, override) in BAD_INPUTS.items():
        with (
            start_run(server_settings, case, TAGS),
            pytest.raises(error, match=message),
        ):
            run_candidate(
                corrupt(train),
                validation,
                test,
                config,
                server_settings,
                registry,
                params_override=override,
                registered_name=model_name,
            )
        assert state() == before, case  # no alias moved, nothing registered

    weak_config = model_config(flavor=dummy_flavor())
    with start_run(server_settings, "weak", TAGS):
        weak = run_candidate(
            train,
            validation,
            test,
            weak_config,
            server_settings,
            registry,
            registered_name=model_name,
        )
    assert weak.decision.action == "reject" and weak.promotion is None
    assert weak.previous_champion is not None
    assert weak.previous_champion.version == first.version.version
    champion, count = state()
    assert (champion, count) == (first.version.version, 2)  # registered, judged, not promoted
    rejected = registry.get_version(model_name, weak.version.version)
    assert rejected.tags["gate.action"] == "reject"
    assert rejected.aliases == ["challenger"]
