"""Authentication from variables named in config: PAT and OAuth M2M, against the fake workspace."""

import pytest

from mlops_assets.config.project import load_project
from mlops_assets.databricks.auth import (
    auth_settings,
    redact,
    resolve_credentials,
    workspace_client,
)
from mlops_assets.errors import DatabricksError
from mlops_assets_tests.conftest import CONFIGS_DIR
from mlops_assets_tests.databricks.conftest import (
    CLIENT_ID,
    CLIENT_SECRET,
    CLIENT_SECRET_ENV,
    HOST_ENV,
    TOKEN,
    TOKEN_ENV,
)
from mlops_assets_tests.databricks.conftest import (
    auth_settings as settings_for,
)
from mlops_assets_tests.databricks.fake_workspace import FakeWorkspace


def test_pat_credentials_reach_the_workspace(
    fake: FakeWorkspace, dbx_environ: dict[str, str]
) -> None:
    credentials = resolve_credentials(settings_for("pat"))
    assert credentials.auth_type == "pat" and credentials.host == fake.host
    assert TOKEN not in repr(credentials)  # SecretStr
    client = workspace_client(credentials)
    assert client.current_user.me().user_name == "fake-user@example.com"
    assert fake.issued_tokens == set()  # no OAuth exchange for a PAT


def test_oauth_m2m_exchanges_the_client_secret_for_a_token(
    fake: FakeWorkspace, dbx_environ: dict[str, str]
) -> None:
    credentials = resolve_credentials(settings_for("oauth-m2m"))
    assert credentials.token is None and credentials.client_id == CLIENT_ID
    client = workspace_client(credentials)
    assert client.current_user.me().user_name == "fake-user@example.com"
    assert len(fake.issued_tokens) == 1
    paths = [p for _, p, _ in fake.requests]
    assert "/oidc/v1/token" in paths and "/api/2.0/preview/scim/v2/Me" in paths


def test_the_explicit_auth_type_wins_over_whatever_the_machine_has(
    fake: FakeWorkspace, dbx_environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABRICKS_CLIENT_ID", "someone-else")  # read by the SDK on its own
    monkeypatch.setenv("DATABRICKS_CLIENT_SECRET", "not-ours")
    client = workspace_client(resolve_credentials(settings_for("pat")))
    assert client.config.auth_type == "pat"
    assert client.current_user.me().user_name == "fake-user@example.com"
    assert fake.issued_tokens == set()


def test_a_wrong_secret_is_refused_and_never_echoed(
    fake: FakeWorkspace, dbx_environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "dose-WRONG-SECRET-0123456789"
    monkeypatch.setenv(CLIENT_SECRET_ENV, wrong)
    credentials = resolve_credentials(settings_for("oauth-m2m"))
    with pytest.raises(Exception) as caught:
        workspace_client(credentials).current_user.me()
    assert wrong not in str(caught.value) and CLIENT_SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("auth_type", "unset", "what"),
    [
        ("pat", TOKEN_ENV, "personal access token"),
        ("pat", HOST_ENV, "workspace URL"),
        ("oauth-m2m", CLIENT_SECRET_ENV, "OAuth secret"),
    ],
)
def test_a_missing_variable_is_named_with_a_fix(
    dbx_environ: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    auth_type: str,
    unset: str,
    what: str,
) -> None:
    monkeypatch.delenv(unset)
    with pytest.raises(DatabricksError) as caught:
        resolve_credentials(settings_for(auth_type))
    error = caught.value
    assert unset in error.message and what in error.message
    assert error.context == {"auth_type": auth_type, "variable": unset}
    assert error.fix and f"export {unset}=" in error.fix


def test_a_host_that_is_not_a_url_is_refused_without_echoing_it(
    dbx_environ: dict[str, str],
) -> None:
    environ = {**dbx_environ, HOST_ENV: "dapi-looks-like-a-token"}
    with pytest.raises(DatabricksError, match="must be the workspace URL") as caught:
        resolve_credentials(settings_for("pat"), environ)
    assert "dapi-looks-like-a-token" not in str(caught.value)


def test_redact_hides_secrets_and_their_prefixes() -> None:
    text = f"Authorization: Bearer {TOKEN}; truncated {TOKEN[:10]}..."
    hidden = redact(text, [TOKEN])
    assert hidden.startswith("Authorization: Bearer ***; truncated ***")
    assert TOKEN[:8] not in hidden and redact("nothing secret", [TOKEN]) == "nothing secret"


def test_auth_settings_come_from_the_environment_overlays() -> None:
    environ = {"MLOPS_DATA_DIR": "/tmp/unused"}
    dev = load_project(CONFIGS_DIR, env="databricks-dev", environ=environ).environment
    prod = load_project(CONFIGS_DIR, env="databricks-prod", environ=environ).environment
    assert auth_settings(dev).auth_type == "pat"  # type: ignore[arg-type]
    settings = auth_settings(prod)  # type: ignore[arg-type]
    assert (settings.auth_type, settings.client_secret_env) == (
        "oauth-m2m",
        "DATABRICKS_CLIENT_SECRET",
    )
    assert settings.retry_timeout_s == 600
