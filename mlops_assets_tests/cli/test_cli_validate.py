"""`mlops-assets validate` and `mlops-assets schema`: what a person sees on the terminal."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_assets.cli import main
from mlops_assets.cli.schema import render, schemas
from mlops_assets.config.project import ProjectConfig
from mlops_assets_tests.config.config_helpers import use_case_file
from mlops_assets_tests.conftest import REPO_ROOT


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The installed console script, as a person runs it."""
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from mlops_assets.cli import main; raise SystemExit(main())",
            *args,
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_validate_prints_what_the_config_defines(
    project: ProjectConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate"]) == 0
    out = capsys.readouterr().out
    assert "configuration is valid" in out
    assert f"environment: {project.env_name} ({project.environment.type})" in out
    for uc in project.use_cases:
        rules = sum(len(d.all_rules()) for d in uc.datasets)
        assert f"use case {uc.name}: {len(uc.datasets)} datasets, {rules} rules" in out


def test_broken_config_exits_2_with_a_fix_and_no_traceback(
    mlops_env: dict[str, str], configs_copy: Path
) -> None:
    path = use_case_file(configs_copy)
    path.write_text(
        path.read_text().replace(
            "    keys: [customer_id, event_ts]", "    keyz: [customer_id, event_ts]", 1
        )
    )
    env = {**mlops_env, "MLOPS_CONFIG_DIR": str(configs_copy)}
    done = _cli(["validate"], env)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("error: invalid configuration in ")
    assert str(path) in done.stderr
    assert "fix: did you mean `keys`?" in done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_environment_exits_2(
    mlops_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "--env", "staging"]) == 2
    err = capsys.readouterr().err
    assert "unknown environment 'staging'" in err and "fix: set MLOPS_ENV to one of" in err


def test_missing_variable_is_named(
    mlops_env: dict[str, str],
    configs_copy: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = use_case_file(configs_copy)
    owners = "owners: ['${CHURN_TEAM}']"  # replaces the line: a second `owners` key fails
    path.write_text(path.read_text().replace('owners: ["team:ml-platform"]', owners))
    monkeypatch.setenv("MLOPS_CONFIG_DIR", str(configs_copy))
    assert main(["validate"]) == 2
    err = capsys.readouterr().err
    assert "environment variable CHURN_TEAM is not set" in err
    assert "key_path='owners.0'" in err and str(path) in err


def test_schema_command_writes_the_committed_schemas(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "schema"
    assert main(["schema", "--out", str(out)]) == 0
    written = sorted(p.name for p in out.iterdir())
    assert written == sorted(schemas())
    for name in written:
        text = (out / name).read_text()
        assert text == render(schemas()[name])
        assert json.loads(text) == schemas()[name]
    assert f"wrote {out / written[0]}" in capsys.readouterr().out


def test_console_script_validate(mlops_env: dict[str, str]) -> None:
    script = Path(sys.executable).with_name("mlops-assets")
    if not script.exists():
        pytest.skip("console script not installed in this environment")
    done = subprocess.run(
        [str(script), "validate"],
        cwd=REPO_ROOT,
        env={**os.environ, **mlops_env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "configuration is valid" in done.stdout
