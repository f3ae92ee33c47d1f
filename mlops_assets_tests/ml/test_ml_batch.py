"""Batch scoring of a lazy feature frame: needed columns only, training contract, signature."""

import narwhals as nw
import numpy as np
import polars as pl
import pytest

from mlops_assets.errors import DataValidationError, SchemaMismatchError
from mlops_assets.ml.batch import score_batch
from mlops_assets.ml.frames import feature_frame
from mlops_assets.ml.model_store import ModelVersionInfo, log_and_register
from mlops_assets.ml.tracking import MlflowSettings, RunTags, start_run
from mlops_assets.ml.training import TrainingResult
from mlops_assets_tests.ml.conftest import model_config

TAGS = RunTags(dagster_run_id="run-batch", asset_key="churn/inference/predictions")


@pytest.fixture
def version(
    settings: MlflowSettings,
    good_result: TrainingResult,
    churn_splits: dict[str, pl.DataFrame],
    model_name: str,
) -> ModelVersionInfo:
    """A registered classifier; the process's MLflow URIs point at its store (as the asset's)."""
    with start_run(settings, "register", TAGS):
        return log_and_register(
            good_result, model_config(), settings, churn_splits["train"], registered_name=model_name
        )


def test_ml_batch_scores_a_lazy_frame_with_provenance(
    version: ModelVersionInfo, good_result: TrainingResult, churn_splits: dict[str, pl.DataFrame]
) -> None:
    rows = churn_splits["test"]
    features = nw.from_native(rows.with_columns(payload=pl.lit("unused")).lazy())
    out = score_batch(features, version, model_config(), alias="champion", what="test rows")
    assert out.columns[:4] == ["customer_id", "observed_at", "prediction", "probability"]
    assert out["customer_id"].to_list() == rows["customer_id"].to_list()
    expected = good_result.pipeline.predict_proba(feature_frame(rows, model_config()))[:, 1]
    np.testing.assert_allclose(out["probability"].to_numpy(), expected, atol=1e-12)
    assert out["model_version"].unique().to_list() == [version.version]
    assert out["model_alias"].unique().to_list() == ["champion"]


def test_ml_batch_refuses_a_feature_that_arrives_all_null(
    version: ModelVersionInfo, churn_splits: dict[str, pl.DataFrame]
) -> None:
    rows = churn_splits["test"].with_columns(pl.lit(None, dtype=pl.Float64).alias("tenure_months"))
    with pytest.raises(DataValidationError, match=f"tenure_months: {rows.height} null") as info:
        score_batch(rows.lazy(), version, model_config(), alias=None, what="partition 2026-01-02")
    assert "partition 2026-01-02" in info.value.message


def test_ml_batch_names_a_missing_feature_from_the_signature(
    version: ModelVersionInfo, churn_splits: dict[str, pl.DataFrame]
) -> None:
    rows = churn_splits["test"].drop("region")
    with pytest.raises(SchemaMismatchError, match=r"region: missing \(expected string\)"):
        score_batch(rows.lazy(), version, model_config(), alias=None, what="test rows")
