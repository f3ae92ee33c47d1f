"""Batch inference: one predictions partition per day, scored by the champion at run time."""

from pathlib import Path

import dagster as dg
import mlflow
import numpy as np
import polars as pl

from mlops_assets_tests.assets.ml.conftest import Retrained
from mlops_assets_tests.assets.ml.lifecycle_helpers import (
    FEATURES_KEY,
    MODEL,
    PREDICTIONS_KEY,
    TrainedBase,
    copy_data_dir,
    defs_for,
    metadata,
    read_lake,
    run_job,
    step_error,
)
from mlops_assets_tests.assets.ml.registry_helpers import (
    churn_probability,
    load_model,
    model_config,
)

COLUMNS = [
    "customer_id",
    "event_ts",
    "prediction",
    "probability",
    "model_name",
    "model_version",
    "model_alias",
    "scored_at",
]


def test_every_day_has_predictions_with_provenance(trained_base: TrainedBase) -> None:
    data_dir = trained_base.data_dir
    model = load_model(data_dir, "1")
    for day in trained_base.days:
        predictions = read_lake(data_dir, PREDICTIONS_KEY, day)
        features = read_lake(data_dir, FEATURES_KEY, day)
        assert predictions.columns == COLUMNS
        assert predictions.height == features.height > 0
        assert predictions.select("customer_id", "event_ts").equals(
            features.select("customer_id", "event_ts")
        )
        assert predictions["probability"].is_between(0.0, 1.0).all()
        assert predictions["model_name"].unique().to_list() == [MODEL]
        assert predictions["model_version"].unique().to_list() == ["1"]
        assert predictions["model_alias"].unique().to_list() == ["champion"]
        assert predictions.schema["scored_at"] == pl.Datetime("us", "UTC")
        assert predictions["scored_at"].n_unique() == 1
        expected = churn_probability(model, features)
        np.testing.assert_allclose(predictions["probability"].to_numpy(), expected, atol=1e-12)
        assert (predictions["prediction"].to_numpy() == (expected > 0.5)).all()
    assert model_config().entity_key == "customer_id"


def test_inference_resolves_the_champion_at_run_time(
    promoted_copy: Retrained, trained_base: TrainedBase, tmp_path: Path
) -> None:
    data_dir = copy_data_dir(promoted_copy.data_dir, tmp_path)
    day, other = trained_base.days[2], trained_base.days[3]
    assert read_lake(data_dir, PREDICTIONS_KEY, day)["model_version"].unique().to_list() == ["1"]
    # The step must use the resource's registry, not whatever this process used last.
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'missing' / 'elsewhere.db'}")
    mlflow.set_registry_uri(f"sqlite:///{tmp_path / 'missing' / 'elsewhere.db'}")
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_job(defs_for(data_dir), "churn_batch_inference", instance, partition=day)
    assert result.success, step_error(result)
    assert metadata(result, PREDICTIONS_KEY)["model_version"] == 2
    rescored = read_lake(data_dir, PREDICTIONS_KEY, day)
    assert rescored["model_version"].unique().to_list() == ["2"]
    assert rescored.height == read_lake(data_dir, FEATURES_KEY, day).height
    # the other partitions are untouched
    assert read_lake(data_dir, PREDICTIONS_KEY, other)["model_version"].unique().to_list() == ["1"]
    assert not (tmp_path / "missing").exists()
