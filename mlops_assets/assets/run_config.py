"""Run configuration: the knobs a person turns for ONE run, with the YAML as every default.

Each asset family builds its ``dg.Config`` class per use case (defaults are the use case's YAML
values, so an empty launchpad means "as configured"). This module holds what they share: the
strict base class, the metadata entries that record every non-default value, and the README's
reference table (:func:`run_config_reference_markdown`).

Dagster checks the schema (field names, types, choices) when a run is launched; the Pydantic
validators (cross-field rules, e.g. a looser gate without a reason) run when the step builds its
config, before the step reads any data.
"""

from collections.abc import Iterator, Mapping
from typing import Any, Literal, get_args, get_origin

import dagster as dg
from pydantic import BaseModel, ConfigDict

from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.resources.metadata import markdown_table

RUN_CONFIG = "run_config"
"""Metadata entry: Markdown table of the run-config values that differ from the YAML."""


class RunConfigBase(dg.Config):
    """Base of every asset family's run configuration: unknown fields are an error."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


def _flatten(values: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for name, value in values.items():
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", value


def non_default_values(config: BaseModel) -> dict[str, Any]:
    """Every leaf value of ``config`` that differs from its default (dotted names)."""
    defaults = dict(_flatten(type(config)().model_dump()))
    return {k: v for k, v in _flatten(config.model_dump()) if defaults.get(k, object()) != v}


def run_config_metadata(config: BaseModel) -> dict[str, dg.MetadataValue]:
    """``run_config`` (Markdown) plus ``run_config/<field>`` entries for non-default values.

    Empty when the run used the YAML as configured.
    """
    changed = non_default_values(config)
    if not changed:
        return {}
    defaults = dict(_flatten(type(config)().model_dump()))
    rows = [[name, value, defaults.get(name)] for name, value in sorted(changed.items())]
    entries: dict[str, dg.MetadataValue] = {
        RUN_CONFIG: markdown_table(["field", "this run", "default (YAML)"], rows)
    }
    for name, value in changed.items():
        entries[f"{RUN_CONFIG}/{name}"] = dg.MetadataValue.text(str(value))
    return entries


def run_config_tags(config: BaseModel) -> dict[str, str]:
    """MLflow tags ``mlops.run_config.<field>`` of the non-default values."""
    return {f"mlops.run_config.{k}": str(v)[:5000] for k, v in non_default_values(config).items()}


def _describe(model: type[BaseModel], prefix: str = "") -> Iterator[list[object]]:
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from _describe(annotation, f"{prefix}{name}.")
            continue
        default = field.get_default(call_default_factory=True)
        shown = "" if default is None else f"`{default}`"
        if get_origin(annotation) is Literal:
            kind = "one of " + ", ".join(f"`{a}`" for a in get_args(annotation))
        else:
            kind = getattr(annotation, "__name__", str(annotation)).replace("typing.", "")
        yield [f"`{prefix}{name}`", kind, shown, field.description or ""]


def run_config_classes(uc: UseCaseConfig) -> dict[str, type[RunConfigBase]]:
    """The run-config class of every asset family of a use case, by family."""
    from mlops_assets.assets.medallion.run_config import silver_run_config
    from mlops_assets.assets.ml.run_config import evaluation_run_config, training_run_config
    from mlops_assets.assets.ml.serving_run_config import DeploymentRunConfig, InferenceRunConfig
    from mlops_assets.assets.monitoring.run_config import PerformanceRunConfig, drift_run_config

    classes: dict[str, type[RunConfigBase]] = {
        f"silver `{ds.name}`": silver_run_config(ds) for ds in uc.datasets
    }
    if uc.model is not None:
        classes["training"] = training_run_config(uc)
        classes["evaluation"] = evaluation_run_config(uc)
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
        lines += ["", f"#### {family}", "", "| field | type | default | description |"]
        lines.append("|---|---|---|---|")
        for row in _describe(cls):
            cells = [str(c).replace("|", "\\|").replace("\n", " ") for c in row]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
