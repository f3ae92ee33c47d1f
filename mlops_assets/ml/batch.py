"""Batch scoring of a feature table by a registered model version.

Only the columns scoring needs (entity key, timestamp, the configured features and the model's
own inputs) are collected on the driver; the training contract is enforced before the model is
loaded, and the model's signature while scoring.
"""

import polars as pl

from mlops_assets.config.ml import ModelConfig
from mlops_assets.ml.model_store import ModelVersionInfo


def score_batch(
    features: object,
    version: ModelVersionInfo,
    config: ModelConfig,
    *,
    alias: str | None,
    what: str,
) -> pl.DataFrame:
    """Predictions for every row of ``features`` (see :func:`mlops_assets.ml.inference.score`).

    Args:
        features: any narwhals-supported frame (Polars, Spark, narwhals).
        version: the registered version to score with.
        alias: the alias ``version`` was resolved through (recorded on every row), if any.
        what: the frame's role in error messages, e.g. ``"feature partition 2026-01-03"``.

    Raises:
        DataValidationError: a feature has missing values the config does not impute (`imputation:
            error`); a column the upstream stopped sending comes back all null from its Delta
            partition and would otherwise be scored silently.
        SchemaMismatchError: key, timestamp or model input columns are missing or incompatible.
        RegistryError, ModelError: the model cannot be loaded or failed to predict.
    """
    from mlops_assets.ml.columns import collect_columns, scoring_columns
    from mlops_assets.ml.frames import check_missing_values
    from mlops_assets.ml.inference import score

    frame = collect_columns(features, scoring_columns(config, version.model_uri))
    if set(config.features) <= set(frame.columns):  # missing ones: named by the signature check
        check_missing_values(frame, config, what=what)
    return score(
        frame,
        version.model_uri,
        version.name,
        version.version,
        alias,
        config.entity_key,
        config.timestamp,
    )
