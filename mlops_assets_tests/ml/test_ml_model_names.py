"""Registered model names: bare locally, ``<catalog>.<schema>.<name>`` with a model namespace.

The assets always pass the bare ``<use_case>_<model>``; the registry layer qualifies it when the
MLflow settings carry a namespace (Unity Catalog). The local SQLite registry accepts three-part
names, so what the code registers, reads and moves is checked in a real store.
"""

from pathlib import Path

import polars as pl
import pytest
from mlflow import MlflowClient
from pydantic import ValidationError

from mlops_assets.errors import RegistryError
from mlops_assets.ml.frames import feature_frame
from mlops_assets.ml.gates import decide
from mlops_assets.ml.model_store import load_pyfunc, log_and_register
from mlops_assets.ml.registry import CHAMPION, Registry
from mlops_assets.ml.tracking import (
    MlflowSettings,
    RunTags,
    qualified_model_name,
    qualified_model_uri,
    start_run,
)
from mlops_assets.ml.training import TrainingResult
from mlops_assets_tests.ml.conftest import model_config

TAGS = RunTags(dagster_run_id="run-names", asset_key="churn/models/model")
NAMESPACE = "dev_catalog.churn"
METRICS = {"roc_auc": 0.8, "accuracy": 0.75}


@pytest.mark.parametrize(
    ("name", "namespace", "expected"),
    [
        ("churn_churn_model", None, "churn_churn_model"),
        ("churn_churn_model", NAMESPACE, "dev_catalog.churn.churn_churn_model"),
        ("prod.churn.churn_churn_model", NAMESPACE, "prod.churn.churn_churn_model"),
        ("prod.churn.churn_churn_model", None, "prod.churn.churn_churn_model"),
    ],
)
def test_bare_names_get_the_namespace_and_three_part_names_stay(
    name: str, namespace: str | None, expected: str
) -> None:
    assert qualified_model_name(name, namespace) == expected
    settings = MlflowSettings(
        tracking_uri="databricks", experiment_name="e", model_namespace=namespace
    )
    assert settings.model_name(name) == expected


@pytest.mark.parametrize("name", ["churn.model", "Churn-Model", "a.b.c.d", ""])
def test_names_unity_catalog_cannot_hold_are_refused_with_a_fix(name: str) -> None:
    with pytest.raises(RegistryError, match="cannot put model name") as info:
        qualified_model_name(name, NAMESPACE)
    assert info.value.fix is not None and "three-part" in info.value.fix
    assert qualified_model_name(name, None) == name  # locally nothing is judged or changed


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("models:/churn_m/3", f"models:/{NAMESPACE}.churn_m/3"),
        ("models:/churn_m@champion", f"models:/{NAMESPACE}.churn_m@champion"),
        ("models:/prod.churn.churn_m/3", "models:/prod.churn.churn_m/3"),
        ("models:/m-0123abcd", "models:/m-0123abcd"),  # a logged model, not a registered one
        ("runs:/abc/model", "runs:/abc/model"),
        ("/tmp/model", "/tmp/model"),
    ],
)
def test_model_uris_are_qualified_only_when_they_name_a_registered_model(
    uri: str, expected: str
) -> None:
    assert qualified_model_uri(uri, NAMESPACE) == expected
    assert qualified_model_uri(uri, None) == uri


@pytest.mark.parametrize("namespace", ["dev", "dev.churn.x", "Dev.churn", "dev-x.churn"])
def test_settings_refuse_a_namespace_that_is_not_catalog_dot_schema(namespace: str) -> None:
    with pytest.raises(ValidationError, match="model_namespace"):
        MlflowSettings(tracking_uri="databricks", experiment_name="e", model_namespace=namespace)


def test_a_namespaced_registry_registers_reads_and_promotes_three_part_names(
    settings: MlflowSettings,
    good_result: TrainingResult,
    churn_splits: dict[str, pl.DataFrame],
    model_name: str,
    tmp_path: Path,
) -> None:
    bare = model_name.lower()
    uc = settings.model_copy(update={"model_namespace": NAMESPACE})
    full = f"{NAMESPACE}.{bare}"
    with start_run(uc, "register", TAGS):
        info = log_and_register(
            good_result, model_config(), uc, churn_splits["train"], registered_name=bare
        )
    assert (info.name, info.model_uri) == (full, f"models:/{full}/{info.version}")
    client = MlflowClient(tracking_uri=uc.tracking_uri)
    names = {m.name for m in client.search_registered_models(f"name LIKE '%{bare}'")}
    assert names == {full}  # what MLflow received: the three-part name only

    registry = Registry(uc, lock_dir=tmp_path)
    assert registry.get_version(bare, info.version).name == full
    latest = registry.latest_version(bare)
    assert latest is not None and latest.name == full
    registry.record_decision(
        bare, info.version, decide(METRICS, None, model_config().gates), METRICS
    )
    result = registry.promote(bare, info.version, expected_champion=None)
    assert (result.name, result.version) == (full, info.version)
    assert str(client.get_model_version_by_alias(full, CHAMPION).version) == info.version
    champion = registry.require_champion(bare, purpose="score with")
    assert (champion.name, champion.version) == (full, info.version)

    model = load_pyfunc(f"models:/{bare}@{CHAMPION}", namespace=NAMESPACE)
    features = feature_frame(churn_splits["validation"].head(3), model_config())
    assert len(model.predict(features)) == 3


def test_without_a_namespace_names_stay_as_the_assets_give_them(
    settings: MlflowSettings,
    good_result: TrainingResult,
    churn_splits: dict[str, pl.DataFrame],
    model_name: str,
    tmp_path: Path,
) -> None:
    bare = model_name.lower()
    assert settings.model_namespace is None
    with start_run(settings, "register", TAGS):
        info = log_and_register(
            good_result, model_config(), settings, churn_splits["train"], registered_name=bare
        )
    assert info.name == bare
    client = MlflowClient(tracking_uri=settings.tracking_uri)
    assert {m.name for m in client.search_registered_models(f"name LIKE '%{bare}'")} == {bare}
    assert Registry(settings, lock_dir=tmp_path).get_version(bare, info.version).name == bare


def test_an_override_on_a_namespaced_registry_is_recorded_on_the_three_part_name(
    settings: MlflowSettings,
    weak_result: TrainingResult,
    churn_splits: dict[str, pl.DataFrame],
    model_name: str,
    tmp_path: Path,
) -> None:
    from mlops_assets.ml.approval import OverrideRequest, approval, record_override

    bare = model_name.lower()
    uc = settings.model_copy(update={"model_namespace": NAMESPACE})
    with start_run(uc, "register", TAGS):
        info = log_and_register(
            weak_result, model_config(), uc, churn_splits["train"], registered_name=bare
        )
    registry = Registry(uc, lock_dir=tmp_path)
    request = OverrideRequest(by="ops@example.com", reason="serve it while the gates are tuned")
    record_override(registry, bare, info.version, request)  # the CLI passes the bare name
    version = registry.get_version(bare, info.version)
    found = approval(registry, version)
    assert found.override is not None and found.override.by == "ops@example.com"
    assert not found.by_gate
