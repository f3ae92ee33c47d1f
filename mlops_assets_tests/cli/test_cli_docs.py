"""The generated reference pages match the code: regenerate with `mlops-assets docs`."""

import pytest

from mlops_assets.cli.docs import RUN_CONFIG_PAGE, run_config_page
from mlops_assets_tests.conftest import REPO_ROOT


@pytest.mark.usefixtures("mlops_env")
def test_run_config_page_is_fresh() -> None:
    committed = (REPO_ROOT / RUN_CONFIG_PAGE).read_text(encoding="utf-8")
    generated = run_config_page()
    assert committed == generated, "docs/run_config.md is stale: run `mlops-assets docs`"
    for family in ("training", "evaluation", "deployment", "inference"):
        assert f"#### {family}" in generated
