"""From a Polars frame to what the estimator sees, with every data problem named precisely.

The model's input contract: numeric features become ``Float64`` (MLflow ``double``), categorical
features become ``String`` (MLflow ``string``), in :attr:`ModelConfig.features` order. The label
becomes 0/1 (binary), its value as a string (multiclass: ``1`` and ``"1"`` are the same class) or
``Float64`` (regression).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import polars as pl

from mlops_assets.config.ml import ModelConfig
from mlops_assets.errors import DataValidationError, SchemaMismatchError

if TYPE_CHECKING:
    import pandas as pd

MISSING_CATEGORY = "__missing__"
"""The category a null categorical value becomes (imputation ``missing_category``)."""


def check_columns(df: pl.DataFrame, config: ModelConfig, *, need_label: bool, what: str) -> None:
    """Raise SchemaMismatchError naming every missing column and every non-numeric numeric feature.

    Args:
        what: the frame's role in messages, e.g. ``"training"`` or ``"test"``.
    """
    wanted = ([config.label] if need_label else []) + config.features
    missing = [c for c in wanted if c not in df.columns]
    if missing:
        roles = ", ".join(f"{c} ({'label' if c == config.label else 'feature'})" for c in missing)
        raise SchemaMismatchError(
            f"the {what} data lacks {len(missing)} column(s) the model needs: {roles}",
            context={"missing": missing, "available": df.columns, "model": config.name},
            fix="add the columns to the training set or remove them from the model config",
        )
    wrong = {
        c: str(df.schema[c])
        for c in config.numeric_features
        if not (df.schema[c].is_numeric() or df.schema[c] == pl.Boolean)
    }
    if wrong:
        listed = ", ".join(f"{c} is {t}" for c, t in wrong.items())
        raise SchemaMismatchError(
            f"numeric features of the {what} data are not numeric: {listed}",
            context={"columns": wrong, "model": config.name},
            fix="cast them upstream or list them under categorical_features",
        )


def check_missing_values(df: pl.DataFrame, config: ModelConfig, *, what: str) -> None:
    """Raise DataValidationError for missing/infinite feature values the config does not impute."""
    problems: dict[str, str] = {}
    floats = [c for c in config.numeric_features if df.schema[c].is_float()]
    counts = df.select(
        *[pl.col(c).is_null().sum().alias(f"null:{c}") for c in config.features],
        *[pl.col(c).is_nan().sum().alias(f"nan:{c}") for c in floats],
        *[pl.col(c).is_infinite().sum().alias(f"inf:{c}") for c in floats],
    ).row(0, named=True)
    for column in config.features:
        nulls, nans = counts[f"null:{column}"], counts.get(f"nan:{column}", 0)
        infs = counts.get(f"inf:{column}", 0)
        numeric = column in config.numeric_features
        policy = config.imputation.numeric if numeric else config.imputation.categorical
        parts = []
        if policy == "error" and nulls:
            parts.append(f"{nulls} null")
        if policy == "error" and nans:
            parts.append(f"{nans} NaN")
        if infs:
            parts.append(f"{infs} infinite")
        if parts:
            problems[column] = ", ".join(parts)
    if problems:
        listed = "; ".join(f"{c}: {p}" for c, p in problems.items())
        raise DataValidationError(
            f"the {what} data ({df.height} rows) has missing or infinite feature values: {listed}",
            context={"columns": problems, "model": config.name},
            fix="repair them upstream, or set `imputation.numeric` (median/mean/zero) or "
            "`imputation.categorical: missing_category` in the model config "
            "(infinite values are never imputed)",
        )


def label_array(df: pl.DataFrame, config: ModelConfig, *, what: str) -> npt.NDArray[np.generic]:
    """The label as 0/1 ``int8`` (binary), strings (multiclass) or ``float64`` (regression)."""
    label = df.get_column(config.label)
    nulls = label.null_count()
    if nulls:
        raise DataValidationError(
            f"label column {config.label!r} of the {what} data has {nulls} null value(s)",
            context={"column": config.label, "rows": df.height},
            fix="drop unlabelled rows before training or evaluation",
        )
    if config.task == "regression":
        if not label.dtype.is_numeric():
            raise SchemaMismatchError(
                f"regression label {config.label!r} has dtype {label.dtype}, expected numeric",
                context={"column": config.label, "dtype": str(label.dtype)},
                fix="cast the label to a number upstream",
            )
        return label.cast(pl.Float64).to_numpy()
    if config.task == "multiclass":
        return label.cast(pl.String).to_numpy().astype(object)
    if config.positive_label is not None:
        binary = label.cast(pl.String) == config.positive_label
    elif label.dtype == pl.Boolean:
        binary = label
    else:
        values = label.unique().sort()
        if not (label.dtype.is_integer() and values.is_in([0, 1]).all()):
            shown = values.head(5).cast(pl.String).to_list()
            raise DataValidationError(
                f"classification label {config.label!r} is not 0/1 or boolean "
                f"(values include {shown}) and no positive_label is configured",
                context={"column": config.label, "dtype": str(label.dtype)},
                fix="set `positive_label` in the model config (e.g. 'Yes')",
            )
        binary = label == 1
    return binary.cast(pl.Int8).to_numpy()


def check_two_classes(y: npt.NDArray[np.generic], config: ModelConfig, *, what: str) -> None:
    """Raise DataValidationError when the rows are empty or a class label has a single class."""
    if len(y) == 0:
        raise DataValidationError(
            f"the {what} data is empty",
            context={"model": config.name},
            fix="check the split ratios and that the training set has rows",
        )
    if config.task == "multiclass":
        classes = sorted({str(v) for v in y})
        if len(classes) < 2:
            raise DataValidationError(
                f"the {what} label {config.label!r} has a single class over {len(y)} rows: "
                f"every label is {classes[0]!r}",
                context={"rows": len(y), "classes": classes, "model": config.name},
                fix="train on data with at least two classes",
            )
        return
    positives = int(np.count_nonzero(y))
    if config.task == "binary" and positives in (0, len(y)):
        present = "positive" if positives else "negative"
        hint = (
            f"positive_label {config.positive_label!r} never occurs"
            if config.positive_label is not None and not positives
            else f"every label is {present}"
        )
        raise DataValidationError(
            f"the {what} label {config.label!r} has a single class over {len(y)} rows: {hint}",
            context={"rows": len(y), "positives": positives, "model": config.name},
            fix="train on data with both classes, or check `positive_label`",
        )


def feature_frame(df: pl.DataFrame, config: ModelConfig) -> pd.DataFrame:
    """The model input as pandas: numeric features as float64, categorical as str/None."""
    return df.select(
        *[pl.col(c).cast(pl.Float64) for c in config.numeric_features],
        *[pl.col(c).cast(pl.String) for c in config.categorical_features],
    ).to_pandas()
