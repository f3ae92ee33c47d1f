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
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, get_args, get_origin

import dagster as dg
from pydantic import AfterValidator, BaseModel, ConfigDict

from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.resources.metadata import markdown_table

RUN_CONFIG = "run_config"
"""Metadata entry: Markdown table of the run-config values that differ from the YAML."""


class RunConfigBase(dg.Config):
    """Base of every asset family's run configuration: unknown fields are an error."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


AS_OF_DESCRIPTION = (
    "ISO-8601 time (e.g. `2026-01-03T12:00:00`, UTC when no offset is given); empty: as "
    "configured (no cut-off)."
)


def parse_as_of(value: str) -> datetime | None:
    """``value`` as an aware UTC datetime; None for ''. Raises ValueError naming the format."""
    if not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValueError(
            f"as_of {value!r} is not an ISO-8601 time; fix: write e.g. 2026-01-03T12:00:00"
        ) from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _as_of_parses(value: str) -> str:
    parse_as_of(value)  # a malformed time fails when the config is built
    return value


AsOf = Annotated[str, AfterValidator(_as_of_parses)]
"""An ``as_of`` run-config field: an ISO-8601 time or ''."""


class AsOfRunConfig(RunConfigBase):
    """A run-config family with an ``as_of`` cut-off (validated when the config is built).

    Subclasses declare ``as_of: AsOf`` (or leave it out where no cut-off applies).
    """

    def as_of_time(self) -> datetime | None:
        """The cut-off as an aware UTC datetime, or None (as configured, or no ``as_of``)."""
        return parse_as_of(str(getattr(self, "as_of", "")))


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
    from mlops_assets.assets.features.run_config import (
        feature_run_config,
        training_set_run_config,
    )
    from mlops_assets.assets.medallion.run_config import (
        BronzeRunConfig,
        gold_run_config,
        silver_run_config,
    )
    from mlops_assets.assets.ml.promotion_run_config import PromotionRunConfig
    from mlops_assets.assets.ml.run_config import evaluation_run_config, training_run_config
    from mlops_assets.assets.ml.serving_run_config import DeploymentRunConfig, InferenceRunConfig
    from mlops_assets.assets.monitoring.run_config import PerformanceRunConfig, drift_run_config

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
