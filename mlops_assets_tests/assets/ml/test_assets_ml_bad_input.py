"""Bad data at the asset level: typed errors, failed runs, and the champion keeps serving."""

from collections.abc import Callable
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from mlops_assets.storage.delta import remove_table, write_table
from mlops_assets_tests.assets.ml.lifecycle_helpers import (
    CHAMPION_KEY,
    EVALUATION_KEY,
    FEATURES_KEY,
    MODEL_KEY,
    PREDICTIONS_KEY,
    TRAINING_SET_KEY,
    TrainedBase,
    copy_base,
    defs_for,
    read_lake,
    run_job,
    step_error,
)
from mlops_assets_tests.assets.ml.registry_helpers import (
    alias_version,
    latest_version,
)

DAY_INDEX = 4


def _replace_table(data_dir: Path, key: dg.AssetKey, frame: pl.DataFrame, day: str | None) -> None:
    path = data_dir.joinpath("lakehouse", *key.path)
    remove_table(path)
    write_table(path, frame, partitions=[day] if day else None)


def _without_label(ts: pl.DataFrame) -> pl.DataFrame:
    return ts.drop("churn")


def _single_class(ts: pl.DataFrame) -> pl.DataFrame:
    return ts.with_columns(pl.lit("No").alias("churn"))


def _nan_features(ts: pl.DataFrame) -> pl.DataFrame:
    every_tenth = pl.int_range(pl.len()) % 10 == 0
    return ts.with_columns(
        pl.when(every_tenth)
        .then(float("nan"))
        .otherwise(pl.col("monthly_charges"))
        .alias("monthly_charges")
    )


@pytest.fixture(scope="module")
def bad_input_dir(trained_base: TrainedBase, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy of the base for the training failures (none of them may change the registry)."""
    return copy_base(trained_base, tmp_path_factory.mktemp("bad_input"))


@pytest.mark.parametrize(
    ("corrupt", "error", "mentions"),
    [
        (_without_label, "SchemaMismatchError", "churn (label)"),
        (_single_class, "DataValidationError", "single class"),
        (_nan_features, "DataValidationError", "monthly_charges: "),
    ],
    ids=["missing_label", "single_class", "nan_features"],
)
def test_bad_training_set_fails_typed_and_the_champion_keeps_serving(
    bad_input_dir: Path,
    trained_base: TrainedBase,
    corrupt: Callable[[pl.DataFrame], pl.DataFrame],
    error: str,
    mentions: str,
) -> None:
    data_dir = bad_input_dir
    good = read_lake(trained_base.data_dir, TRAINING_SET_KEY)
    _replace_table(data_dir, TRAINING_SET_KEY, corrupt(good), None)
    defs = defs_for(data_dir)
    day = trained_base.days[DAY_INDEX]
    with dg.DagsterInstance.ephemeral() as instance:
        trained = run_job(
            defs,
            "churn_training",
            instance,
            asset_selection=[MODEL_KEY, EVALUATION_KEY, CHAMPION_KEY],
        )
        assert not trained.success
        cls, message = step_error(trained)
        assert cls == error
        assert mentions in message
        # nothing downstream of the failed training ran, nothing was registered, no alias moved
        assert not trained.get_asset_materialization_events()
        assert latest_version(data_dir) == "1"
        assert alias_version(data_dir) == "1"
        # and the champion still scores
        scored = run_job(defs, "churn_batch_inference", instance, partition=day)
    assert scored.success, step_error(scored)
    predictions = read_lake(data_dir, PREDICTIONS_KEY, day)
    assert predictions.height == read_lake(data_dir, FEATURES_KEY, day).height > 0
    assert predictions["model_version"].unique().to_list() == ["1"]


def test_inference_with_a_dropped_feature_column_fails_naming_it(
    trained_base: TrainedBase, tmp_path: Path
) -> None:
    data_dir = copy_base(trained_base, tmp_path)
    day = trained_base.days[DAY_INDEX]
    before = read_lake(data_dir, PREDICTIONS_KEY, day)
    features = read_lake(data_dir, FEATURES_KEY, day)
    _replace_table(data_dir, FEATURES_KEY, features.drop("tenure"), day)
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_job(defs_for(data_dir), "churn_batch_inference", instance, partition=day)
    assert not result.success
    cls, message = step_error(result)
    assert cls == "SchemaMismatchError"
    assert "tenure: missing (expected double)" in message
    # the day's predictions were not replaced
    assert read_lake(data_dir, PREDICTIONS_KEY, day).equals(before)


def test_inference_refuses_a_feature_that_arrives_all_null(
    trained_base: TrainedBase, tmp_path: Path
) -> None:
    # A partition written without `tenure` is stored with the column null-filled (the Delta
    # table keeps its schema): no schema mismatch, but nothing the model was trained on either.
    data_dir = copy_base(trained_base, tmp_path)
    day = trained_base.days[DAY_INDEX]
    before = read_lake(data_dir, PREDICTIONS_KEY, day)
    features = read_lake(data_dir, FEATURES_KEY, day)
    table = data_dir.joinpath("lakehouse", *FEATURES_KEY.path)
    write_table(table, features.drop("tenure"), partitions=[day])
    assert read_lake(data_dir, FEATURES_KEY, day)["tenure"].null_count() == features.height
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_job(defs_for(data_dir), "churn_batch_inference", instance, partition=day)
    assert not result.success
    cls, message = step_error(result)
    assert cls == "DataValidationError"
    assert f"tenure: {features.height} null" in message
    assert f"feature partition {day}" in message
    assert read_lake(data_dir, PREDICTIONS_KEY, day).equals(before)
