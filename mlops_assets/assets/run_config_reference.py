"""The run-configuration catalog of a use case: every asset family's run-config class, and the
Markdown reference (``docs/run_config.md``, ``mlops-assets docs``) that describes their fields.

Kept apart from :mod:`mlops_assets.assets.run_config` (the base classes every family builds on)
so that imports point one way: the families import the base, this catalog imports the families.
"""

from collections.abc import Iterator
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel

from mlops_assets.assets.features.run_config import feature_run_config, training_set_run_config
from mlops_assets.assets.medallion.run_config import (
    BronzeRunConfig,
    gold_run_config,
    silver_run_config,
)
from mlops_assets.assets.ml.promotion_run_config import PromotionRunConfig
from mlops_assets.assets.ml.run_config import evaluation_run_config, training_run_config
from mlops_assets.assets.ml.serving_run_config import DeploymentRunConfig, InferenceRunConfig
from mlops_assets.assets.monitoring.run_config import PerformanceRunConfig, drift_run_config
from mlops_assets.assets.run_config import RunConfigBase
from mlops_assets.config.use_case import UseCaseConfig


def _kind(annotation: Any) -> str:
    if get_origin(annotation) is Literal:
        return "one of " + ", ".join(f"`{a}`" for a in get_args(annotation))
    return str(getattr(annotation, "__name__", annotation)).replace("typing.", "")


def _union_members(annotation: Any) -> list[type[BaseModel]]:
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    members = [a for a in get_args(annotation) if isinstance(a, type)]
    if len(members) > 1 and all(issubclass(a, BaseModel) for a in members):
        return members
    return []


def _describe(model: type[BaseModel], prefix: str = "") -> Iterator[list[object]]:
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from _describe(annotation, f"{prefix}{name}.")
            continue
        default = field.get_default(call_default_factory=True)
        members = _union_members(annotation)
        if members:  # a discriminated union: one row per alternative and its fields
            tag = next(iter(members[0].model_fields))
            chosen = getattr(default, tag, None)
            yield [
                f"`{prefix}{name}`",
                "one of the alternatives below",
                f"`{chosen}`",
                field.description or "",
            ]
            for member in members:
                choice = member.model_fields[tag].default
                yield [f"`{prefix}{name}.{choice}`", "alternative", "", member.__doc__ or ""]
                for row in _describe(member, f"{prefix}{name}.{choice}."):
                    if not str(row[0]).endswith(f".{tag}`"):
                        yield row
            continue
        shown = "" if default is None else f"`{default}`"
        if field.is_required():
            shown = "required"
        yield [f"`{prefix}{name}`", _kind(annotation), shown, field.description or ""]


def run_config_classes(uc: UseCaseConfig) -> dict[str, type[RunConfigBase]]:
    """The run-config class of every asset family of a use case, by family."""
    classes: dict[str, type[RunConfigBase]] = {}
    for ds in uc.datasets:
        classes[f"bronze `{ds.name}`"] = BronzeRunConfig
        classes[f"silver `{ds.name}`"] = silver_run_config(ds)
    for table in uc.gold:
        classes[f"gold `{table.name}`"] = gold_run_config(uc, table)
    for features in uc.feature_tables:
        classes[f"features `{features.name}`"] = feature_run_config(features)
    if uc.training_set is not None:
        classes["training set"] = training_set_run_config(uc.training_set)
    if uc.model is not None:
        classes["training"] = training_run_config(uc)
        classes["evaluation"] = evaluation_run_config(uc)
        classes["promotion"] = PromotionRunConfig
        classes["deployment"] = DeploymentRunConfig
        classes["inference"] = InferenceRunConfig
        classes["drift"] = drift_run_config(uc)
        classes["performance"] = PerformanceRunConfig
    return classes


def run_config_reference_markdown(uc: UseCaseConfig) -> str:
    """The README's run-configuration reference of one use case (Markdown)."""
    lines = [
        f"### Run configuration of `{uc.name}`",
        "",
        "Every field defaults to the YAML value; set only what this run should change. "
        "Non-default values are recorded in the materialization's `run_config` metadata "
        "(and as `mlops.run_config.*` MLflow tags for model assets).",
    ]
    for family, cls in run_config_classes(uc).items():
        lines += ["", f"#### {family}", ""]
        rows = list(_describe(cls))
        if not rows:
            lines.append("No run configuration: nothing of this table changes per run.")
            continue
        lines += ["| field | type | default | description |", "|---|---|---|---|"]
        for row in rows:
            cells = [str(c).replace("|", "\\|").replace("\n", " ") for c in row]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
