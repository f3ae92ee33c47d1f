"""The dg CLI on this project, as subprocesses: check defs, list defs, scaffold defs."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlops_assets.cli.check_defs import DgListing, problems
from mlops_assets.cli.instance import ensure_dagster_home
from mlops_assets.components import UseCaseComponent
from mlops_assets.components.use_case import TYPE_NAME
from mlops_assets.config.project import ProjectConfig
from mlops_assets_tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow
DG = Path(sys.executable).with_name("dg")


def _dg(args: list[str], cwd: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    if not DG.exists():
        pytest.fail(f"{DG} is missing: dagster-dg-cli is a dev dependency (`make install`)")
    env = {
        **os.environ,
        "MLOPS_DATA_DIR": str(tmp_path / "data"),
        "DAGSTER_HOME": str(ensure_dagster_home(tmp_path / "dagster_home")),
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
    for name in ("MLOPS_ENV", "MLOPS_CONFIG_DIR"):
        env.pop(name, None)
    return subprocess.run(
        [str(DG), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_dg_check_defs_validates_yaml_and_loads_the_location(tmp_path: Path) -> None:
    done = _dg(["check", "defs"], REPO_ROOT, tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    out = done.stdout + done.stderr
    assert "All component YAML validated successfully." in out
    assert "All definitions loaded successfully." in out


def test_dg_list_defs_lists_exactly_what_the_location_builds(
    tmp_path: Path, mlops_env: dict[str, str], project: ProjectConfig
) -> None:
    done = _dg(["list", "defs", "--json"], REPO_ROOT, tmp_path)
    assert done.returncode == 0, done.stderr[-4000:]
    listing = DgListing.model_validate_json(done.stdout)
    found, counts = problems(listing)
    assert found == []
    assert counts["assets"] > 0 and counts["asset_checks"] > 0 and counts["resources"] > 0
    for uc in project.use_cases:
        assert f"{uc.name}_ingestion" in {j.name for j in listing.jobs}
        sources = {a.source for a in listing.assets if a.asset_key.startswith(f"{uc.name}/")}
        assert sources == {f"mlops_assets/defs/{uc.name}/defs.yaml:1"}


def test_dg_scaffold_defs_writes_a_loadable_instance(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "mlops_assets" / "defs").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "pyproject.toml", project / "pyproject.toml")
    done = _dg(["scaffold", "defs", TYPE_NAME, "churn"], project, tmp_path)
    assert done.returncode == 0, done.stderr[-4000:]
    written = project / "mlops_assets" / "defs" / "churn" / "defs.yaml"
    body = yaml.safe_load(written.read_text())
    assert body == {"type": TYPE_NAME, "attributes": {"config_file": "use_cases/churn.yaml"}}
    component = UseCaseComponent.from_attributes_dict(attributes=body["attributes"])
    assert isinstance(component, UseCaseComponent)
    assert component.use_case().name == "churn"
    committed = REPO_ROOT / "mlops_assets" / "defs" / "churn" / "defs.yaml"
    assert yaml.safe_load(committed.read_text()) == body  # the committed instance is one too
