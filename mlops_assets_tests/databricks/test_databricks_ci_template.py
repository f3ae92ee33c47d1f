"""The CI workflow template users copy (``docs/ci/github-actions.yml``) only runs what exists.

Every ``run:`` command is checked against the real thing: a ``make`` target of the Makefile, an
``mlops-assets`` subcommand with its options (parsed by the CLI's own parser), or a
``dagster-cloud ci`` subcommand whose ``--help`` lists every option used. The validate job
covers every environment file, and each of them really validates.
"""

import itertools
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlops_assets.cli import build_parser
from mlops_assets.config.project import load_project
from mlops_assets_tests.conftest import CONFIGS_DIR, REPO_ROOT

TEMPLATE = REPO_ROOT / "docs" / "ci" / "github-actions.yml"
UV_RUN = ["uv", "run", "--frozen", "--no-sync"]
DAGSTER_CLOUD = REPO_ROOT / ".venv" / "bin" / "dagster-cloud"


def _workflow() -> dict[Any, Any]:
    loaded = yaml.safe_load(TEMPLATE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _commands() -> list[tuple[str, list[str]]]:
    """(job, argv) of every ``run:`` line, matrix variables left as written."""
    found = []
    for job_name, job in _workflow()["jobs"].items():
        for step in job["steps"]:
            for line in str(step.get("run", "")).splitlines():
                if line.strip():  # `${{ matrix.env }}` -> `<matrix.env>`, one shell word
                    line = re.sub(r"\$\{\{\s*matrix\.(\w+)\s*\}\}", r"<matrix.\1>", line)
                    found.append((job_name, shlex.split(line)))
    return found


def _make_targets() -> set[str]:
    text = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([a-z][a-z0-9-]*):", text, flags=re.MULTILINE))


def _environments() -> list[str]:
    return sorted(p.stem for p in (CONFIGS_DIR / "environments").glob("*.yaml"))


def test_the_workflow_has_the_four_stages_in_order() -> None:
    jobs = _workflow()["jobs"]
    assert list(jobs) == ["lint", "test", "validate", "deploy"]
    assert jobs["test"]["needs"] == "lint" and jobs["validate"]["needs"] == "lint"
    assert jobs["deploy"]["needs"] == ["test", "validate"]
    assert "refs/heads/main" in jobs["deploy"]["if"]  # pull requests never deploy


def test_the_validate_job_covers_every_environment_and_each_validates() -> None:
    matrix = _workflow()["jobs"]["validate"]["strategy"]["matrix"]["env"]
    assert sorted(matrix) == _environments()
    for env in matrix:  # what `mlops-assets validate --env <env>` loads, without any secret
        project = load_project(CONFIGS_DIR, env=env, environ={"MLOPS_DATA_DIR": "/nonexistent"})
        assert project.env_name == env


def test_every_make_command_is_a_target() -> None:
    targets = _make_targets()
    used = [argv for _, argv in _commands() if argv[0] == "make"]
    assert used, "the template runs no make target"
    for argv in used:
        assert len(argv) == 2 and argv[1] in targets, argv


def test_every_mlops_assets_command_parses() -> None:
    parser = build_parser()
    used = [argv[len(UV_RUN) + 1 :] for _, argv in _commands() if "mlops-assets" in argv]
    assert used, "the template runs no mlops-assets command"
    for args, env in itertools.product(used, _environments()):
        concrete = [a.replace("<matrix.env>", env) for a in args]
        namespace = parser.parse_args(concrete)  # exits (SystemExit) on an unknown command
        assert namespace.command == concrete[0]


@pytest.mark.slow
def test_every_dagster_cloud_command_and_option_exists() -> None:
    if not DAGSTER_CLOUD.exists():
        pytest.fail(f"{DAGSTER_CLOUD} is missing: dagster-cloud-cli is a project dependency")
    used = [argv[len(UV_RUN) :] for _, argv in _commands() if "dagster-cloud" in argv]
    assert [a[:3] for a in used] == [
        ["dagster-cloud", "ci", "check"],
        ["dagster-cloud", "ci", "init"],
        ["dagster-cloud", "ci", "build"],
        ["dagster-cloud", "ci", "deploy"],
    ]
    for argv in used:
        done = subprocess.run(
            [str(DAGSTER_CLOUD), *argv[1:3], "--help"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={"COLUMNS": "400", "PATH": "/usr/bin:/bin"},
        )
        assert done.returncode == 0, done.stderr[-2000:]
        for option in (a for a in argv[3:] if a.startswith("--")):
            assert option in done.stdout, f"{' '.join(argv[:3])} has no option {option}"


def test_the_deployed_location_is_the_code_location() -> None:
    cloud = yaml.safe_load((REPO_ROOT / "dagster_cloud.yaml").read_text(encoding="utf-8"))
    (location,) = cloud["locations"]
    assert location["location_name"] == "mlops_assets"
    assert location["code_source"]["module_name"] == "mlops_assets.definitions"
    assert Path(REPO_ROOT / location["build"]["directory"]).resolve() == REPO_ROOT.resolve()
