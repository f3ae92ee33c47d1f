"""Databricks authentication from environment variables NAMED in the configuration.

Two ways in, chosen explicitly (never guessed from whatever happens to be set):

* ``pat``: the workspace URL + a personal access token;
* ``oauth-m2m``: the workspace URL + a service principal's OAuth client id and secret (the SDK
  exchanges them for short-lived tokens at ``/oidc/v1/token``).

Secret values live in :class:`pydantic.SecretStr` fields and are only unwrapped when the SDK
client is built; :func:`redact` removes them from any text that could reach a log, metadata or an
exception (SDK errors are wrapped through :func:`databricks_error`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from mlops_assets.errors import DatabricksError, MLOpsError

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient

    from mlops_assets.config.environment import DatabricksEnvironment

AuthType = Literal["pat", "oauth-m2m"]
_MASK = "***"


class AuthSettings(BaseModel):
    """Which variables hold the credentials, and the SDK's patience (no secret in here)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    auth_type: AuthType = Field(description="`pat` or `oauth-m2m`.")
    host_env: str = Field(default="DATABRICKS_HOST", description="Variable holding the URL.")
    token_env: str = Field(default="DATABRICKS_TOKEN", description="Variable holding the PAT.")
    client_id_env: str = Field(
        default="DATABRICKS_CLIENT_ID", description="Variable holding the OAuth client id."
    )
    client_secret_env: str = Field(
        default="DATABRICKS_CLIENT_SECRET", description="Variable holding the OAuth secret."
    )
    retry_timeout_s: float = Field(
        default=300.0, gt=0, description="Budget for retrying 429/503 (Retry-After honoured)."
    )
    http_timeout_s: float = Field(default=60.0, gt=0, description="Timeout of one request.")


class Credentials(BaseModel):
    """Resolved credentials; secrets stay wrapped until the client is built."""

    model_config = ConfigDict(frozen=True)

    host: str = Field(description="Workspace URL.")
    auth_type: AuthType = Field(description="`pat` or `oauth-m2m`.")
    token: SecretStr | None = Field(default=None, description="PAT (pat).")
    client_id: str | None = Field(default=None, description="OAuth client id (oauth-m2m).")
    client_secret: SecretStr | None = Field(default=None, description="OAuth secret (oauth-m2m).")
    retry_timeout_s: float = Field(description="SDK retry budget.")
    http_timeout_s: float = Field(description="Timeout of one request.")

    def secrets(self) -> list[str]:
        """The secret values, for :func:`redact`."""
        return [s.get_secret_value() for s in (self.token, self.client_secret) if s is not None]


def _required(environ: Mapping[str, str], name: str, what: str, auth_type: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise DatabricksError(
            f"environment variable {name} ({what}) is not set",
            context={"auth_type": auth_type, "variable": name},
            fix=f"export {name}=... in the environment of the Dagster process (or name another "
            "variable in configs/environments/<env>.yaml)",
        )
    return value


def resolve_credentials(
    settings: AuthSettings, environ: Mapping[str, str] | None = None
) -> Credentials:
    """Read the variables ``settings`` names (from ``environ``, default the process environment).

    Raises:
        DatabricksError: a required variable is unset or the host is not a URL (the message names
            the variable, never its value).
    """
    environ = os.environ if environ is None else environ
    kind = settings.auth_type
    host = _required(environ, settings.host_env, "workspace URL", kind).rstrip("/")
    if not host.startswith(("https://", "http://")):
        raise DatabricksError(
            f"{settings.host_env} must be the workspace URL (https://...)",
            context={"auth_type": kind, "variable": settings.host_env},
            fix="set it to e.g. https://adb-1234567890123456.7.azuredatabricks.net",
        )
    token = client_id = secret = None
    if kind == "pat":
        token = SecretStr(_required(environ, settings.token_env, "personal access token", kind))
    else:
        client_id = _required(environ, settings.client_id_env, "OAuth client id", kind)
        secret = SecretStr(_required(environ, settings.client_secret_env, "OAuth secret", kind))
    return Credentials(
        host=host,
        auth_type=kind,
        token=token,
        client_id=client_id,
        client_secret=secret,
        retry_timeout_s=settings.retry_timeout_s,
        http_timeout_s=settings.http_timeout_s,
    )


def auth_settings(env: DatabricksEnvironment) -> AuthSettings:
    """The auth part of the ``databricks`` environment."""
    return AuthSettings(
        auth_type=env.auth_type,
        host_env=env.host_env,
        token_env=env.token_env,
        client_id_env=env.client_id_env,
        client_secret_env=env.client_secret_env,
        retry_timeout_s=env.retry_timeout_s,
        http_timeout_s=env.http_timeout_s,
    )


def workspace_client(credentials: Credentials) -> WorkspaceClient:
    """A ``WorkspaceClient`` for exactly these credentials.

    The auth type is set explicitly, so DATABRICKS_* variables or a ``~/.databrickscfg`` profile
    of the machine cannot switch the method behind our back.
    """
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.config import Config

    kwargs: dict[str, Any] = {
        "host": credentials.host,
        "auth_type": credentials.auth_type,
        "retry_timeout_seconds": max(1, math.ceil(credentials.retry_timeout_s)),
        "http_timeout_seconds": credentials.http_timeout_s,
    }
    if credentials.auth_type == "pat":
        assert credentials.token is not None
        kwargs["token"] = credentials.token.get_secret_value()
    else:
        assert credentials.client_secret is not None
        kwargs["client_id"] = credentials.client_id
        kwargs["client_secret"] = credentials.client_secret.get_secret_value()
    try:
        return WorkspaceClient(config=Config(**kwargs))
    except Exception as exc:  # ValueError from the SDK's config resolution
        raise databricks_error(
            "could not configure the Databricks client",
            exc,
            credentials,
            fix="check the workspace URL and the credentials' variables",
        ) from None


def redact(text: str, secrets: list[str]) -> str:
    """``text`` with every secret value (and its first 8+ characters) replaced by ``***``."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, _MASK)
        if len(secret) >= 12:  # a truncated secret in a message is still a leak
            text = text.replace(secret[:8], _MASK)
    return text


def databricks_error(
    what: str,
    exc: BaseException,
    credentials: Credentials | None,
    *,
    error: type[MLOpsError] = DatabricksError,
    context: Mapping[str, object] | None = None,
    fix: str,
) -> MLOpsError:
    """Our typed error for a failed SDK call: the cause's type and message, secrets redacted.

    Raise it ``from None`` when the SDK's exception could carry secrets in its own attributes.
    """
    secrets = credentials.secrets() if credentials is not None else []
    cause = exc.__cause__ if isinstance(exc, TimeoutError) and exc.__cause__ else exc
    detail = redact(f"{type(cause).__name__}: {cause}", secrets)
    status = getattr(cause, "error_code", None)
    full = {**(context or {}), **({"error_code": status} if status else {})}
    return error(f"{what}: {detail}", context=full, fix=redact(fix, secrets))
