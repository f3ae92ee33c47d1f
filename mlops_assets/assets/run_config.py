"""Run configuration: the knobs a person turns for ONE run, with the YAML as every default.

Each asset family builds its ``dg.Config`` class per use case (defaults are the use case's YAML
values, so an empty launchpad means "as configured"). This module holds what they share: the
strict base class and the metadata entries and MLflow tags that record every non-default value.
The catalog of every family's class and its Markdown reference are in
:mod:`mlops_assets.assets.run_config_reference`.

Dagster checks the schema (field names, types, choices) when a run is launched; the Pydantic
validators (cross-field rules, e.g. a looser gate without a reason) run when the step builds its
config, before the step reads any data.
"""

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

import dagster as dg
from pydantic import AfterValidator, BaseModel, ConfigDict

from mlops_assets.resources.metadata import markdown_table

RUN_CONFIG = "run_config"
"""Metadata entry: Markdown table of the run-config values that differ from the YAML."""


class RunConfigBase(dg.Config):
    """Base of every asset family's run configuration: unknown fields are an error."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", arbitrary_types_allowed=True, defer_build=True
    )


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
