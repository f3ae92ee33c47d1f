"""The Dagster UI in a real headless Chromium: the graph, groups, checks and metadata render."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from mlops_assets_tests.conftest import REPO_ROOT

if TYPE_CHECKING:
    from playwright.sync_api import Page

LOCATION = "mlops_assets"  # the code location's name in workspace.yaml (and everywhere else)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None, reason="no chromium on PATH (`make browser` installs it as root)"
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def webserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Ingest one simulated day, then serve the code location with dagster-webserver."""
    from mlops_assets.cli.instance import ensure_dagster_home

    root = tmp_path_factory.mktemp("ui")
    env = {
        **os.environ,
        "MLOPS_DATA_DIR": str(root / "data"),
        "DAGSTER_HOME": str(ensure_dagster_home(root / "dagster_home")),
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
    env.pop("MLOPS_PARTITIONS_START", None)  # the day ingested below is the configured start
    subprocess.run(
        [
            sys.executable,
            "-m",
            "mlops_assets.cli",
            "simulate",
            "--days",
            "1",
            "--rows-per-day",
            "200",
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    script = (
        "from mlops_assets.definitions import defs\n"
        "from mlops_assets.cli.instance import get_instance\n"
        "r = defs.resolve_job_def('churn_ingestion').execute_in_process("
        "partition_key='2026-01-01', instance=get_instance())\n"
        "assert r.success\n"
    )
    subprocess.run([sys.executable, "-c", script], env=env, check=True, capture_output=True)
    port = _free_port()
    log = (root / "webserver.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dagster_webserver",
            "-w",
            str(REPO_ROOT / "workspace.yaml"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/server_info", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"dagster-webserver did not start: {(root / 'webserver.log').read_text()}")
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()


def _goto(page: "Page", url: str, text: str) -> str:
    """Open ``url``, wait until ``text`` is visible, return the page text."""
    page.goto(url, wait_until="networkidle")
    page.get_by_text(text).first.wait_for(timeout=60_000)
    return page.inner_text("body")


def test_asset_graph_and_silver_checks_render(webserver: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    shots = Path(os.environ.get("MLOPS_SCREENSHOT_DIR", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})

        body = _goto(page, f"{webserver}/assets", "churn / silver / customers")
        page.screenshot(path=str(shots / "assets.png"))
        for group in ("churn_bronze", "churn_silver", "churn_gold", "churn_features"):
            assert group in body

        body = _goto(
            page, f"{webserver}/assets/churn/silver/customers?view=checks", "rows_accounted"
        )
        page.screenshot(path=str(shots / "silver_checks.png"))
        for check in ("customer_id_not_null", "tenure_in_range", "schema_conformance"):
            assert check in body

        group_url = f"{webserver}/locations/{LOCATION}/asset-groups/churn_silver"
        body = _goto(page, group_url, "customers_quarantine")
        page.screenshot(path=str(shots / "silver_group.png"))
        assert "labels_quarantine" in body

        body = _goto(page, f"{webserver}/assets/churn/bronze/customers", "table_version")
        page.screenshot(path=str(shots / "bronze.png"))
        assert "file_count" in body
        browser.close()
