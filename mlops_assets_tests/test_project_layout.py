"""The repository's shape: the files people and CI rely on exist and agree with each other."""

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path
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
    "mlops_assets/components/__init__.py",
    "mlops_assets/defs/__init__.py",
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


def _recipe(target: str) -> list[str]:
    """The command lines of a Makefile target."""
    lines = (REPO_ROOT / "Makefile").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{target}:"))
    recipe: list[str] = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        recipe.append(line.strip())
    return recipe


def test_every_place_names_the_same_code_location() -> None:
    from mlops_assets.cli.dev import LOCATION_NAME, dev_command

    tool = _pyproject()["tool"]
    module, location = tool["dagster"]["module_name"], tool["dagster"]["code_location_name"]
    assert (module, location) == ("mlops_assets.definitions", "mlops_assets")
    assert tool["dg"]["directory_type"] == "project"
    dg_project = tool["dg"]["project"]
    assert dg_project["root_module"] == "mlops_assets"
    assert dg_project["defs_module"] == "mlops_assets.defs"
    assert dg_project["code_location_target_module"] == module
    assert dg_project["code_location_name"] == location
    assert dg_project["registry_modules"] == ["mlops_assets.components"]
    (workspace_entry,) = _yaml("workspace.yaml")["load_from"]
    (cloud_entry,) = _yaml("dagster_cloud.yaml")["locations"]
    assert workspace_entry["python_module"]["module_name"] == module
    assert workspace_entry["python_module"]["location_name"] == location
    assert cloud_entry["code_source"]["module_name"] == module
    assert cloud_entry["location_name"] == location
    assert importlib.util.find_spec(module) is not None
    assert importlib.util.find_spec(dg_project["defs_module"]) is not None
    # `make dev` serves workspace.yaml, so the UI shows the location by that name
    assert any("mlops-assets dev" in line for line in _recipe("dev"))
    command = dev_command("127.0.0.1", 3000)
    assert command[command.index("-w") + 1] == str(REPO_ROOT / "workspace.yaml")
    assert location == LOCATION_NAME


@pytest.mark.slow
def test_the_workspace_loads_as_the_named_location(tmp_path: Path) -> None:
    """Dagster itself loads workspace.yaml: one location, called mlops_assets, valid."""
    env = {
        **os.environ,
        "MLOPS_DATA_DIR": str(tmp_path / "data"),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
    (tmp_path / "dagster_home").mkdir()
    (tmp_path / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env.pop("MLOPS_CONFIG_DIR", None)
    done = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-4000:]
    assert "Validation successful for code location mlops_assets." in out
    assert "All code locations passed validation." in out


def test_dependencies_runtime_dev_and_pins() -> None:
    project = _pyproject()
    runtime = project["project"]["dependencies"]
    dev = project["dependency-groups"]["dev"]
    names = {re.split(r"[<>=\[; ]", d, maxsplit=1)[0] for d in runtime}
    assert not {"pytest", "pytest-timeout", "mypy", "ruff", "dagster-dg-cli"} & names
    assert {
        "dagster",
        "dagster-webserver",
        "dagster-databricks",
        "dagster-pyspark",
        "pydantic",
        "mlflow",
        "databricks-sdk",
        "pyspark",
        "evidently",
    } <= names
    for pin in (
        "dagster==1.13.27",
        "dagster-webserver==1.13.27",
        "dagster-databricks==0.29.27",
        "dagster-pyspark==0.29.27",
        "databricks-sdk>=0.60,<0.61",
        "pyspark[connect]==4.3.0",
    ):
        assert pin in runtime, pin
    assert {"pytest>=8", "pytest-timeout>=2.3", "dagster-dg-cli==1.13.27"} <= set(dev)
    assert {"mypy", "ruff"} <= {re.split(r"[<>=]", d, maxsplit=1)[0] for d in dev}
    assert "dev" in project["tool"]["uv"]["default-groups"]  # `make install` brings pytest
    locked = {
        p["name"]: p["version"]
        for p in tomllib.loads((REPO_ROOT / "uv.lock").read_text(encoding="utf-8"))["package"]
    }
    assert locked["dagster"] == locked["dagster-dg-cli"] == "1.13.27"
    assert locked["dagster-databricks"] == "0.29.27"
    assert locked["pyspark"] == "4.3.0"
    assert locked["databricks-sdk"].startswith("0.60.")


def test_make_test_checks_the_dg_project() -> None:
    recipe = re.search(r"^test:(.*)$", (REPO_ROOT / "Makefile").read_text(), flags=re.M)
    assert recipe is not None and "check-defs" in recipe.group(1).split("##")[0].split()
    commands = " ".join(_recipe("check-defs"))
    assert "dg check defs" in commands
    assert "dg list defs --json" in commands and "mlops-assets check-defs" in commands


def test_install_syncs_only_when_the_lock_changes(tmp_path: Path) -> None:
    """`make install` is a stamp that depends on uv.lock: nothing to do until the lock changes."""
    for name in ("Makefile", "pyproject.toml", "uv.lock"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    stamp = tmp_path / ".venv" / ".mlops-assets-installed"
    stamp.parent.mkdir()
    stamp.touch()
    later = time.time() + 5
    os.utime(stamp, (later, later))

    def dry_run() -> str:
        done = subprocess.run(
            ["make", "--no-print-directory", "-n", "install"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout

    assert "sync" not in dry_run()
    newer = later + 5
    os.utime(tmp_path / "uv.lock", (newer, newer))
    assert "sync --frozen --all-extras --compile-bytecode" in dry_run()


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
