"""The defs folder and the use-case YAMLs must name the same use cases; the location is both."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import dagster as dg
import pytest
import yaml

from mlops_assets.build import build_definitions
from mlops_assets.components import UseCaseComponent
from mlops_assets.components.project import (
    DEFS_DIR,
    build_location_definitions,
    check_agreement,
    component_tree,
    instance_names,
    write_instance,
)
from mlops_assets.components.use_case import TYPE_NAME
from mlops_assets.config.project import ProjectConfig, load_project
from mlops_assets.errors import ConfigError
from mlops_assets_tests.config.config_helpers import use_case_file
from mlops_assets_tests.conftest import REPO_ROOT


def _summary(defs: dg.Definitions) -> dict[str, set[str]]:
    return {
        "assets": {k.to_user_string() for k in defs.resolve_all_asset_keys()},
        "checks": {str(k) for k in defs.resolve_asset_graph().asset_check_keys},
        "jobs": {j.name for j in defs.jobs or []},
        "schedules": {s.name for s in defs.schedules or []},
        "sensors": {s.name for s in defs.sensors or []},
        "resources": set(defs.resources or {}),
    }


def _add_use_case(configs: Path, name: str) -> Path:
    """A second use case: churn's YAML under another name."""
    source = use_case_file(configs)
    target = source.with_name(f"{name}.yaml")
    target.write_text(source.read_text().replace("name: churn", f"name: {name}", 1))
    return target


def test_the_location_is_every_component_plus_the_project_resources(
    project: ProjectConfig,
) -> None:
    location = build_location_definitions(project)
    dg.Definitions.validate_loadable(location)
    assert _summary(location) == _summary(build_definitions(project))
    assert location.component_tree is not None
    components = location.component_tree.get_all_components(of_type=UseCaseComponent)
    assert sorted(c.use_case().name for c in components) == sorted(
        uc.name for uc in project.use_cases
    )
    assert instance_names() == sorted(uc.name for uc in project.use_cases)
    for component in components:
        assert component.declared_at == DEFS_DIR / component.use_case().name


def test_the_component_tree_is_the_one_dg_finds_from_pyproject() -> None:
    # read with tomllib instead of for_project's tomlkit: the same tree, the same components
    ours, dgs = component_tree(), dg.ComponentTree.for_project(DEFS_DIR)
    assert ours.defs_module is dgs.defs_module
    assert ours.project_root == dgs.project_root
    assert ours.code_location_name == dgs.code_location_name == "mlops_assets"

    def declared(tree: dg.ComponentTree) -> list[str]:
        return sorted(c.declared_in for c in tree.get_all_components(of_type=UseCaseComponent))

    assert declared(ours) == declared(dgs) != []


def test_a_use_case_yaml_without_instance_fails_at_load(
    mlops_env: dict[str, str], configs_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    added = _add_use_case(configs_copy, "churn2")
    monkeypatch.setenv("MLOPS_CONFIG_DIR", str(configs_copy))
    with pytest.raises(ConfigError) as caught:
        build_location_definitions(load_project())
    assert str(added.resolve()) in caught.value.message
    assert caught.value.fix is not None
    assert "`mlops-assets init churn2`" in caught.value.fix
    assert f"`dg scaffold defs {TYPE_NAME} churn2`" in caught.value.fix

    # the code location module itself refuses to load, with the same message
    env = {**os.environ, "MLOPS_CONFIG_DIR": str(configs_copy)}
    done = subprocess.run(
        [sys.executable, "-c", "import mlops_assets.definitions"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode != 0
    assert "ConfigError" in done.stderr and "has no component instance" in done.stderr
    assert "mlops-assets init churn2" in done.stderr


def _tmp_project(tmp_path: Path, instances: dict[str, str]) -> Path:
    """A dg project of its own whose defs folder declares ``instances`` (folder: config_file)."""
    module = f"tmp_defs_{uuid.uuid4().hex[:8]}"
    root = tmp_path / "project"
    (root / module / "defs").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        f'[tool.dg]\ndirectory_type = "project"\n\n[tool.dg.project]\nroot_module = "{module}"\n'
    )
    (root / module / "__init__.py").write_text("")
    (root / module / "defs" / "__init__.py").write_text("")
    for folder, config_file in instances.items():
        (root / module / "defs" / folder).mkdir()
        body = {"type": TYPE_NAME, "attributes": {"config_file": config_file}}
        (root / module / "defs" / folder / "defs.yaml").write_text(yaml.safe_dump(body))
    return root


def _components(root: Path, monkeypatch: pytest.MonkeyPatch) -> list[UseCaseComponent]:
    monkeypatch.syspath_prepend(str(root))
    tree = dg.ComponentTree.for_project(root)
    return tree.get_all_components(of_type=UseCaseComponent)


def test_an_instance_without_yaml_fails_and_names_its_defs_file(
    project: ProjectConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _tmp_project(
        tmp_path, {"churn": "use_cases/churn.yaml", "ghost": "use_cases/ghost.yaml"}
    )
    components = _components(root, monkeypatch)
    assert len(components) == 2
    with pytest.raises(ConfigError) as caught:
        check_agreement(project, components)
    ghost = next(c for c in components if c.config_file.endswith("ghost.yaml"))
    assert ghost.declared_in.endswith("/ghost/defs.yaml")
    assert ghost.declared_in in caught.value.message
    assert "which is not a use case of" in caught.value.message
    assert caught.value.fix is not None and "use_cases/ghost.yaml" in caught.value.fix


def test_two_instances_of_one_use_case_are_refused(
    project: ProjectConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _tmp_project(
        tmp_path, {"churn": "use_cases/churn.yaml", "churn_again": "use_cases/churn.yaml"}
    )
    with pytest.raises(ConfigError, match=r"both name use_cases/churn\.yaml"):
        check_agreement(project, _components(root, monkeypatch))


def test_an_empty_defs_folder_names_every_missing_instance(project: ProjectConfig) -> None:
    with pytest.raises(ConfigError, match="has no component instance") as caught:
        check_agreement(project, [])
    assert caught.value.context["use_case"] == project.use_cases[0].name


def test_write_instance_writes_what_the_component_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _tmp_project(tmp_path, {})
    (defs_dir,) = root.glob("*/defs")
    path = write_instance("churn", defs_dir=defs_dir)
    assert path == defs_dir / "churn" / "defs.yaml"
    assert yaml.safe_load(path.read_text()) == {
        "type": TYPE_NAME,
        "attributes": {"config_file": "use_cases/churn.yaml"},
    }
    (component,) = _components(root, monkeypatch)
    assert component.use_case().name == "churn"
    assert component.declared_at == defs_dir / "churn"
    assert instance_names(defs_dir) == ["churn"]
    with pytest.raises(ConfigError, match="already exists"):
        write_instance("churn", defs_dir=defs_dir)
