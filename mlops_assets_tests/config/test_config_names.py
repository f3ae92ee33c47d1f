"""Names that become storage paths cannot escape the data dir; secret fields take only names.

Path traversal: a small matrix of hostile values (``..``, absolute paths, separators, NUL,
newline) in every config name that becomes a path (use case, dataset, landing folder, gold and
feature table, model) is refused when the project loads, with the key path in the error.

Secrets: every field naming a secret (``*_env``) takes only an environment variable NAME; a
secret-looking value is refused without being echoed.
"""

import copy
import importlib
import inspect
import pkgutil
from pathlib import Path
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

import mlops_assets.config
from mlops_assets.config.project import load_project
from mlops_assets.errors import ConfigError
from mlops_assets_tests.config.config_helpers import (
    dataset,
    environ_for,
    load_error,
    load_use_case,
    write_use_case,
)

HOSTILE = ["../evil", "/etc", "a/b", "a\\b", "..", "a\x00b", "a\nb"]


def _set_name(data: dict[str, Any], where: str, value: str) -> None:
    if where == "use case":
        data["name"] = value
    elif where == "dataset":
        dataset(data, "customers")["name"] = value
    elif where == "landing folder":
        dataset(data, "customers").setdefault("source", {})["subdir"] = value
    elif where == "gold table":
        data["gold"][0]["name"] = value
    elif where == "feature table":
        data["feature_tables"][0]["name"] = value
    else:
        data["model"]["name"] = value


@pytest.mark.parametrize(
    "where", ["use case", "dataset", "landing folder", "gold table", "feature table", "model"]
)
def test_a_name_that_could_leave_the_data_dir_is_refused_at_load(
    configs_copy: Path, data_dir: Path, where: str
) -> None:
    base = load_use_case(configs_copy)
    for value in HOSTILE:
        data = copy.deepcopy(base)
        _set_name(data, where, value)
        write_use_case(configs_copy, data)
        err = load_error(configs_copy, data_dir)
        text = f"{err}\n{err.context}"
        assert "\x00" not in text, where  # a control character is never printed raw
        if where != "use case":  # the use case name also has to match its file name
            assert "churn.yaml" in text, text
    write_use_case(configs_copy, base)
    load_project(configs_copy, environ=environ_for(data_dir))  # the unchanged file still loads


def test_a_plain_landing_folder_stays_under_the_landing_root(
    configs_copy: Path, data_dir: Path
) -> None:
    from mlops_assets.storage.lakehouse import LocalLakehouse

    data = load_use_case(configs_copy)
    dataset(data, "customers").setdefault("source", {})["subdir"] = "crm-export_v2"
    write_use_case(configs_copy, data)
    project = load_project(configs_copy, environ=environ_for(data_dir))
    customers = next(d for d in project.use_case("churn").datasets if d.name == "customers")
    landing = LocalLakehouse(data_dir).landing_dir("churn", customers.landing_subdir)
    assert landing.resolve().is_relative_to(data_dir.resolve())
    assert landing.name == "crm-export_v2"


@pytest.mark.parametrize("value", HOSTILE)
def test_the_landing_folder_error_says_why(value: str) -> None:
    from mlops_assets.config.datasets import LandingSource

    with pytest.raises(ValidationError) as info:
        LandingSource.model_validate({"subdir": value})
    message = info.value.errors()[0]["msg"]
    assert "could leave the landing root" in message
    assert "\x00" not in message and "\n" not in message.split(":")[0]


# ---- secret-bearing fields -------------------------------------------------------------------

SECRETS = [
    "dapi" + "0f3c9a1b2d4e5f60718293a4b5c6d7e8",
    "xoxb-" + "2048637151-7351201932-Zq8VvLmT3nRcY5pHkWd2sJxB",
    "https://hooks.example.com/services/T0A1B2C3D/B4E5F6G7H/" + "q1W2e3R4t5Y6u7I8o9P0aSdF",
    "Zq8VvLmT3nRcY5pHkWd2sJxB7351201932",  # long, high entropy, no prefix
]


def _config_models() -> list[type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    for module in pkgutil.iter_modules(mlops_assets.config.__path__):
        loaded = importlib.import_module(f"mlops_assets.config.{module.name}")
        for _, obj in inspect.getmembers(loaded, inspect.isclass):
            if issubclass(obj, BaseModel) and obj.__module__.startswith("mlops_assets.config"):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return list(found.values())


def _secret_fields() -> list[tuple[str, Any]]:
    fields = []
    for model in _config_models():
        for name, info in model.model_fields.items():
            if name.endswith("_env"):
                annotated = Annotated[info.annotation, *info.metadata]  # type: ignore[name-defined]
                fields.append((f"{model.__name__}.{name}", annotated))
    return fields


def test_every_secret_field_refuses_a_secret_without_echoing_it() -> None:
    fields = _secret_fields()
    names = {name for name, _ in fields}
    # the secret-bearing fields the project has today (a new one is found by the same walk)
    assert {
        "DatabricksEnvironment.token_env",
        "DatabricksEnvironment.client_secret_env",
        "WebhookChannel.url_env",
        "SlackChannel.token_env",
    } <= names, names
    for name, annotated in fields:
        adapter: TypeAdapter[Any] = TypeAdapter(annotated)
        assert adapter.validate_python("MY_SECRET_VAR") == "MY_SECRET_VAR", name
        for secret in SECRETS:
            with pytest.raises(ValidationError) as info:
                adapter.validate_python(secret)
            message = " ".join(str(e["msg"]) for e in info.value.errors())
            assert secret not in message, (name, message)


def test_a_client_secret_written_into_the_environment_file_is_masked(
    configs_copy: Path, data_dir: Path
) -> None:
    secret = SECRETS[3]
    path = configs_copy / "environments" / "databricks.yaml"
    path.write_text(path.read_text() + f"client_secret_env: {secret}\n")
    err = load_error(configs_copy, data_dir, env="databricks")
    assert "looks like a secret value, not a variable name" in str(err)
    assert secret not in f"{err}\n{err.message}\n{err.context}\n{err.fix}"
    assert isinstance(err, ConfigError)
