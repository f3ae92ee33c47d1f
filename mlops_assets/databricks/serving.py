"""Deploy a Unity Catalog model version to a Databricks Model Serving endpoint, safely.

:meth:`EndpointDeployer.deploy`:

1. read the endpoint (absent: it will be created); wait out an update already in progress;
2. create it, or update its config, to serve the version (workload size and type, scale to zero;
   with ``traffic_percent < 100`` the version served before keeps the rest: a canary);
3. poll until the update lands (``NOT_UPDATING`` and ``READY``), within ``ready_timeout_s``;
   ``UPDATE_FAILED`` leaves the previous config serving (Databricks keeps it): a ServingError;
4. smoke-test the NEW served entity with rows built from the model's signature;
5. if the smoke test fails, put the previous config back (or delete an endpoint this deployment
   created) and raise a ServingError that says so.

Every SDK failure (including the retry budget for 429/503 running out) becomes a ServingError
with context and a fix; secret values are redacted from messages.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from mlops_assets.config.databricks import ServingSettings
from mlops_assets.databricks.auth import Credentials, databricks_error
from mlops_assets.databricks.endpoint_config import (
    as_input,
    is_updating,
    same_config,
    served_entity_name,
    target_config,
)
from mlops_assets.databricks.smoke import SmokeRequest, prediction_problem
from mlops_assets.errors import MLOpsError, ServingError

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.service.serving import (
        EndpointCoreConfigInput,
        ServingEndpointDetailed,
    )

T = TypeVar("T")


class SmokeResult(BaseModel):
    """A successful request to the new served entity."""

    model_config = ConfigDict(frozen=True)

    served_entity: str = Field(description="Served entity queried.")
    n_rows: int = Field(description="Rows sent.")
    latency_ms: float = Field(description="Round trip of the request.")
    source: str = Field(description="Where the rows came from (input example or signature).")
    predictions: list[Any] = Field(description="The predictions returned.")


class DeploymentResult(BaseModel):
    """What a deployment changed."""

    model_config = ConfigDict(frozen=True)

    endpoint: str = Field(description="Endpoint name.")
    model_name: str = Field(description="Three-level Unity Catalog model name.")
    version: str = Field(description="Version now served.")
    served_entity: str = Field(description="Name of its served entity.")
    traffic: dict[str, int] = Field(description="Traffic percentage by served entity.")
    created: bool = Field(description="The endpoint was created by this deployment.")
    changed: bool = Field(description="False when the endpoint already served exactly this.")
    smoke: SmokeResult = Field(description="The smoke test of the new served entity.")


class EndpointDeployer:
    """Deploys versions to Model Serving endpoints with one ``WorkspaceClient``."""

    def __init__(
        self,
        client: WorkspaceClient,
        settings: ServingSettings,
        credentials: Credentials | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.settings = settings
        self.credentials = credentials
        self._sleep = sleep

    # ------------------------------------------------------------------ SDK calls
    def _call(self, what: str, endpoint: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except MLOpsError:
            raise
        except TimeoutError as exc:
            raise databricks_error(
                f"{what} for endpoint {endpoint!r} gave up after the retry budget",
                exc,
                self.credentials,
                error=ServingError,
                context={"endpoint": endpoint, "retry_timeout_s": self._retry_budget()},
                fix="the workspace kept answering 429/503 (rate limit or outage): retry later, "
                "or raise retry_timeout_s in configs/environments/<env>.yaml",
            ) from None
        except Exception as exc:
            raise databricks_error(
                f"{what} for endpoint {endpoint!r} failed",
                exc,
                self.credentials,
                error=ServingError,
                context={"endpoint": endpoint},
                fix="check the endpoint in the Serving UI and the principal's CAN_MANAGE "
                "permission on it and EXECUTE on the model",
            ) from None

    def _retry_budget(self) -> float | None:
        return None if self.credentials is None else self.credentials.retry_timeout_s

    def read(self, endpoint: str) -> ServingEndpointDetailed | None:
        """The endpoint, or None when it does not exist."""
        from databricks.sdk.errors import NotFound

        def get() -> ServingEndpointDetailed | None:
            try:
                return self.client.serving_endpoints.get(endpoint)
            except NotFound:
                return None

        return self._call("reading", endpoint, get)

    def wait_until_updated(self, endpoint: str) -> ServingEndpointDetailed:
        """Poll until no config update is in progress; the endpoint must then be READY.

        Raises:
            ServingError: the update failed or was cancelled, or did not finish in time.
        """
        from databricks.sdk.service.serving import EndpointStateConfigUpdate as Update
        from databricks.sdk.service.serving import EndpointStateReady

        deadline = time.monotonic() + self.settings.ready_timeout_s
        while True:
            detailed = self._call(
                "polling", endpoint, lambda: self.client.serving_endpoints.get(endpoint)
            )
            state = detailed.state
            update = state.config_update if state else None
            if update == Update.NOT_UPDATING:
                if state is None or state.ready != EndpointStateReady.READY:
                    raise ServingError(
                        f"endpoint {endpoint!r} finished its update but is not ready",
                        context={
                            "endpoint": endpoint,
                            "ready": str(state.ready if state else None),
                        },
                        fix="read the served entity's build and server logs in the Serving UI",
                    )
                return detailed
            if update in (Update.UPDATE_FAILED, Update.UPDATE_CANCELED):
                raise ServingError(
                    f"the config update of endpoint {endpoint!r} ended in {update.value}; "
                    "Databricks keeps serving the previous config",
                    context={"endpoint": endpoint},
                    fix="read the build logs of the new served entity (GET .../build-logs); "
                    "check the model's dependencies and the workload size",
                )
            if time.monotonic() >= deadline:
                raise ServingError(
                    f"endpoint {endpoint!r} was still updating after "
                    f"{self.settings.ready_timeout_s:g} s",
                    context={"endpoint": endpoint, "config_update": str(update)},
                    fix="raise serving.ready_timeout_s or check the endpoint in the Serving UI",
                )
            self._sleep(self.settings.poll_interval_s)

    def apply(self, endpoint: str, config: EndpointCoreConfigInput, exists: bool) -> None:
        """Create the endpoint with ``config`` or update its config (returns once submitted)."""
        if exists:
            self._call(
                "updating the config",
                endpoint,
                lambda: self.client.serving_endpoints.update_config(
                    endpoint,
                    served_entities=config.served_entities,
                    traffic_config=config.traffic_config,
                ),
            )
        else:
            self._call(
                "creating",
                endpoint,
                lambda: self.client.serving_endpoints.create(endpoint, config=config),
            )

    # ------------------------------------------------------------------ smoke test
    def smoke_test(
        self, endpoint: str, served: str, request: SmokeRequest, single: bool
    ) -> SmokeResult:
        """Query the served entity ``served`` (through the endpoint when it is the only one)."""
        from databricks.sdk.service.serving import DataframeSplitInput

        body = DataframeSplitInput(columns=request.columns, data=request.data)
        start = time.perf_counter()
        if single:
            response = self._call(
                "querying",
                endpoint,
                lambda: self.client.serving_endpoints.query(endpoint, dataframe_split=body),
            )
            predictions = response.predictions
        else:
            path = f"/serving-endpoints/{endpoint}/served-models/{served}/invocations"
            raw = self._call(
                "querying",
                endpoint,
                lambda: self.client.api_client.do(
                    "POST", path, body={"dataframe_split": body.as_dict()}
                ),
            )
            predictions = raw.get("predictions") if isinstance(raw, dict) else None
        latency_ms = (time.perf_counter() - start) * 1000
        problem = prediction_problem(predictions, len(request.data))
        if problem is not None:
            raise ServingError(
                f"served entity {served!r} of endpoint {endpoint!r} answered wrongly: {problem}",
                context={"endpoint": endpoint, "served_entity": served},
                fix="compare the model's signature with what it returns; check its logs",
            )
        assert isinstance(predictions, list)
        return SmokeResult(
            served_entity=served,
            n_rows=len(request.data),
            latency_ms=latency_ms,
            source=request.source,
            predictions=predictions,
        )

    # ------------------------------------------------------------------ deploy
    def deploy(
        self, endpoint: str, model_name: str, version: str, request: SmokeRequest
    ) -> DeploymentResult:
        """Serve ``model_name`` version ``version`` on ``endpoint``; see the module docstring.

        Raises:
            ServingError: the update failed, timed out, or the smoke test failed (then the
                previous config was restored, or the new endpoint deleted).
        """
        current = self.read(endpoint)
        if current is not None and is_updating(current):
            current = self.wait_until_updated(endpoint)
        target = target_config(self.settings, model_name, version, current)
        served = served_entity_name(model_name, version)
        changed = current is None or not same_config(current, target)
        if changed:
            self.apply(endpoint, target, exists=current is not None)
            self.wait_until_updated(endpoint)
        single = len(target.served_entities or []) == 1
        try:
            smoke = self.smoke_test(endpoint, served, request, single)
        except ServingError as failure:
            if not changed:
                raise
            note = self._roll_back(endpoint, current, failure)
            raise ServingError(
                f"{failure.message}; {note}",
                context={**failure.context, "rolled_back": True},
                fix=failure.fix,
            ) from failure
        routes = target.traffic_config.routes if target.traffic_config else None
        return DeploymentResult(
            endpoint=endpoint,
            model_name=model_name,
            version=version,
            served_entity=served,
            traffic={r.served_model_name or "": r.traffic_percentage for r in routes or []},
            created=current is None,
            changed=changed,
            smoke=smoke,
        )

    def _roll_back(
        self, endpoint: str, previous: ServingEndpointDetailed | None, failure: ServingError
    ) -> str:
        """Undo this deployment; what was done, as a sentence fragment."""
        try:
            if previous is None:
                self._call(
                    "deleting", endpoint, lambda: self.client.serving_endpoints.delete(endpoint)
                )
                return f"endpoint {endpoint!r} (created by this deployment) was deleted"
            if previous.config is None:  # it existed but never served anything
                raise ServingError(
                    "there was no working config to restore",
                    context={"endpoint": endpoint},
                    fix="stop or delete the endpoint in the Serving UI",
                )
            self.apply(endpoint, as_input(previous), exists=True)
            self.wait_until_updated(endpoint)
            return f"endpoint {endpoint!r} was rolled back to its previous config"
        except ServingError as undo:
            raise ServingError(
                f"{failure.message}; rolling back ALSO failed: {undo.message}",
                context={**failure.context, "rolled_back": False},
                fix="restore the endpoint's previous served entity by hand in the Serving UI",
            ) from undo
