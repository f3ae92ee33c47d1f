"""Which columns each lifecycle step needs, so that only those travel to the driver.

Assets receive lazy narwhals frames (Polars locally, Spark on Databricks). Fitting, evaluating and
scoring need the rows in driver memory; :func:`collect_columns` selects the step's columns first
and only then collects. Columns a step wants but the table lacks are simply not selected: the
step's own checks (:func:`mlops_assets.ml.frames.check_columns`, the model signature) then name
them in a typed error, exactly as if the whole table had been collected.
"""

from collections.abc import Iterable

import polars as pl

from mlops_assets.config.ml import ModelConfig
from mlops_assets.engines.frames import lazy, to_polars


def _unique(columns: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(columns))


def model_inputs(model_uri: str) -> list[str]:
    """The input column names of a logged model's signature (empty if it has none).

    A model is held to its *own* signature: a champion trained on an older feature list needs
    columns the current config may no longer list.
    """
    from mlops_assets.ml.inference import input_schema

    schema = input_schema(model_uri)
    if schema is None or not schema.has_input_names():
        return []
    return [str(name) for name in schema.input_names()]


def training_columns(config: ModelConfig) -> list[str]:
    """Entity key (the split), label and features: everything training reads."""
    return _unique([config.entity_key, config.label, *config.features])


def evaluation_columns(config: ModelConfig, model_uris: Iterable[str]) -> list[str]:
    """Training's columns plus every input of the models evaluated (each on its signature)."""
    inputs = [c for uri in model_uris for c in model_inputs(uri)]
    return _unique([*training_columns(config), *inputs])


def scoring_columns(config: ModelConfig, model_uri: str) -> list[str]:
    """Entity key, timestamp, the configured features and the scoring model's inputs."""
    return _unique(
        [config.entity_key, config.timestamp, *config.features, *model_inputs(model_uri)]
    )


def collect_columns(frame: object, columns: Iterable[str]) -> pl.DataFrame:
    """The wanted columns that ``frame`` has, in order, collected on the driver as Polars.

    ``frame`` is any narwhals-supported frame (Polars, Spark, narwhals lazy or eager).
    """
    wanted = lazy(frame)
    available = set(wanted.collect_schema().names())
    return to_polars(wanted.select([c for c in _unique(columns) if c in available]))
