"""The generated reference pages match the code: regenerate with `mlops-assets docs`."""

import argparse
import re
from pathlib import Path

import pytest

from mlops_assets.cli.config_reference import config_reference_page
from mlops_assets.cli.docs import CONFIG_REFERENCE_PAGE, RUN_CONFIG_PAGE, run_config_page
from mlops_assets_tests.conftest import REPO_ROOT


@pytest.mark.usefixtures("mlops_env")
def test_run_config_page_is_fresh() -> None:
    committed = (REPO_ROOT / RUN_CONFIG_PAGE).read_text(encoding="utf-8")
    generated = run_config_page()
    assert committed == generated, "docs/run_config.md is stale: run `mlops-assets docs`"
    for family in ("training", "evaluation", "deployment", "inference"):
        assert f"#### {family}" in generated


def test_config_reference_is_fresh_and_covers_every_model() -> None:
    committed = (REPO_ROOT / CONFIG_REFERENCE_PAGE).read_text(encoding="utf-8")
    generated = config_reference_page()
    assert committed == generated, "docs/config_reference.md is stale: run `mlops-assets docs`"
    for model in ("LocalEnvironment", "DatabricksEnvironment", "UseCaseConfig", "ModelConfig"):
        assert f"### {model} " in generated, model
    assert "| `start_date` | date | required | First daily partition. |" in generated
    # every linked model has its own section
    for target in set(re.findall(r"\]\(#(\w+)\)", generated)):
        assert f'<a id="{target}"></a>' in generated, target


@pytest.mark.usefixtures("mlops_env")
def test_readme_run_config_table_is_fresh_and_generated_from_the_classes() -> None:
    from mlops_assets.cli.docs import README, readme_with_run_config
    from mlops_assets.cli.run_config_table import END, START

    committed = (REPO_ROOT / README).read_text(encoding="utf-8")
    assert readme_with_run_config(committed) == committed, (
        "README's run-configuration table is stale: run `mlops-assets docs`"
    )
    table = committed.split(START, 1)[1].split(END, 1)[0]
    for needle in (
        "| promotion | `promotion` (`enabled` or `dry_run` [`reason` required])",
        "`expected_challenger` (a version number or empty)",
        "| gold | `as_of` (an ISO-8601 time or empty)",
        "`landing_files` (`all` or `new`)",
        "`batch_size` (an integer)",
    ):
        assert needle in table, needle


def test_docs_command_rewrites_only_the_readme_table(tmp_path: Path, mlops_env: object) -> None:
    from mlops_assets.cli.docs import run
    from mlops_assets.cli.run_config_table import END, START

    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\nbefore\n\n{START}\n| stale |\n{END}\n\nafter\n", "utf-8")
    args = argparse.Namespace(
        out=tmp_path / "run_config.md", config_out=tmp_path / "config.md", readme=readme
    )
    assert run(args) == 0
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("# Title\n\nbefore\n\n") and text.endswith(f"{END}\n\nafter\n")
    assert "| stale |" not in text and "| bronze | `landing_files`" in text


def test_a_readme_without_the_markers_is_refused_with_a_fix() -> None:
    from mlops_assets.cli.run_config_table import replace_run_config_table
    from mlops_assets.errors import ConfigError

    with pytest.raises(ConfigError, match="run-configuration table") as raised:
        replace_run_config_table("# README without markers\n", "| table |\n")
    assert "marker" in (raised.value.fix or "")
