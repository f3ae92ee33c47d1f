"""Model Serving endpoint configs: names, served entities, canary traffic, what is served now.

Pure functions over databricks-sdk's dataclasses (imported lazily); :mod:`serving` applies them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from mlops_assets.config.databricks import ServingSettings
from mlops_assets.errors import ServingError

if TYPE_CHECKING:
    from databricks.sdk.service.serving import (
        EndpointCoreConfigInput,
        ServedEntityInput,
        ServingEndpointDetailed,
    )

_NAME_LIMIT = 63


def endpoint_name(prefix: str, use_case: str, model: str) -> str:
    """``<prefix>-<use case>-<model>``, restricted to what Databricks accepts (63 characters)."""
    raw = f"{prefix}-{use_case}-{model}"
    name = re.sub(r"[^A-Za-z0-9_]+", "-", raw).strip("-")[:_NAME_LIMIT].rstrip("-")
    if not name:
        raise ServingError(
            f"cannot derive an endpoint name from {raw!r}",
            fix="use letters, digits, '-' or '_' in the serving prefix and names",
        )
    return name


def served_entity_name(model_name: str, version: str) -> str:
    """``<model>-<version>`` (the last part of the three-level name), as Databricks names them."""
    return f"{model_name.split('.')[-1]}-{version}"


def served_entity(settings: ServingSettings, model_name: str, version: str) -> ServedEntityInput:
    """The served entity of ``version`` with the configured workload."""
    from databricks.sdk.service.serving import ServedEntityInput, ServingModelWorkloadType

    return ServedEntityInput(
        name=served_entity_name(model_name, version),
        entity_name=model_name,
        entity_version=version,
        workload_size=settings.workload_size,
        workload_type=ServingModelWorkloadType(settings.workload_type),
        scale_to_zero_enabled=settings.scale_to_zero,
    )


def target_config(
    settings: ServingSettings,
    model_name: str,
    version: str,
    current: ServingEndpointDetailed | None,
) -> EndpointCoreConfigInput:
    """The config serving ``version``, keeping the stable version for a canary split."""
    from databricks.sdk.service.serving import EndpointCoreConfigInput, Route, TrafficConfig

    new = served_entity(settings, model_name, version)
    assert new.name is not None
    entities, routes = [new], [Route(served_model_name=new.name, traffic_percentage=100)]
    stable = stable_entity(current)
    share = settings.traffic_percent
    if share < 100 and stable is not None and stable.name != new.name:
        entities.append(stable)
        assert stable.name is not None
        routes = [
            Route(served_model_name=new.name, traffic_percentage=share),
            Route(served_model_name=stable.name, traffic_percentage=100 - share),
        ]
    return EndpointCoreConfigInput(
        served_entities=entities, traffic_config=TrafficConfig(routes=routes)
    )


def is_updating(detailed: ServingEndpointDetailed) -> bool:
    from databricks.sdk.service.serving import EndpointStateConfigUpdate

    state = detailed.state
    return state is not None and state.config_update == EndpointStateConfigUpdate.IN_PROGRESS


def stable_entity(current: ServingEndpointDetailed | None) -> ServedEntityInput | None:
    """The served entity receiving the most traffic now (None without a config)."""
    if current is None or current.config is None:
        return None
    entities = as_input(current).served_entities or []
    routes = current.config.traffic_config.routes if current.config.traffic_config else None
    share = {
        r.served_model_name or r.served_entity_name: r.traffic_percentage for r in routes or []
    }
    return max(entities, key=lambda e: share.get(e.name, 0), default=None)


def as_input(detailed: ServingEndpointDetailed) -> EndpointCoreConfigInput:
    """The endpoint's current config as an input config (to restore it)."""
    from databricks.sdk.service.serving import EndpointCoreConfigInput, ServedEntityInput

    assert detailed.config is not None
    entities = [
        ServedEntityInput(
            name=e.name,
            entity_name=e.entity_name,
            entity_version=e.entity_version,
            workload_size=e.workload_size,
            workload_type=e.workload_type,
            scale_to_zero_enabled=e.scale_to_zero_enabled,
            environment_vars=e.environment_vars,
        )
        for e in detailed.config.served_entities or []
    ]
    return EndpointCoreConfigInput(
        served_entities=entities, traffic_config=detailed.config.traffic_config
    )


def _input_signature(config: EndpointCoreConfigInput) -> Any:
    entities = sorted(
        (e.entity_name, e.entity_version, e.workload_size, e.scale_to_zero_enabled)
        for e in config.served_entities or []
    )
    routes = config.traffic_config.routes if config.traffic_config else None
    traffic = sorted((r.served_model_name or "", r.traffic_percentage) for r in routes or [])
    return entities, traffic


def same_config(current: ServingEndpointDetailed, target: EndpointCoreConfigInput) -> bool:
    """Whether the endpoint already serves exactly ``target`` (entities, sizes, traffic)."""
    if current.config is None:
        return False
    return bool(_input_signature(as_input(current)) == _input_signature(target))
