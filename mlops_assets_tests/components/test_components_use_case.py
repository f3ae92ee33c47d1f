"""The use-case Component: loads its YAML through the project's loader and builds the use case."""

import importlib
from pathlib import Path

import dagster as dg
import pytest
from pydantic import ValidationError

from mlops_assets.build import build_use_case_definitions
from mlops_assets.components import UseCaseComponent
from mlops_assets.components.use_case import TYPE_NAME, instance_attributes
from mlops_assets.config.project import ProjectConfig
from mlops_assets.errors import ConfigError
from mlops_assets_tests.config.config_helpers import line_of, use_case_file


def _component(config_file: str = "use_cases/churn.yaml") -> UseCaseComponent:
    component = UseCaseComponent.from_attributes_dict(attributes={"config_file": config_file})
    assert isinstance(component, UseCaseComponent)
    return component


def _names(defs: dg.Definitions) -> dict[str, set[str]]:
    """What a use case defines, read without binding resources (the project binds them)."""
    assets = [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition)]
    return {
        "assets": {k.to_user_string() for a in assets for k in a.keys},
        "checks": {
            f"{k.asset_key.to_user_string()}:{k.name}" for a in assets for k in a.check_keys
        },
        "jobs": {j.name for j in defs.jobs or []},
        "schedules": {s.name for s in defs.schedules or []},
        "sensors": {s.name for s in defs.sensors or []},
    }


def test_build_defs_is_the_use_case_factory(project: ProjectConfig) -> None:
    uc = project.use_case("churn")
    defs = _component().build_defs(dg.ComponentTree.for_test().load_context)
    assert _names(defs) == _names(build_use_case_definitions(uc))
    assert not defs.resources  # resources are bound once, by the project
    assert "churn_ingestion" in _names(defs)["jobs"]


def test_the_attribute_is_validated_by_the_component_schema() -> None:
    assert instance_attributes("churn") == {"config_file": "use_cases/churn.yaml"}
    with pytest.raises(ValidationError, match="config_file"):
        UseCaseComponent.from_attributes_dict(attributes={"config_fil": "use_cases/churn.yaml"})
    module, _, name = TYPE_NAME.rpartition(".")
    assert getattr(importlib.import_module(module), name) is UseCaseComponent


def test_overlay_and_substitution_survive(
    mlops_env: dict[str, str], configs_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = use_case_file(configs_copy)
    owners = "owners: ['${CHURN_TEAM:-team:default}']"  # replaces the line: a second key fails
    path.write_text(path.read_text().replace('owners: ["team:ml-platform"]', owners))
    overlay = path.with_name("churn.local.yaml")
    overlay.write_text("schedules:\n  ingestion: '0 5 * * *'\n", encoding="utf-8")
    monkeypatch.setenv("MLOPS_CONFIG_DIR", str(configs_copy))
    monkeypatch.setenv("CHURN_TEAM", "team:churners")

    uc = _component().use_case()
    assert uc.owners == ["team:churners"]
    assert uc.schedules.ingestion == "0 5 * * *"  # the local overlay applied
    defs = _component().build_defs(dg.ComponentTree.for_test().load_context)
    crons = {
        s.name: s.cron_schedule
        for s in defs.schedules or []
        if isinstance(s, dg.ScheduleDefinition)
    }
    assert crons["churn_ingestion_schedule"] == "0 5 * * *"

    monkeypatch.setenv("MLOPS_ENV", "databricks")  # another environment: no local overlay
    monkeypatch.delenv("CHURN_TEAM")
    uc = _component().use_case()
    assert uc.schedules.ingestion == "0 2 * * *"
    assert uc.owners == ["team:default"]


def test_a_typo_is_reported_with_file_line_and_did_you_mean(
    mlops_env: dict[str, str], configs_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = use_case_file(configs_copy)
    path.write_text(
        path.read_text().replace(
            "    keys: [customer_id, event_ts]", "    keyz: [customer_id, event_ts]", 1
        )
    )
    monkeypatch.setenv("MLOPS_CONFIG_DIR", str(configs_copy))
    with pytest.raises(ConfigError) as caught:
        _component().use_case()
    assert f"{path}:{line_of(path, 'keyz:')}" in str(caught.value)
    assert caught.value.fix is not None and "did you mean `keys`?" in caught.value.fix


def test_a_missing_yaml_names_the_instance_and_the_fix(
    mlops_env: dict[str, str], configs_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOPS_CONFIG_DIR", str(configs_copy))
    with pytest.raises(ConfigError) as caught:
        _component("use_cases/ghost.yaml").use_case()
    assert "use_cases/ghost.yaml, which does not exist" in caught.value.message
    assert caught.value.fix is not None and "configs/use_cases/ghost.yaml" in caught.value.fix


def test_a_name_that_differs_from_the_file_is_refused(
    mlops_env: dict[str, str], configs_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = use_case_file(configs_copy)
    other = source.with_name("churn2.yaml")
    other.write_text(source.read_text(), encoding="utf-8")  # still says `name: churn`
    monkeypatch.setenv("MLOPS_CONFIG_DIR", str(configs_copy))
    with pytest.raises(ConfigError, match="differs from the file name") as caught:
        _component("use_cases/churn2.yaml").use_case()
    assert caught.value.fix == "set `name: churn2` or rename the file to churn.yaml"
