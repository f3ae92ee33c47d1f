"""Model configuration: task, flavour, features, split, search, promotion gates and serving.

Metric names are validated once (with a did-you-mean hint) and normalised, so that the training,
evaluation and gate code can index metric dictionaries without guessing spellings; tasks, metric
directions and :func:`worsening` live in :mod:`mlops_assets.config.metrics` (re-exported here).
"""

import math
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from mlops_assets.config.base import StrictModel
from mlops_assets.config.estimators import ALLOW_FIX, DOTTED_CLASS, family_problem
from mlops_assets.config.metrics import (
    BINARY_METRICS,
    CLASSIFICATION_METRICS,
    DEFAULT_PRIMARY_METRIC,
    MULTICLASS_METRICS,
    REGRESSION_METRICS,
    TASK_ALIASES,
    Direction,
    MetricName,
    Task,
    TaskName,
    as_task,
    greater_is_better,
    metric_direction,
    normalize_metric,
    normalize_task,
    task_metrics,
    worsening,
)
from mlops_assets.config.problems import ConfigProblemsError, Problem

__all__ = [
    "BINARY_METRICS",
    "CLASSIFICATION_METRICS",
    "DEFAULT_PRIMARY_METRIC",
    "MULTICLASS_METRICS",
    "REGRESSION_METRICS",
    "TASK_ALIASES",
    "Direction",
    "MetricName",
    "Task",
    "TaskName",
    "as_task",
    "greater_is_better",
    "metric_direction",
    "normalize_metric",
    "normalize_task",
    "task_metrics",
    "worsening",
]

JsonScalar = str | int | float | bool | None
"""A hyper-parameter value as YAML/JSON can spell it."""
ParamValue = JsonScalar | list[JsonScalar]
"""A hyper-parameter value: a scalar or a list of scalars (e.g. ``hidden_layer_sizes``)."""


class SklearnFlavor(StrictModel):
    """Any scikit-learn compatible estimator, given by its import path."""

    type: Literal["sklearn"] = Field(description="scikit-learn estimator.")
    estimator: str = Field(
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$",
        description="Import path of the estimator class, e.g. "
        "`sklearn.ensemble.HistGradientBoostingClassifier`: scikit-learn, LightGBM or XGBoost, "
        "or a class listed in the model's `allowed_estimators`.",
    )
    params: dict[str, ParamValue] = Field(
        default_factory=dict, description="Constructor parameters of the estimator."
    )


class LightGBMFlavor(StrictModel):
    """LightGBM's scikit-learn API (`LGBMClassifier` / `LGBMRegressor` chosen by the task)."""

    type: Literal["lightgbm"] = Field(description="LightGBM (extra `boosting`).")
    params: dict[str, ParamValue] = Field(
        default_factory=dict, description="Constructor parameters of the LightGBM estimator."
    )


class XGBoostFlavor(StrictModel):
    """XGBoost's scikit-learn API (`XGBClassifier` / `XGBRegressor` chosen by the task)."""

    type: Literal["xgboost"] = Field(description="XGBoost (extra `boosting`).")
    params: dict[str, ParamValue] = Field(
        default_factory=dict, description="Constructor parameters of the XGBoost estimator."
    )


ModelFlavor = Annotated[SklearnFlavor | LightGBMFlavor | XGBoostFlavor, Field(discriminator="type")]
"""The estimator family, chosen by its `type`."""


class SplitConfig(StrictModel):
    """Deterministic train/validation/test split by a stable hash of the entity key."""

    train: float = Field(default=0.7, gt=0, le=1, description="Share of entities for training.")
    validation: float = Field(
        default=0.15, gt=0, le=1, description="Share of entities for validation (model selection)."
    )
    test: float = Field(
        default=0.15, gt=0, le=1, description="Share of entities held out for evaluation/gates."
    )
    seed: int = Field(default=42, ge=0, description="Seed of the split hash and estimators.")

    @model_validator(mode="after")
    def _sums_to_one(self) -> "SplitConfig":
        total = self.train + self.validation + self.test
        if not math.isclose(total, 1.0, rel_tol=0.0, abs_tol=1e-9):
            raise ValueError(
                f"split ratios must sum to 1, got train={self.train} + "
                f"validation={self.validation} + test={self.test} = {total:.12g}"
            )
        return self


class SearchConfig(StrictModel):
    """Optional hyper-parameter search; every trial is a nested MLflow run."""

    type: Literal["grid", "random"] = Field(
        description="`grid`: every combination; `random`: `n_iter` distinct combinations."
    )
    space: dict[str, list[JsonScalar]] = Field(
        min_length=1, description="Candidate values per estimator parameter."
    )
    n_iter: int = Field(default=8, ge=1, description="Trials of a random search.")
    metric: MetricName = Field(description="Validation metric that picks the best trial.")

    @field_validator("space")
    @classmethod
    def _non_empty_lists(cls, space: dict[str, list[JsonScalar]]) -> dict[str, list[JsonScalar]]:
        empty = sorted(k for k, values in space.items() if not values)
        if empty:
            raise ValueError(f"search space lists must not be empty: {empty}")
        return space


class MetricThreshold(StrictModel):
    """An absolute bound a challenger's test metric must satisfy."""

    metric: MetricName = Field(description="Metric name, e.g. `roc_auc`.")
    min: float | None = Field(default=None, description="Lowest acceptable value (inclusive).")
    max: float | None = Field(default=None, description="Highest acceptable value (inclusive).")

    @model_validator(mode="after")
    def _has_bound(self) -> "MetricThreshold":
        if self.min is None and self.max is None:
            raise ValueError(f"threshold on {self.metric!r} needs `min`, `max` or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"threshold on {self.metric!r}: min {self.min} > max {self.max}")
        return self


class AllowAnyModel(StrictModel):
    """An explicit waiver: these gates may promote any model, and why."""

    reason: str = Field(
        min_length=1, pattern=r"\S", description="Why promoting any model is acceptable here."
    )


class GateConfig(StrictModel):
    """When a challenger may replace the champion."""

    mode: Literal["disabled", "dry_run", "enabled"] = Field(
        default="enabled",
        description="`enabled`: promote on pass; `dry_run`: only record what would happen; "
        "`disabled`: never promote.",
    )
    primary_metric: MetricName = Field(
        description="Metric compared with the champion. Left out of a model config, it is the "
        "task's default: roc_auc (binary), f1_macro (multiclass), rmse (regression)."
    )
    thresholds: list[MetricThreshold] = Field(
        default_factory=list, description="Absolute bounds, also required of a first model."
    )
    min_improvement: float = Field(
        default=0.0,
        description="Least improvement over the champion on the primary metric (in the "
        "metric's better direction; negative tolerates a small loss).",
    )
    max_degradation: dict[MetricName, float] = Field(
        default_factory=dict,
        description="Per metric, the most it may get worse than the champion's (>= 0).",
    )
    allow_any_model: AllowAnyModel | None = Field(
        default=None,
        description="Gates that can never reject a worse model (no floor threshold, "
        "min_improvement <= 0, no max_degradation) are an error unless waived here with a reason.",
    )

    @field_validator("min_improvement")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("min_improvement must be a finite number")
        return value

    @field_validator("max_degradation")
    @classmethod
    def _non_negative(cls, value: dict[str, float]) -> dict[str, float]:
        bad = [f"{k}={v}" for k, v in value.items() if not (math.isfinite(v) and v >= 0)]
        if bad:
            raise ValueError(f"max_degradation values must be finite and >= 0, got {bad}")
        return value

    def metrics(self) -> set[str]:
        """Every metric the gate reads."""
        names = {self.primary_metric, *self.max_degradation}
        return names | {t.metric for t in self.thresholds}


class ServingConfig(StrictModel):
    """A local `mlflow models serve` endpoint."""

    host: str = Field(default="127.0.0.1", description="Interface the server binds to.")
    port: int | None = Field(
        default=None, ge=1, le=65535, description="TCP port; null picks a free one."
    )
    startup_timeout_s: float = Field(
        default=120.0, gt=0, description="Seconds to wait for the server's health endpoint."
    )


class ImputationConfig(StrictModel):
    """What the pipeline does with missing feature values (applied in training AND serving)."""

    numeric: Literal["error", "median", "mean", "zero"] = Field(
        default="error",
        description="`error`: null/NaN numeric features fail training with a count per column; "
        "otherwise the pipeline imputes them.",
    )
    categorical: Literal["error", "missing_category"] = Field(
        default="missing_category",
        description="`missing_category`: nulls become their own category; `error`: fail.",
    )


class ModelConfig(StrictModel):
    """One supervised model: what it learns from, how it is trained, judged and served."""

    name: str = Field(
        pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$",
        description="Registered model name (letters, digits, `_`, `.`, `-`).",
    )
    description: str = Field(default="", description="Shown on the registered model.")
    task: TaskName = Field(
        description="`binary` (labels become 0/1; `classification` is accepted as an alias), "
        "`multiclass` (labels compared as strings; predictions are class labels) or "
        "`regression` (a numeric label)."
    )
    label: str = Field(min_length=1, description="Label column.")
    positive_label: str | None = Field(
        default=None,
        description="Binary only: label value that is the positive class (e.g. `Yes`); the "
        "label is then converted to 0/1. Null: the label must already be 0/1 or boolean.",
    )
    entity_key: str = Field(min_length=1, description="Entity id column (drives the split).")
    timestamp: str = Field(min_length=1, description="Event/observation time column.")
    numeric_features: list[str] = Field(
        default_factory=list, description="Numeric feature columns."
    )
    categorical_features: list[str] = Field(
        default_factory=list, description="Categorical feature columns (one-hot encoded)."
    )
    flavor: ModelFlavor = Field(description="Estimator family and parameters.")
    allowed_estimators: list[Annotated[str, Field(pattern=DOTTED_CLASS)]] = Field(
        default_factory=list,
        description="Import paths of estimator classes outside scikit-learn, LightGBM and "
        "XGBoost that `flavor.estimator` may name (your own code). Nothing else is imported.",
    )
    imputation: ImputationConfig = Field(
        default_factory=ImputationConfig, description="Missing-value policy."
    )
    split: SplitConfig = Field(default_factory=SplitConfig, description="Data split.")
    search: SearchConfig | None = Field(
        default=None, description="Optional hyper-parameter search."
    )
    gates: GateConfig = Field(description="Promotion gates.")
    serving: ServingConfig = Field(default_factory=ServingConfig, description="Local serving.")

    @property
    def features(self) -> list[str]:
        """Numeric then categorical feature columns, in the order the model sees them."""
        return [*self.numeric_features, *self.categorical_features]

    @model_validator(mode="before")
    @classmethod
    def _default_primary_metric(cls, data: Any) -> Any:
        """Fill ``gates.primary_metric`` with the task's default when it is left out."""
        if not isinstance(data, dict):
            return data
        gates, task = data.get("gates"), normalize_task(data.get("task"))
        known: dict[str, str] = {str(k): v for k, v in DEFAULT_PRIMARY_METRIC.items()}
        default = known.get(task) if isinstance(task, str) else None
        if isinstance(gates, dict) and "primary_metric" not in gates and default is not None:
            data = {**data, "gates": {**gates, "primary_metric": default}}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> "ModelConfig":
        features = self.features
        if not features:
            raise ValueError("a model needs at least one numeric or categorical feature")
        blank = [f for f in features if not f.strip()]
        if blank:
            raise ValueError("feature names must not be empty")
        twice = sorted({f for f in features if features.count(f) > 1})
        if twice:
            raise ValueError(f"features listed more than once: {twice}")
        for role in ("label", "entity_key", "timestamp"):
            column = getattr(self, role)
            if column in features:
                raise ValueError(f"{role} column {column!r} must not also be a feature")
        if isinstance(self.flavor, SklearnFlavor):
            problem = family_problem(self.flavor.estimator, self.allowed_estimators)
            if problem is not None:
                raise ConfigProblemsError([Problem(("flavor", "estimator"), problem, ALLOW_FIX)])
        if self.task != "binary" and self.positive_label is not None:
            raise ValueError(
                f"positive_label only applies to binary classification, not {self.task}"
            )
        allowed = task_metrics(self.task)
        used = set(self.gates.metrics())
        if self.search is not None:
            used.add(self.search.metric)
        wrong = sorted(used - set(allowed))
        if wrong:
            raise ValueError(
                f"metrics {wrong} are not computed for {self.task}; use: {', '.join(allowed)}"
            )
        return self
