"""The generated reference pages match the code: regenerate with `mlops-assets docs`."""

import re

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
