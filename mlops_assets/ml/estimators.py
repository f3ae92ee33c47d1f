"""Estimators from config: import paths resolved with a did-you-mean, pipelines assembled."""

from __future__ import annotations

import difflib
import importlib
import inspect
from typing import TYPE_CHECKING, Any

from mlops_assets.config.ml import ModelConfig, ParamValue
from mlops_assets.errors import ConfigError
from mlops_assets.ml._deps import import_optional
from mlops_assets.ml.frames import MISSING_CATEGORY

if TYPE_CHECKING:
    from sklearn.base import BaseEstimator
    from sklearn.pipeline import Pipeline

_BOOSTING_CLASSES = {
    ("lightgbm", "classification"): "LGBMClassifier",
    ("lightgbm", "regression"): "LGBMRegressor",
    ("xgboost", "classification"): "XGBClassifier",
    ("xgboost", "regression"): "XGBRegressor",
}
_DEFAULT_PARAMS: dict[str, dict[str, ParamValue]] = {"lightgbm": {"verbose": -1}}


def estimator_path(config: ModelConfig) -> str:
    """The import path of the configured estimator class."""
    flavor = config.flavor
    if flavor.type == "sklearn":
        return flavor.estimator
    kind = "regression" if config.task == "regression" else "classification"
    return f"{flavor.type}.{_BOOSTING_CLASSES[(flavor.type, kind)]}"


def _sklearn_suggestions(path: str) -> list[str]:
    from sklearn.utils.discovery import all_estimators

    public = [f"sklearn.{cls.__module__.split('.')[1]}.{name}" for name, cls in all_estimators()]
    by_path = difflib.get_close_matches(path, public, n=1, cutoff=0.75)
    if by_path:
        return by_path
    leaf = path.rsplit(".", 1)[-1].lower()
    names = {p.rsplit(".", 1)[-1].lower(): p for p in public}
    return [names[m] for m in difflib.get_close_matches(leaf, list(names), n=1, cutoff=0.75)]


def resolve_estimator_class(path: str) -> type[Any]:
    """Import the estimator class at ``path``.

    Raises:
        ConfigError: the module or class does not exist (with the closest known name).
    """
    module_name, _, class_name = path.rpartition(".")
    if module_name.split(".")[0] in ("lightgbm", "xgboost"):
        module = import_optional(module_name)
    else:
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            close = _sklearn_suggestions(path) if path.startswith("sklearn") else []
            raise ConfigError(
                f"cannot import module {module_name!r} of estimator {path!r}",
                context={"estimator": path, "cause": str(exc)},
                fix=f"did you mean {close[0]!r}?" if close else "check the import path",
            ) from exc
    cls = getattr(module, class_name, None)
    if cls is None:
        public = [n for n in dir(module) if not n.startswith("_")]
        close = difflib.get_close_matches(class_name, public, n=1, cutoff=0.6)
        if not close and path.startswith("sklearn"):
            close = [c.rsplit(".", 1)[-1] for c in _sklearn_suggestions(path)]
        raise ConfigError(
            f"module {module_name!r} has no estimator {class_name!r}",
            context={"estimator": path},
            fix=f"did you mean '{module_name}.{close[0]}'?" if close else "check the class name",
        )
    if not isinstance(cls, type) or not hasattr(cls, "fit"):
        raise ConfigError(
            f"{path!r} is not an estimator class (it has no `fit`)",
            context={"estimator": path},
            fix="point `estimator` at a scikit-learn compatible estimator class",
        )
    return cls


def build_estimator(config: ModelConfig, params: dict[str, ParamValue]) -> BaseEstimator:
    """Instantiate the configured estimator with ``params`` and check it fits the task.

    ``random_state`` defaults to ``split.seed`` when the estimator has one, for reproducibility.

    Raises:
        ConfigError: unknown parameters, wrong task, or no ``predict_proba`` for a classifier.
    """
    from sklearn.base import is_classifier, is_regressor

    path = estimator_path(config)
    cls = resolve_estimator_class(path)
    estimator = cls()
    valid = estimator.get_params(deep=False)
    merged: dict[str, Any] = {**_DEFAULT_PARAMS.get(config.flavor.type, {}), **params}
    init = inspect.signature(cls.__init__).parameters.values()
    open_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in init)  # e.g. LightGBM
    unknown = [] if open_kwargs else sorted(set(merged) - set(valid))
    if unknown:
        close = {u: difflib.get_close_matches(u, list(valid), n=1) for u in unknown}
        hints = ", ".join(f"{u} (did you mean {c[0]!r}?)" if c else u for u, c in close.items())
        raise ConfigError(
            f"estimator {path!r} has no parameter(s): {hints}",
            context={"estimator": path, "valid": sorted(valid)},
            fix="fix the names under `flavor.params` or `search.space`",
        )
    if "random_state" in valid and "random_state" not in merged:
        merged["random_state"] = config.split.seed
    try:
        estimator.set_params(**merged)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"estimator {path!r} rejected its parameters: {exc}",
            context={"estimator": path, "params": merged},
            fix="fix `flavor.params`",
        ) from exc
    wants_classifier = config.task != "regression"
    if wants_classifier and not is_classifier(estimator):
        raise ConfigError(
            f"{path!r} is not a classifier but the task is {config.task} classification",
            context={"estimator": path},
            fix="choose a classifier, e.g. sklearn.ensemble.HistGradientBoostingClassifier",
        )
    if not wants_classifier and not is_regressor(estimator):
        raise ConfigError(
            f"{path!r} is not a regressor but the task is regression",
            context={"estimator": path},
            fix="choose a regressor, e.g. sklearn.ensemble.HistGradientBoostingRegressor",
        )
    if wants_classifier and not hasattr(estimator, "predict_proba"):
        raise ConfigError(
            f"classifier {path!r} has no predict_proba; probabilities are needed for "
            "roc_auc/log_loss, the served output and the predictions table",
            context={"estimator": path},
            fix="choose a probabilistic classifier (or e.g. SVC with probability: true)",
        )
    return estimator


def build_pipeline(config: ModelConfig, params: dict[str, ParamValue]) -> Pipeline:
    """Preprocessing (one-hot categoricals, numeric imputation policy) + the estimator."""
    import numpy as np
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    transformers: list[tuple[str, Any, list[str]]] = []
    if config.numeric_features:
        strategy = config.imputation.numeric
        numeric: Any = (
            "passthrough"
            if strategy == "error"
            else SimpleImputer(
                strategy="constant" if strategy == "zero" else strategy, fill_value=0.0
            )
        )
        transformers.append(("numeric", numeric, list(config.numeric_features)))
    if config.categorical_features:
        # Nulls arrive as NaN or None depending on the path (pandas, JSON): map both.
        categorical = Pipeline(
            [
                ("nan", _constant_imputer(np.nan)),
                ("none", _constant_imputer(None)),
                ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
            ]
        )
        transformers.append(("categorical", categorical, list(config.categorical_features)))
    preprocess = ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=False)
    return Pipeline([("preprocess", preprocess), ("model", build_estimator(config, params))])


def _constant_imputer(missing: object) -> Any:
    from sklearn.impute import SimpleImputer

    return SimpleImputer(missing_values=missing, strategy="constant", fill_value=MISSING_CATEGORY)
