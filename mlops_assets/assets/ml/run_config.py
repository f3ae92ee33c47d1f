"""Run configuration of the model assets: training and evaluation/promotion, per use case.

Training's estimator parameters are a typed class per model flavour: one field per parameter of
the YAML's ``flavor.params`` and of the estimator's constructor, each defaulting to the YAML value
(else the estimator's own default). Unknown parameters are rejected when the run is launched.

Cross-field rules are written into the schema, so Dagster rejects a bad combination when the run
is launched (in the launchpad, by the sensor or schedule, or by ``execute_in_process``), before
any step starts:

- ``split`` is a discriminated union: ``as_configured`` or ``reseed`` with a required ``seed``
  and ``reason`` (a reseed changes the held-out entities, so it is never silent);
- ``search`` exists only when the YAML has a ``model.search`` (otherwise it is an unknown entry);
- ``gate`` is a discriminated union: ``enabled``, ``dry_run``, or ``disabled`` with a required
  ``reason`` (unless the YAML itself disables the gates).
"""

from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

from pydantic import Field, create_model

from mlops_assets.assets.ml.common import model_config
from mlops_assets.assets.ml.estimator_params import Scalar, estimator_defaults
from mlops_assets.assets.run_config import RunConfigBase, run_config_tags
from mlops_assets.config.ml import LightGBMFlavor, ModelConfig, ParamValue, XGBoostFlavor
from mlops_assets.config.use_case import UseCaseConfig

if TYPE_CHECKING:
    from mlops_assets.ml.model_store import ModelVersionInfo
    from mlops_assets.ml.registry import Registry

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


class SplitAsConfigured(RunConfigBase):
    """The YAML's split seed."""

    kind: Literal["as_configured"] = Field(
        default="as_configured", description="Split with the YAML's `split.seed`."
    )


class SplitReseeded(RunConfigBase):
    """Another split seed for this run; the held-out entities change, so a reason is required."""

    kind: Literal["reseed"] = Field(default="reseed", description="Split with another seed.")
    seed: int = Field(ge=0, description="Seed of the train/validation/test entity hash.")
    reason: str = Field(
        min_length=1,
        pattern=r"\S",
        description="Why the held-out entities change (the champion comparison is not like for "
        "like).",
    )


Split = Annotated[SplitAsConfigured | SplitReseeded, Field(discriminator="kind")]


class TrainingRunConfigBase(RunConfigBase):
    """What every use case's training run configuration has (its class sets the defaults)."""

    params: RunConfigBase = Field(
        default_factory=RunConfigBase, description="Estimator parameters for this run."
    )
    split: Split = Field(
        default_factory=SplitAsConfigured,
        description="`as_configured` (the YAML's `split.seed`) or `reseed` with a `seed` and a "
        "required `reason`.",
    )
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


class GateEnabled(RunConfigBase):
    """Gates on: promote when they pass."""

    mode: Literal["enabled"] = Field(default="enabled", description="Promote on pass.")


class GateDryRun(RunConfigBase):
    """Gates judged and recorded, nothing promoted."""

    mode: Literal["dry_run"] = Field(default="dry_run", description="Record, never promote.")


class GateDisabled(RunConfigBase):
    """Gates off for this run: looser than any configured mode, so a reason is required."""

    mode: Literal["disabled"] = Field(default="disabled", description="Skip the gates.")
    reason: str = Field(
        min_length=1,
        pattern=r"\S",
        description="Why the gates are off for this run (recorded with the evaluation).",
    )


class GateDisabledAsConfigured(GateDisabled):
    """Gates off, as the YAML says (no reason needed)."""

    reason: str = Field(default="", description="Why (optional: the YAML disables the gates).")


class EvaluationRunConfigBase(RunConfigBase):
    """What every use case's evaluation run configuration has."""

    gate: GateEnabled | GateDryRun | GateDisabled = Field(
        default_factory=GateEnabled, discriminator="mode", description="Gate mode of this run."
    )
    challenger_version: str = Field(
        default="",
        pattern=r"^(\d+)?$",
        description="Registered version to evaluate (and promote on pass) instead of the one "
        "trained upstream; empty: the upstream version.",
    )

    def challenger(
        self, registry: "Registry", name: str, upstream: "ModelVersionInfo"
    ) -> "ModelVersionInfo":
        """The version this run evaluates: ``challenger_version``, else the one upstream."""
        if not self.challenger_version:
            return upstream
        return registry.get_version(name, self.challenger_version)

    def tag(self, registry: "Registry", run_id: str) -> None:
        """The non-default values as ``mlops.run_config.*`` tags of the evaluation run."""
        for tag, value in run_config_tags(self).items():
            registry.client.set_tag(run_id, tag, value)

    @property
    def gate_mode(self) -> GateMode:
        """The gate mode of this run."""
        return self.gate.mode

    def model(self) -> ModelConfig:
        """The model config this run evaluates with."""
        raise NotImplementedError


_TRAINING_CLASSES: dict[str, type[TrainingRunConfigBase]] = {}
"""Built classes by model YAML: the asset and the retraining schedule share one class, and the
estimator's source is read once per code-location load."""


def training_run_config(uc: UseCaseConfig) -> type[TrainingRunConfigBase]:
    """The training asset's run configuration for ``uc`` (defaults: its YAML)."""
    yaml_model = model_config(uc)
    key = yaml_model.model_dump_json()
    if key not in _TRAINING_CLASSES:
        _TRAINING_CLASSES[key] = _build_training_run_config(yaml_model)
    return _TRAINING_CLASSES[key]


def _build_training_run_config(yaml_model: ModelConfig) -> type[TrainingRunConfigBase]:
    params_cls = estimator_params_class(yaml_model)
    seed = yaml_model.split.seed

    class TrainingRunConfig(TrainingRunConfigBase):
        """Knobs of one training run; every default is the YAML's."""

        params: params_cls = Field(  # type: ignore[valid-type]
            default_factory=params_cls,
            description="Estimator parameters for this run (defaults: YAML `flavor.params`, "
            "else the estimator's own). Unknown names are rejected.",
        )
        split: Split = Field(
            default_factory=SplitAsConfigured,
            description=f"`as_configured` (YAML `split.seed`: {seed}) or `reseed` with a `seed` "
            "and a required `reason` (changing the seed changes which entities are held out).",
        )

        def overrides(self) -> dict[str, ParamValue]:
            """The estimator parameters this run changes (empty: as configured)."""
            default = params_cls().model_dump()
            chosen = cast(RunConfigBase, self.params).model_dump()
            return {k: v for k, v in chosen.items() if default.get(k) != v}

        def model(self) -> ModelConfig:
            """The model config this run trains with (search and split applied)."""
            run_seed = self.split.seed if isinstance(self.split, SplitReseeded) else seed
            split = yaml_model.split.model_copy(update={"seed": run_seed})
            update: dict[str, Any] = {"split": split}
            if not getattr(self, "search", False):
                update["search"] = None
            return yaml_model.model_copy(update=update)

    if yaml_model.search is None:  # no `search` entry: asking for one fails at launch
        return TrainingRunConfig
    searched: type[TrainingRunConfigBase] = create_model(
        "TrainingRunConfig",
        __base__=TrainingRunConfig,
        search=(
            bool,
            Field(
                default=True,
                description="Run the YAML's hyper-parameter search (`model.search`); false "
                "trains once with `params`.",
            ),
        ),
    )
    return searched


def evaluation_run_config(uc: UseCaseConfig) -> type[EvaluationRunConfigBase]:
    """The evaluation asset's run configuration: the gate mode and challenger of this run."""
    yaml_model = model_config(uc)
    yaml_mode = yaml_model.gates.mode
    disabled = GateDisabledAsConfigured if yaml_mode == "disabled" else GateDisabled
    default = {"enabled": GateEnabled, "dry_run": GateDryRun, "disabled": disabled}[yaml_mode]

    class EvaluationRunConfig(EvaluationRunConfigBase):
        """Knobs of one evaluation/promotion run; the default is the YAML's gate mode."""

        gate: GateEnabled | GateDryRun | disabled = Field(  # type: ignore[valid-type]
            default_factory=default,
            discriminator="mode",
            description=f"Gate mode of this run (YAML `gates.mode`: {yaml_mode}). `enabled` "
            "promotes on pass, `dry_run` records what would happen, `disabled` skips the gates "
            "and needs a `reason`.",
        )

        def model(self) -> ModelConfig:
            """The model config with this run's gate mode."""
            gates = yaml_model.gates.model_copy(update={"mode": self.gate_mode})
            return yaml_model.model_copy(update={"gates": gates})

    return EvaluationRunConfig
