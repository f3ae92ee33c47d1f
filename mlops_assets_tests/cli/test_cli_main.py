"""The `mlops-assets` command itself: --version, help with defaults everywhere, `config show`
(resolved, secrets masked), one root-cause line per failure (the trace with --verbose), and the
demo's input guards."""

import argparse
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
import yaml

from mlops_assets.cli import HelpFormatter, build_parser, main, root_cause
from mlops_assets.cli.config_show import masked
from mlops_assets_tests.conftest import REPO_ROOT


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("MLOPS_ENV", "MLOPS_CONFIG_DIR")}
    return subprocess.run(
        [sys.executable, "-m", "mlops_assets.cli", *args],
        cwd=REPO_ROOT,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    found = [(path, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _commands(sub, (*path, name))
    return found


def test_version_is_the_installed_distributions(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"mlops-assets {metadata.version('mlops-assets')}"


def test_every_option_of_every_command_has_help_and_shows_its_default() -> None:
    commands = _commands(build_parser())
    assert {path[0] for path, _ in commands if path} >= {"demo", "serve", "dev", "config"}
    for path, parser in commands:
        text = parser.format_help()
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction) or action.dest == "help":
                continue
            assert action.help, f"mlops-assets {' '.join(path)} {action.option_strings}: no help"
            shown = action.default not in (None, False, [], argparse.SUPPRESS)
            if shown and action.option_strings and action.dest != "version":
                help_text = HelpFormatter("mlops-assets")._get_help_string(action) or ""
                assert "default" in help_text, (path, action.option_strings)
        assert "usage: mlops-assets" in text


def test_demo_help_lists_the_defaults() -> None:
    text = dict(_commands(build_parser()))[("demo",)].format_help()
    assert "(default: 7)" in text and "(default: 1000)" in text and "(default: 3)" in text


def test_config_show_prints_the_resolved_config_as_yaml(tmp_path: Path) -> None:
    done = _cli("config", "show", "--use-case", "churn", env={"MLOPS_DATA_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    shown = yaml.safe_load(done.stdout)
    assert shown["environment"]["name"] == "local"
    assert shown["environment"]["data_dir"] == str(tmp_path)  # ${MLOPS_DATA_DIR} resolved
    assert [uc["name"] for uc in shown["use_cases"]] == ["churn"]
    assert shown["use_cases"][0]["end_offset_days"] == 0  # defaults filled in


def test_config_show_masks_secrets_by_name_and_by_look() -> None:
    token = "dapi0123456789abcdef0123456789abcdef"
    data = {
        "token_env": "DATABRICKS_TOKEN",  # the NAME of a variable: shown
        "webhook_url": "https://hooks.example.com/services/T000/B000/XXXX",
        "note": f"url with {token}",
        "nested": [{"host": "https://adb-1.azuredatabricks.net", "value": token}],
    }
    out = masked(data)
    assert out["token_env"] == "DATABRICKS_TOKEN"
    assert out["nested"][0]["host"] == "https://adb-1.azuredatabricks.net"
    for secret in (out["webhook_url"], out["nested"][0]["value"]):
        assert "****" in secret and "XXXX" not in secret and token not in secret


def test_a_failure_is_one_root_cause_line_and_verbose_adds_the_trace(tmp_path: Path) -> None:
    missing = tmp_path / "no_such.json"
    quiet = _cli("check-defs", str(missing))
    assert quiet.returncode != 0
    lines = [line for line in quiet.stderr.splitlines() if line.strip()]
    assert "Traceback" not in quiet.stderr
    assert 1 <= len(lines) <= 4, quiet.stderr
    assert lines[0].startswith("error: ")
    loud = _cli("--verbose", "check-defs", str(missing))
    assert "Traceback (most recent call last)" in loud.stderr


def test_root_cause_follows_the_chain_to_its_end() -> None:
    try:
        try:
            raise FileNotFoundError("the real reason")
        except FileNotFoundError as inner:
            raise RuntimeError("wrapper") from inner
    except RuntimeError as outer:
        assert str(root_cause(outer)) == "the real reason"


def test_demo_with_too_few_days_says_why_before_running(tmp_path: Path) -> None:
    done = _cli("demo", "--days", "3", env={"MLOPS_DATA_DIR": str(tmp_path / "data")})
    assert done.returncode == 2
    assert "labels arrive 3 days after their observations" in done.stderr
    assert "--days 5 or more" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not (tmp_path / "data" / "landing").exists()  # refused before simulating
