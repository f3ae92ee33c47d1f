"""Tracking settings, run provenance tags, git commit and UI links."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_assets.errors import RegistryError
from mlops_assets.ml.tracking import (
    MlflowSettings,
    RunTags,
    configure,
    git_commit,
    model_version_url,
    run_url,
    start_run,
)


def test_ml_tracking_tags_and_experiment_location(settings: MlflowSettings) -> None:
    import mlflow

    tags = RunTags(dagster_run_id="abc", asset_key="churn/model", git_commit="deadbeef")
    with start_run(settings, "tagged", tags) as run:
        pass
    client = mlflow.MlflowClient(settings.tracking_uri)
    logged = client.get_run(run.info.run_id)
    assert logged.data.tags["dagster.run_id"] == "abc"
    assert logged.data.tags["dagster.asset_key"] == "churn/model"
    assert logged.data.tags["git.commit"] == "deadbeef"
    assert "dagster.partition" not in logged.data.tags  # no partition, no tag
    assert logged.info.run_name == "tagged"
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.name == settings.experiment_name
    assert experiment.artifact_location == settings.artifact_location
    assert configure(settings) == run.info.experiment_id  # idempotent


def test_ml_tracking_failed_block_marks_the_run_failed(settings: MlflowSettings) -> None:
    import mlflow

    tags = RunTags(dagster_run_id="abc", asset_key="churn/model")
    with pytest.raises(ValueError, match="boom"), start_run(settings, "failing", tags):
        run_id = mlflow.active_run().info.run_id  # type: ignore[union-attr]
        raise ValueError("boom")
    assert mlflow.MlflowClient(settings.tracking_uri).get_run(run_id).info.status == "FAILED"


def test_ml_tracking_deleted_experiment_is_a_registry_error(settings: MlflowSettings) -> None:
    import mlflow

    experiment_id = configure(settings)
    mlflow.MlflowClient(settings.tracking_uri).delete_experiment(experiment_id)
    with pytest.raises(RegistryError, match="is deleted"):
        configure(settings)


def test_ml_tracking_git_commit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the temp root may sit inside this checkout: git must not look above the test's folder
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert git_commit(tmp_path) is None  # not a checkout: None, never an exception
    monkeypatch.delenv("GIT_CEILING_DIRECTORIES")
    repo = Path(__file__).resolve().parent
    inside = subprocess.run(
        ["git", "rev-parse", "--is-inside-work-tree"], cwd=repo, capture_output=True, text=True
    )
    if inside.returncode != 0:
        pytest.skip("the tests do not run from a git checkout")
    commit = git_commit(repo)
    assert commit is not None and re.fullmatch(r"[0-9a-f]{40}", commit)


def test_ml_tracking_links() -> None:
    with_ui = MlflowSettings(
        tracking_uri="sqlite:///x.db", experiment_name="e", ui_url="http://127.0.0.1:5000/"
    )
    assert run_url(with_ui, "3", "abc") == "http://127.0.0.1:5000/#/experiments/3/runs/abc"
    assert (
        model_version_url(with_ui, "churn model", "2")
        == "http://127.0.0.1:5000/#/models/churn%20model/versions/2"
    )
    without = with_ui.model_copy(update={"ui_url": None})
    assert run_url(without, "3", "abc") is None
    assert model_version_url(without, "m", "1") is None
    assert without.effective_registry_uri == "sqlite:///x.db"


def test_ml_core_imports_stay_light() -> None:
    """Importing the ML core (as the code location does) loads no heavy library and no Dagster."""
    code = (
        "import sys\n"
        "import mlops_assets.ml.lifecycle, mlops_assets.ml.serving, mlops_assets.ml.inference\n"
        "import mlops_assets.ml.promotion, mlops_assets.ml.batch, mlops_assets.ml.columns\n"
        "import mlops_assets.monitoring.reference_profiles\n"
        "heavy = ('mlflow', 'sklearn', 'pandas', 'matplotlib', 'skops', 'lightgbm', 'xgboost',\n"
        "         'scipy', 'dagster')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]"
