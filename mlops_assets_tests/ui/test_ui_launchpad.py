"""The training job's launchpad in a real headless Chromium: typed fields, YAML defaults, errors.

The launchpad is filled from the run-config classes: every estimator parameter appears with the
use case's YAML value (else the estimator's default), and a value the schema refuses (a wrong
type, a reseed without its reason) is shown as an error before anything can be launched.
"""

import os
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from mlops_assets.config.project import ProjectConfig
from mlops_assets_tests.ui.test_ui_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LOCATION,
    pytestmark,
    webserver,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

__all__ = ["pytestmark", "webserver"]

MODEL_OP = "churn__models__classifier"
EDITOR_TIMEOUT_MS = 240_000  # the code location loads on a loaded 2-core machine


def _editor_text(page: "Page") -> str:
    text: str = page.evaluate("() => document.querySelector('.CodeMirror').CodeMirror.getValue()")
    return text


def _set_editor_text(page: "Page", text: str) -> None:
    page.evaluate("(t) => document.querySelector('.CodeMirror').CodeMirror.setValue(t)", text)


def test_training_launchpad_shows_typed_defaults_and_refuses_a_bad_value(
    webserver: str, project: ProjectConfig, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    shots = Path(os.environ.get("MLOPS_SCREENSHOT_DIR", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.goto(
            f"{webserver}/locations/{LOCATION}/jobs/churn_training/playground",
            wait_until="networkidle",
        )
        page.wait_for_selector(".CodeMirror", timeout=EDITOR_TIMEOUT_MS)
        page.get_by_text("No errors").first.wait_for(timeout=EDITOR_TIMEOUT_MS)
        page.screenshot(path=str(shots / "launchpad_defaults.png"))

        scaffold = yaml.safe_load(_editor_text(page))
        config = scaffold["ops"][MODEL_OP]["config"]
        model = project.use_case("churn").model
        assert model is not None
        for name, value in model.flavor.params.items():
            assert config["params"][name] == value, f"{name}: launchpad shows the YAML value"
        assert config["params"]["min_samples_leaf"] == 20  # the estimator's own default
        assert "search" not in config  # the YAML has no search space to switch on

        bad = {"ops": {MODEL_OP: {"config": {"params": {"max_iter": "many"}}}}}
        _set_editor_text(page, yaml.safe_dump(bad))
        page.get_by_text("No errors").wait_for(state="detached", timeout=60_000)
        # the editor shows `max_iter: many`; only the error names the field by its full path
        page.get_by_text(f"{MODEL_OP}:config:params:max_iter", exact=False).first.wait_for(
            timeout=60_000
        )
        page.screenshot(path=str(shots / "launchpad_bad_value.png"))

        unreasoned = {"ops": {MODEL_OP: {"config": {"split": {"reseed": {"seed": 7}}}}}}
        _set_editor_text(page, yaml.safe_dump(unreasoned))
        page.get_by_text('Missing required config entry "reason"', exact=False).first.wait_for(
            timeout=60_000
        )
        page.screenshot(path=str(shots / "launchpad_missing_reason.png"))
        browser.close()
