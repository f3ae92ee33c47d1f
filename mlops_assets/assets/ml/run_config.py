"""Run configuration of the model assets: training and evaluation/promotion, per use case.

Training's estimator parameters are a typed class per model flavour: one field per parameter of
the YAML's ``flavor.params`` and of the estimator's constructor, each defaulting to the YAML value
(else the estimator's own default). Unknown parameters are rejected when the run is launched.
"""

from typing import Any, Literal, cast

from pydantic import Field, create_model, field_validator, model_validator

from mlops_assets.assets.ml.common import model_config
from mlops_assets.assets.ml.estimator_params import Scalar, estimator_defaults
from mlops_assets.assets.run_config import RunConfigBase
from mlops_assets.config.ml import LightGBMFlavor, ModelConfig, ParamValue, XGBoostFlavor
from mlops_assets.config.use_case import UseCaseConfig

GateMode = Literal["enabled", "dry_run", "disabled"]


def estimator_path(model: ModelConfig) -> str:
    """Import path of the estimator class the flavour trains."""
    classifier = model.task != "regression"
    if isinstance(model.flavor, LightGBMFlavor):
        return "lightgbm." + ("LGBMClassifier" if classifier else "LGBMRegressor")
    if isinstance(model.flavor, XGBoostFlavor):
        return "xgboost." + ("XGBClassifier" if classifier else "XGBRegressor")
    return model.flavor.estimator


def _field_type(yaml_value: ParamValue | None, default: Scalar | None) -> Any:
    if isinstance(yaml_value, list):
        items = {type(v) for v in yaml_value if v is not None}
        return list[items.pop()] if len(items) == 1 else None  # type: ignore[misc]
    kinds = {type(v) for v in (yaml_value, default) if v is not None}
    if kinds == {int, float}:
        return float
    if yaml_value is not None:
        return type(yaml_value)
    return type(default) if default is not None else None


def estimator_params_class(model: ModelConfig) -> type[RunConfigBase]:
    """The typed estimator parameters of a model flavour, YAML values as defaults."""
    path = estimator_path(model)
    signature = estimator_defaults(path)
    yaml_params = model.flavor.params
    fields: dict[str, Any] = {}
    for name in sorted({*yaml_params, *signature}):
        yaml_value, default = yaml_params.get(name), signature.get(name)
        kind = _field_type(yaml_value, default)
        if kind is None:
            continue
        value = yaml_value if name in yaml_params else default
        origin = "YAML `flavor.params`" if name in yaml_params else "estimator default"
        fields[name] = (
            kind,
            Field(default=value, description=f"`{path}` parameter `{name}` ({origin}: {value})."),
        )
    class_name = path.rsplit(".", 1)[-1] + "Params"
    params_cls: type[RunConfigBase] = create_model(
        class_name, __base__=RunConfigBase, __doc__=f"Parameters of `{path}`.", **fields
    )
    return params_cls


class TrainingRunConfigBase(RunConfigBase):
    """What every use case's training run configuration has (its class sets the defaults)."""

    params: RunConfigBase = Field(
        default_factory=RunConfigBase, description="Estimator parameters for this run."
    )
    search: bool = Field(default=False, description="Run the YAML's search.")
    split_seed: int = Field(default=0, ge=0, description="Seed of the split hash.")
    reason: str = Field(
        default="", description="Why this run was started (recorded in MLflow and metadata)."
    )
    trigger_window: str = Field(
        default="",
        description="Monitoring window that triggered this run (set by the retraining sensor).",
    )

    def overrides(self) -> dict[str, ParamValue]:
        """The estimator parameters this run changes (empty: as configured)."""
        raise NotImplementedError

    def model(self) -> ModelConfig:
        """The model config this run trains with."""
        raise NotImplementedError


class EvaluationRunConfigBase(RunConfigBase):
    """What every use case's evaluation run configuration has."""

    gate_mode: GateMode = Field(default="enabled", description="Gate mode of this run.")
    reason: str = Field(default="", description="Why the gate mode differs from the YAML.")

    def model(self) -> ModelConfig:
        """The model config this run evaluates with."""
        raise NotImplementedError


def training_run_config(uc: UseCaseConfig) -> type[TrainingRunConfigBase]:
    """The training asset's run configuration for ``uc`` (defaults: its YAML)."""
    yaml_model = model_config(uc)
    params_cls = estimator_params_class(yaml_model)
    has_search = yaml_model.search is not None

    class TrainingRunConfig(TrainingRunConfigBase):
        """Knobs of one training run; every default is the YAML's."""

        params: params_cls = Field(  # type: ignore[valid-type]
            default_factory=params_cls,
            description="Estimator parameters for this run (defaults: YAML `flavor.params`, "
            "else the estimator's own). Unknown names are rejected.",
        )
        search: bool = Field(
            default=has_search,
            description="Run the YAML's hyper-parameter search (`model.search`); false trains "
            "once with `params`.",
        )
        split_seed: int = Field(
            default=yaml_model.split.seed,
            ge=0,
            description="Seed of the train/validation/test entity hash (YAML `split.seed`). "
            "Changing it changes which entities are held out.",
        )

        @field_validator("search")
        @classmethod
        def _search_configured(cls, value: bool) -> bool:
            if value and not has_search:
                raise ValueError(
                    "search=true but the YAML has no `model.search`; fix: add a search space "
                    "to the use case's YAML, or leave search false"
                )
            return value

        @model_validator(mode="after")
        def _seed_needs_reason(self) -> "TrainingRunConfig":
            if self.split_seed != yaml_model.split.seed and not self.reason.strip():
                raise ValueError(
                    f"split_seed {self.split_seed} differs from the YAML's "
                    f"{yaml_model.split.seed}: "
                    "the held-out entities change, so the champion comparison is not like for "
                    "like; fix: give a `reason`"
                )
            return self

        def overrides(self) -> dict[str, ParamValue]:
            """The estimator parameters this run changes (empty: as configured)."""
            default = params_cls().model_dump()
            chosen = cast(RunConfigBase, self.params).model_dump()
            return {k: v for k, v in chosen.items() if default.get(k) != v}

        def model(self) -> ModelConfig:
            """The model config this run trains with (search and split applied)."""
            split = yaml_model.split.model_copy(update={"seed": self.split_seed})
            update: dict[str, Any] = {"split": split}
            if not self.search:
                update["search"] = None
            return yaml_model.model_copy(update=update)

    return TrainingRunConfig


def evaluation_run_config(uc: UseCaseConfig) -> type[EvaluationRunConfigBase]:
    """The evaluation asset's run configuration: the gate mode of this run."""
    yaml_model = model_config(uc)
    yaml_mode = yaml_model.gates.mode

    class EvaluationRunConfig(EvaluationRunConfigBase):
        """Knobs of one evaluation/promotion run; the default is the YAML's gate mode."""

        gate_mode: GateMode = Field(
            default=yaml_mode,
            description=f"Gate mode of this run (YAML `gates.mode`: {yaml_mode}). `enabled` "
            "promotes on pass, `dry_run` records what would happen, `disabled` skips the gates "
            "(needs a `reason`).",
        )

        @model_validator(mode="after")
        def _disabled_needs_reason(self) -> "EvaluationRunConfig":
            if self.gate_mode == "disabled" != yaml_mode and not self.reason.strip():
                raise ValueError(
                    "gate_mode 'disabled' turns the promotion gates off for this run; "
                    "fix: give a `reason` (it is recorded with the evaluation)"
                )
            return self

        def model(self) -> ModelConfig:
            """The model config with this run's gate mode."""
            gates = yaml_model.gates.model_copy(update={"mode": self.gate_mode})
            return yaml_model.model_copy(update={"gates": gates})

    return EvaluationRunConfig
