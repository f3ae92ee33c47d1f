"""Model Serving endpoints of the fake workspace, with the real service's state machine.

create / update-config put the endpoint in ``config_update: IN_PROGRESS`` with a pending config;
after ``polls_to_ready`` GETs the update lands (``NOT_UPDATING``, ``ready: READY``) or, for a
version listed in ``failing_versions``, fails (``UPDATE_FAILED``, the old config stays). A second
update while one is in progress is refused (409), as Databricks does.

Invocations are answered by the REAL registered model (loaded from the local MLflow registry the
test points ``registry_uri`` at) unless a version is told to misbehave: ``http_500`` or
``wrong_shape`` in ``answers``.
"""

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from databricks.sdk.service.serving import ServingEndpointDetailed

from mlops_assets_tests.databricks.fake_http import HttpError
from mlops_assets_tests.databricks.fake_validation import InvalidRequestError, check_response

Answer = Literal["model", "http_500", "wrong_shape"]


@dataclass
class Endpoint:
    name: str
    created_at: int
    config: dict[str, Any] | None = None
    pending: dict[str, Any] | None = None
    config_update: str = "NOT_UPDATING"
    polls_left: int = 0
    config_version: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)


def _served_output(entity: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in entity.items() if k != "traffic_percentage"}
    out["state"] = {"deployment": "DEPLOYMENT_READY", "deployment_state_message": ""}
    return out


class ServingEndpoints:
    """In-memory endpoints; every method is called under the server's lock."""

    def __init__(self, polls_to_ready: int = 2) -> None:
        self.polls_to_ready = polls_to_ready
        self.endpoints: dict[str, Endpoint] = {}
        self.failing_versions: set[tuple[str, str]] = set()
        self.answers: dict[tuple[str, str], Answer] = {}
        self.registry_uri: str | None = None
        self.invocations: list[tuple[str, str, str]] = []  # (endpoint, entity, version)
        self._models: dict[tuple[str, str], Any] = {}
        self._load_lock = threading.Lock()

    def _get(self, name: str) -> Endpoint:
        endpoint = self.endpoints.get(name)
        if endpoint is None:
            raise KeyError(name)
        return endpoint

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        name = body["name"]
        if name in self.endpoints:
            raise FileExistsError(name)
        if not (body.get("config") or {}).get("served_entities"):
            raise InvalidRequestError("config.served_entities is required")
        endpoint = Endpoint(name=name, created_at=int(time.time() * 1000))
        self.endpoints[name] = endpoint
        self._start_update(endpoint, body["config"])
        return self.detailed(endpoint)

    def update_config(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        endpoint = self._get(name)
        if endpoint.config_update == "IN_PROGRESS":
            raise BlockingIOError(name)
        if not body.get("served_entities"):
            raise InvalidRequestError("served_entities is required")
        self._start_update(endpoint, body)
        return self.detailed(endpoint)

    def _start_update(self, endpoint: Endpoint, config: dict[str, Any]) -> None:
        entities = config["served_entities"]
        names = [
            e.get("name") or f"{e['entity_name'].split('.')[-1]}-{e['entity_version']}"
            for e in entities
        ]
        routes = (config.get("traffic_config") or {}).get("routes")
        if routes is None:
            routes = [
                {"served_model_name": n, "traffic_percentage": 100 // len(names)} for n in names
            ]
        if sum(r["traffic_percentage"] for r in routes) != 100:
            raise InvalidRequestError("traffic percentages must add up to 100")
        unknown = {r.get("served_model_name") or r.get("served_entity_name") for r in routes} - set(
            names
        )
        if unknown:
            raise InvalidRequestError(
                f"routes name unknown served entities {sorted(map(str, unknown))}"
            )
        endpoint.pending = {
            "served_entities": [{**e, "name": n} for e, n in zip(entities, names, strict=True)],
            "traffic_config": {"routes": routes},
        }
        endpoint.config_update = "IN_PROGRESS"
        endpoint.polls_left = self.polls_to_ready

    def get(self, name: str) -> dict[str, Any]:
        endpoint = self._get(name)
        if endpoint.config_update == "IN_PROGRESS":
            endpoint.polls_left -= 1
            if endpoint.polls_left <= 0:
                self._finish_update(endpoint)
        return self.detailed(endpoint)

    def _finish_update(self, endpoint: Endpoint) -> None:
        assert endpoint.pending is not None
        versions = {
            (e["entity_name"], e["entity_version"]) for e in endpoint.pending["served_entities"]
        }
        if versions & self.failing_versions:
            endpoint.config_update = "UPDATE_FAILED"
        else:
            endpoint.config_version += 1
            endpoint.config = {**endpoint.pending, "config_version": endpoint.config_version}
            endpoint.history.append(endpoint.config)
            endpoint.config_update = "NOT_UPDATING"
        endpoint.pending = None

    def delete(self, name: str) -> None:
        self._get(name)
        del self.endpoints[name]

    def detailed(self, endpoint: Endpoint) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "name": endpoint.name,
            "id": f"id-{endpoint.name}",
            "creator": "fake@example.com",
            "creation_timestamp": endpoint.created_at,
            "last_updated_timestamp": int(time.time() * 1000),
            "state": {
                "config_update": endpoint.config_update,
                "ready": "READY" if endpoint.config is not None else "NOT_READY",
            },
        }
        if endpoint.config is not None:
            payload["config"] = {
                "served_entities": [_served_output(e) for e in endpoint.config["served_entities"]],
                "traffic_config": endpoint.config["traffic_config"],
                "config_version": endpoint.config["config_version"],
            }
        if endpoint.pending is not None:
            payload["pending_config"] = {
                "served_entities": [_served_output(e) for e in endpoint.pending["served_entities"]],
                "traffic_config": endpoint.pending["traffic_config"],
            }
        return check_response(ServingEndpointDetailed, payload)

    def pick_entity(self, name: str, served: str | None) -> dict[str, Any]:
        """The served entity a request reaches: the one named, else by traffic (largest share)."""
        endpoint = self._get(name)
        if endpoint.config is None:
            raise HttpError(400, "BAD_REQUEST", f"endpoint {name} is not ready")
        entities = {e["name"]: e for e in endpoint.config["served_entities"]}
        if served is not None:
            if served not in entities:
                raise HttpError(404, "RESOURCE_DOES_NOT_EXIST", f"no served entity {served}")
            chosen: dict[str, Any] = entities[served]
            return chosen
        routes = endpoint.config["traffic_config"]["routes"]
        best = max(routes, key=lambda r: r["traffic_percentage"])
        chosen = entities[best.get("served_model_name") or best["served_entity_name"]]
        return chosen

    def answer(self, entity: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        """Predictions for a validated ``dataframe_split`` body (called outside the lock)."""
        key = (entity["entity_name"], entity["entity_version"])
        mode = self.answers.get(key, "model")
        if mode == "http_500":
            raise HttpError(500, "INTERNAL_ERROR", "model server crashed while scoring")
        split = body.get("dataframe_split")
        if split is None:
            raise HttpError(400, "BAD_REQUEST", "the fake answers dataframe_split requests")
        if mode == "wrong_shape":
            return {"predictions": {"unexpected": "shape"}}
        import pandas as pd

        frame = pd.DataFrame(split["data"], columns=split["columns"])
        raw = self._model(key).predict(frame)
        predictions = raw.tolist() if hasattr(raw, "tolist") else list(raw)
        return {"predictions": predictions}

    def _model(self, key: tuple[str, str]) -> Any:
        with self._load_lock:
            if key not in self._models:
                import mlflow

                if self.registry_uri is None:
                    raise HttpError(500, "INTERNAL_ERROR", "the fake has no registry to load from")
                client = mlflow.MlflowClient(
                    registry_uri=self.registry_uri, tracking_uri=self.registry_uri
                )
                uri = client.get_model_version_download_uri(*key)
                self._models[key] = mlflow.pyfunc.load_model(uri)
            return self._models[key]
