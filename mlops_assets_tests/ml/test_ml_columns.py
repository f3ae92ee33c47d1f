"""Only the columns a lifecycle step needs reach the driver; missing ones stay for typed checks."""

import narwhals as nw
import polars as pl
import pytest

from mlops_assets.ml.columns import (
    collect_columns,
    evaluation_columns,
    model_inputs,
    scoring_columns,
    training_columns,
)
from mlops_assets.ml.model_store import log_and_register
from mlops_assets.ml.tracking import MlflowSettings, RunTags, start_run
from mlops_assets.ml.training import TrainingResult
from mlops_assets_tests.ml.conftest import CATEGORICAL, NUMERIC, model_config

TAGS = RunTags(dagster_run_id="run-columns", asset_key="churn/models/columns")


def test_ml_columns_of_each_step_follow_the_config() -> None:
    config = model_config()
    assert training_columns(config) == ["customer_id", "churn", *NUMERIC, *CATEGORICAL]
    assert evaluation_columns(config, []) == training_columns(config)


@pytest.mark.parametrize("kind", ["polars_lazy", "polars_eager", "narwhals_lazy"])
def test_ml_columns_collect_selects_the_wanted_columns_that_exist(
    churn: pl.DataFrame, kind: str
) -> None:
    wide = churn.with_columns(payload=pl.lit("x" * 50))
    frame: object = {
        "polars_lazy": wide.lazy(),
        "polars_eager": wide,
        "narwhals_lazy": nw.from_native(wide.lazy()),
    }[kind]
    got = collect_columns(frame, ["churn", "customer_id", "not_there", "churn", "region"])
    assert isinstance(got, pl.DataFrame)
    assert got.columns == ["churn", "customer_id", "region"]  # wanted order, once, no payload
    assert got.equals(churn.select("churn", "customer_id", "region"))


def test_ml_columns_a_model_is_held_to_its_own_signature(
    settings: MlflowSettings,
    good_result: TrainingResult,
    churn_splits: dict[str, pl.DataFrame],
    model_name: str,
) -> None:
    full = model_config()
    with start_run(settings, "register", TAGS):
        info = log_and_register(
            good_result, full, settings, churn_splits["train"], registered_name=model_name
        )
    assert model_inputs(info.model_uri) == [*NUMERIC, *CATEGORICAL]
    # the config moved on (support_calls dropped); the registered model still needs it
    narrower = model_config(numeric_features=NUMERIC[:2])
    assert "support_calls" not in training_columns(narrower)
    assert "support_calls" in evaluation_columns(narrower, [info.model_uri])
    assert scoring_columns(narrower, info.model_uri) == [
        "customer_id",
        "observed_at",
        *NUMERIC[:2],
        *CATEGORICAL,
        "support_calls",
    ]
