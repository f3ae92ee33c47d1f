"""Dagster resources for Databricks: the workspace client, Pipes jobs and Model Serving.

Configuration holds only NAMES of environment variables; the values are read when a client is
built, and never land in resource config, metadata, logs or error messages.
:func:`databricks_resources` builds all three from the ``databricks`` environment.
"""

import logging
from typing import TYPE_CHECKING, Any

import dagster as dg
from pydantic import Field, PrivateAttr

from mlops_assets.config.databricks import PipesSettings, ServingSettings
from mlops_assets.config.environment import DatabricksEnvironment
from mlops_assets.databricks.auth import AuthSettings, Credentials
from mlops_assets.resources.serving import (
    DeploymentRequest,
    EndpointState,
    ServingResource,
    served_score,
)

if TYPE_CHECKING:
    from dagster_pipes import PipesExtras
    from databricks.sdk import WorkspaceClient
    from pydantic import BaseModel

    from mlops_assets.databricks.serving import DeploymentResult
    from mlops_assets.ml.tracking import MlflowSettings


class DatabricksResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """A ``WorkspaceClient`` from credentials in environment variables named here."""

    auth_type: str = Field(default="pat", description="`pat` or `oauth-m2m`.")
    host_env: str = Field(default="DATABRICKS_HOST", description="Variable holding the URL.")
    token_env: str = Field(default="DATABRICKS_TOKEN", description="Variable holding the PAT.")
    client_id_env: str = Field(
        default="DATABRICKS_CLIENT_ID", description="Variable holding the OAuth client id."
    )
    client_secret_env: str = Field(
        default="DATABRICKS_CLIENT_SECRET", description="Variable holding the OAuth secret."
    )
    retry_timeout_s: float = Field(default=300.0, description="Budget for retrying 429/503.")
    http_timeout_s: float = Field(default=60.0, description="Timeout of one request.")
    _client: "WorkspaceClient | None" = PrivateAttr(default=None)
    _credentials: Credentials | None = PrivateAttr(default=None)

    def credentials(self) -> Credentials:
        """The resolved credentials (DatabricksError naming a missing variable)."""
        from mlops_assets.databricks.auth import resolve_credentials

        if self._credentials is None:
            settings = AuthSettings(
                auth_type=self.auth_type,  # validated by AuthSettings
                host_env=self.host_env,
                token_env=self.token_env,
                client_id_env=self.client_id_env,
                client_secret_env=self.client_secret_env,
                retry_timeout_s=self.retry_timeout_s,
                http_timeout_s=self.http_timeout_s,
            )
            self._credentials = resolve_credentials(settings)
        return self._credentials

    def workspace_client(self) -> "WorkspaceClient":
        """The client (built once per resource instance)."""
        from mlops_assets.databricks.auth import workspace_client

        if self._client is None:
            self._client = workspace_client(self.credentials())
        return self._client

    def current_principal(self) -> str:
        """The user or service principal the credentials belong to (for audit tags)."""
        from mlops_assets.databricks.auth import databricks_error

        try:
            me = self.workspace_client().current_user.me()
        except Exception as exc:
            raise databricks_error(
                "could not read the current principal",
                exc,
                self.credentials(),
                fix="check the credentials and the workspace URL",
            ) from None
        return str(me.user_name or me.display_name or me.id)


class DatabricksPipesResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Runs a step of :mod:`mlops_assets.databricks.steps` as a Databricks job through Pipes."""

    databricks: DatabricksResource
    volume_path: str = Field(description="`/Volumes/<catalog>/<schema>/<volume>` for Pipes.")
    settings_json: str = Field(description="The environment's `pipes:` settings, as JSON.")

    def settings(self) -> PipesSettings:
        return PipesSettings.model_validate_json(self.settings_json)

    def run(
        self,
        context: dg.AssetExecutionContext,
        step: str,
        request: "BaseModel",
        extras: "PipesExtras | None" = None,
    ) -> dg.PipesClientCompletedInvocation:
        """Upload the entry script, submit the job, stream its logs; the completed invocation
        (``.get_materialize_result()`` carries the metadata the step reported)."""
        from mlops_assets.databricks.auth import databricks_error
        from mlops_assets.databricks.jobs import pipes_client, submit_spec, upload_entry_script

        settings = self.settings()
        client = self.databricks.workspace_client()
        try:
            script = upload_entry_script(client, self.volume_path)
        except Exception as exc:
            raise databricks_error(
                f"could not upload the Pipes entry script to {self.volume_path}",
                exc,
                self.databricks.credentials(),
                fix="create the volume and grant the principal READ VOLUME and WRITE VOLUME",
            ) from None
        run_name = f"mlops {step} {context.run.run_id[:8]}"
        task, submit_args = submit_spec(settings, script, run_name)
        context.log.info(f"submitting {step} as a Databricks job ({settings.compute.type})")
        invocation: dg.PipesClientCompletedInvocation = pipes_client(
            client, settings, self.volume_path
        ).run(
            context=context,
            task=task,
            submit_args=submit_args,
            extras={**(extras or {}), "step": step, "request": request.model_dump(mode="json")},
        )
        return invocation


class DatabricksServingResource(ServingResource):
    """Deploys champions to Databricks Model Serving (create/update, smoke test, rollback).

    The environment's ``serving`` resource: the endpoint asset calls :meth:`deploy` exactly as
    it calls the local one.
    """

    databricks: DatabricksResource
    settings_json: str = Field(description="The environment's `serving:` settings, as JSON.")

    def settings(self) -> ServingSettings:
        return ServingSettings.model_validate_json(self.settings_json)

    def deploy(self, request: DeploymentRequest, log: logging.Logger) -> EndpointState:
        """Serve the version on the use case's endpoint; on a failed smoke test the previous
        config is restored and a ServingError raised (the asset fails, nothing is recorded)."""
        from mlops_assets.ml.approval import approved_version

        # only a version the gates promoted (or an audited override) is served: a champion
        # state naming any other version is refused before the endpoint is touched
        approved_version(request.model_uri, request.mlflow)
        # Unity Catalog names are three-part: a bare name gets the settings' catalog.schema
        name = request.mlflow.model_name(request.model_name)
        uri = request.mlflow.model_uri(request.model_uri)
        # the smoke rows come from the model's signature, read from the registry the asset's
        # MLflow client points at (request.mlflow)
        log.info(f"deploying {name} v{request.version} to Model Serving")
        result = self.deploy_version(
            request.use_case, name, request.version, uri, mlflow=request.mlflow
        )
        log.info(
            f"endpoint {result.endpoint}: traffic {result.traffic}"
            + ("" if result.changed else " (already serving it, smoke-tested again)")
        )
        host = self.databricks.credentials().host.rstrip("/")
        return EndpointState(
            model_name=name,
            model_version=result.version,
            model_uri=uri,
            url=f"{host}/serving-endpoints/{result.endpoint}",
            pid=None,
            running=True,
            smoke_test_latency_ms=result.smoke.latency_ms,
            smoke_test_predictions=[
                served_score(p, request.task) for p in result.smoke.predictions
            ],
            endpoint=result.endpoint,
        )

    def deploy_version(
        self,
        use_case: str,
        model_name: str,
        version: str,
        model_uri: str | None = None,
        *,
        mlflow: "MlflowSettings | None" = None,
    ) -> "DeploymentResult":
        """Serve ``model_name`` (three-level) ``version`` on the use case's endpoint.

        Args:
            model_uri: where to read the signature and input example for the smoke test
                (default ``models:/<model_name>/<version>``).
            mlflow: the stores to read it from (default: those this process's MLflow points at).
        """
        from mlops_assets.databricks.endpoint_config import endpoint_name
        from mlops_assets.databricks.serving import EndpointDeployer
        from mlops_assets.databricks.smoke import smoke_request

        settings = self.settings()
        request = smoke_request(
            model_uri or f"models:/{model_name}/{version}", settings.smoke_rows, mlflow
        )
        name = endpoint_name(settings.endpoint_prefix, use_case, model_name.split(".")[-1])
        deployer = EndpointDeployer(
            self.databricks.workspace_client(), settings, self.databricks.credentials()
        )
        return deployer.deploy(name, model_name, version, request)


def databricks_resources(env: DatabricksEnvironment) -> dict[str, Any]:
    """``databricks``, ``databricks_pipes`` (when compute is pipes) and ``databricks_serving``
    (bound as ``serving`` too by :mod:`mlops_assets.resources.factory`)."""
    from mlops_assets.databricks.jobs import volume_path

    databricks = DatabricksResource(
        auth_type=env.auth_type,
        host_env=env.host_env,
        token_env=env.token_env,
        client_id_env=env.client_id_env,
        client_secret_env=env.client_secret_env,
        retry_timeout_s=env.retry_timeout_s,
        http_timeout_s=env.http_timeout_s,
    )
    resources: dict[str, Any] = {
        "databricks": databricks,
        "databricks_serving": DatabricksServingResource(
            databricks=databricks, settings_json=env.serving.model_dump_json(by_alias=True)
        ),
    }
    if env.pipes is not None:
        resources["databricks_pipes"] = DatabricksPipesResource(
            databricks=databricks,
            volume_path=volume_path(env),
            settings_json=env.pipes.model_dump_json(by_alias=True),
        )
    return resources
