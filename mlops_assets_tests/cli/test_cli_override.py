"""``mlops-assets override``: the user-facing audited override, on a real MLflow store.

A version the gates never judged is refused as ``@champion``; after the command it is accepted,
and the override (who, why, its own MLflow run) is what the approval reads back.
"""

from pathlib import Path

import pytest

from mlops_assets.cli import main
from mlops_assets.errors import UnapprovedModelError
from mlops_assets.ml.registry import Registry

WHY = "hotfix for the holiday campaign; gates re-run on Monday"


def _registered_version(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> tuple[Registry, str]:
    """The churn model's registry as the CLI sees it, with one unjudged version set @champion."""
    import mlflow

    from mlops_assets.assets.ml.common import registered_name
    from mlops_assets.config.project import load_project
    from mlops_assets.ml.model_store import log_and_register
    from mlops_assets.ml.registry import CHAMPION
    from mlops_assets.ml.split import split_frame
    from mlops_assets.ml.tracking import RunTags, start_run
    from mlops_assets.ml.training import train_model
    from mlops_assets.resources.factory import build_resources
    from mlops_assets.resources.mlflow import MlflowResource
    from mlops_assets_tests.ml.conftest import make_churn_frame, model_config

    monkeypatch.setenv("MLOPS_DATA_DIR", str(data_dir))
    monkeypatch.setenv("MLOPS_ENV", "local")
    project = load_project()
    uc = project.use_case("churn")
    resource = build_resources(project)["mlflow"]
    assert isinstance(resource, MlflowResource)
    settings = resource.settings(uc.name)
    name = registered_name(uc)
    config = model_config()
    splits = split_frame(make_churn_frame(400), "customer_id", config.split)
    with start_run(settings, "train", RunTags(dagster_run_id="cli-override", asset_key="t")):
        result = train_model(splits["train"], splits["validation"], config)
        version = log_and_register(
            result, config, settings, splits["train"].head(5), registered_name=name
        )
    client = mlflow.MlflowClient(settings.tracking_uri, settings.effective_registry_uri)
    client.set_registered_model_alias(name, CHAMPION, version.version)
    return Registry(settings, lock_dir=resource.locks), name


def test_cli_override_lets_an_unjudged_champion_score(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlops_assets.ml.approval import approval

    registry, name = _registered_version(monkeypatch, tmp_path / "data")
    with pytest.raises(UnapprovedModelError):
        registry.require_champion(name, purpose="score with")

    code = main(["override", "--use-case", "churn", "--version", "1", "--by", "ana@example.com",
                 "--reason", WHY])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"override recorded for {name} v1: by ana@example.com" in out

    champion = registry.require_champion(name, purpose="score with")
    assert champion.version == "1"
    found = approval(registry, champion)
    assert found.approved and not found.by_gate
    assert found.override is not None
    assert (found.override.by, found.override.reason) == ("ana@example.com", WHY)
    assert found.override.run_id in out


def test_cli_override_refuses_a_vague_reason_and_an_unknown_version(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlops_assets.ml.approval import approval

    registry, name = _registered_version(monkeypatch, tmp_path / "data")
    code = main(["override", "--version", "1", "--by", "ana", "--reason", "because"])
    err = capsys.readouterr().err
    assert code == 2
    assert "--reason" in err and "why" in err

    code = main(["override", "--version", "7", "--by", "ana", "--reason", WHY])
    err = capsys.readouterr().err
    assert code == 2
    assert "7" in err

    version = registry.get_version(name, "1")
    assert not approval(registry, version).approved  # nothing was recorded by the refusals
