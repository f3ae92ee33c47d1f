"""The repository's shape: the files people and CI rely on exist and agree with each other."""

import importlib.util
import re
import tomllib
from typing import Any

import pytest
import yaml

from mlops_assets_tests.conftest import REPO_ROOT

REQUIRED = [
    "README.md",
    "Makefile",
    "pyproject.toml",
    "uv.lock",
    "workspace.yaml",
    "dagster_cloud.yaml",
    ".gitignore",
    ".ci/run",
    "configs/environments/local.yaml",
    "configs/schema/use_case.schema.json",
    "configs/schema/environment.schema.json",
    "mlops_assets/definitions.py",
    "mlops_assets/errors.py",
]


def _yaml(name: str) -> Any:
    return yaml.safe_load((REPO_ROOT / name).read_text(encoding="utf-8"))


def _pyproject() -> dict[str, Any]:
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _make_targets() -> set[str]:
    text = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([a-z][a-z0-9_-]*):", text, flags=re.M))


@pytest.mark.parametrize("name", REQUIRED)
def test_required_file_exists(name: str) -> None:
    path = REPO_ROOT / name
    assert path.is_file(), f"{name} is missing"
    assert path.stat().st_size > 0, f"{name} is empty"


def test_every_place_names_the_same_code_location() -> None:
    dagster = _pyproject()["tool"]["dagster"]
    module, location = dagster["module_name"], dagster["code_location_name"]
    (workspace_entry,) = _yaml("workspace.yaml")["load_from"]
    (cloud_entry,) = _yaml("dagster_cloud.yaml")["locations"]
    assert workspace_entry["python_module"]["module_name"] == module
    assert workspace_entry["python_module"]["location_name"] == location
    assert cloud_entry["code_source"]["module_name"] == module
    assert cloud_entry["location_name"] == location
    assert importlib.util.find_spec(module) is not None
    assert f"-m {module}" in (REPO_ROOT / "Makefile").read_text()  # `make dev` loads it too


def test_ci_runs_make_test() -> None:
    script = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [
        line.strip()
        for line in script.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert "make test" in commands
    assert any(c.startswith("set -") and "e" in c.split()[1] for c in commands)  # fail fast
    assert "test" in _make_targets()
    recipe = re.search(r"^test:(.*)$", (REPO_ROOT / "Makefile").read_text(), flags=re.M)
    assert recipe is not None
    assert {"lint", "typecheck"} <= set(recipe.group(1).split("##")[0].split())


def test_makefile_targets_used_by_people_exist() -> None:
    assert {"install", "demo", "dev", "lint", "typecheck", "test", "schema"} <= _make_targets()


def _quickstart(readme: str) -> str | None:
    match = re.search(r"^## Quickstart\s*$(.*?)(?=^## |\Z)", readme, flags=re.M | re.S)
    return match.group(1) if match else None


def test_readme_quickstart_is_two_commands() -> None:
    section = _quickstart((REPO_ROOT / "README.md").read_text(encoding="utf-8"))
    if section is None:
        pytest.skip("README has no Quickstart section yet")
    block = re.search(r"```[a-z]*\n(.*?)```", section, flags=re.S)
    assert block is not None, "the Quickstart has no code block"
    commands = [
        line.split("#", 1)[0].strip()
        for line in block.group(1).splitlines()
        if line.split("#", 1)[0].strip()
    ]
    assert len(commands) == 2, commands
    targets = _make_targets()
    for command in commands:
        words = command.split()
        if words[0] == "make":
            assert words[1] in targets, command


def test_quickstart_parser_finds_the_first_block() -> None:
    readme = (
        "# x\n\n## Quickstart\n\ntext\n\n```bash\nmake a  # one\n\nmake b\n```\n\n"
        "```\nmore\n```\n## Next\n"
    )
    section = _quickstart(readme)
    assert section is not None and "## Next" not in section


def test_generated_and_local_data_are_ignored_by_git() -> None:
    ignored = (REPO_ROOT / ".gitignore").read_text().split()
    assert ".mlops_data/" in ignored and ".venv/" in ignored


def test_config_folder_layout() -> None:
    configs = REPO_ROOT / "configs"
    assert {p.name for p in configs.iterdir() if p.is_dir()} >= {
        "environments",
        "use_cases",
        "schema",
    }
    use_cases = [p for p in (configs / "use_cases").glob("*.yaml") if "." not in p.stem]
    assert use_cases, "no use case"
