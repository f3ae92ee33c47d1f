"""Aliases, decision records and serialised compare-and-swap promotion on a real MLflow server."""

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import polars as pl
import pytest

from mlops_assets.errors import PromotionError, RegistryError
from mlops_assets.ml.gates import decide
from mlops_assets.ml.locking import file_lock, lock_path
from mlops_assets.ml.model_store import log_and_register
from mlops_assets.ml.registry import CHAMPION, Registry, gate_metrics
from mlops_assets.ml.tracking import MlflowSettings, RunTags, start_run
from mlops_assets.ml.training import TrainingResult
from mlops_assets_tests.ml.conftest import model_config

TAGS = RunTags(dagster_run_id="run-registry", asset_key="churn/model/registry")


@pytest.fixture
def versions(
    server_settings: MlflowSettings,
    good_result: TrainingResult,
    churn_splits: dict[str, pl.DataFrame],
    model_name: str,
) -> list[str]:
    """Three registered versions of one model on the server (one logged model, registered 3x)."""
    import mlflow

    with start_run(server_settings, "register", TAGS):
        first = log_and_register(
            good_result,
            model_config(),
            server_settings,
            churn_splits["train"],
            registered_name=model_name,
        )
    assert first.logged_model_uri is not None
    more = [mlflow.register_model(first.logged_model_uri, model_name).version for _ in range(2)]
    return [first.version, *[str(v) for v in more]]


def test_ml_registry_promotions_move_aliases_only(
    server_settings: MlflowSettings, versions: list[str], model_name: str, tmp_path: Path
) -> None:
    import mlflow

    registry = Registry(server_settings, lock_dir=tmp_path)
    assert registry.alias_version(model_name, CHAMPION) is None
    assert registry.alias_version("model_that_does_not_exist", CHAMPION) is None

    first = registry.promote(model_name, versions[0], expected_champion=None)
    assert (first.changed, first.previous_champion) == (True, None)
    second = registry.promote(model_name, versions[1], expected_champion=versions[0])
    assert second.previous_champion == versions[0]

    champion = registry.alias_version(model_name, CHAMPION)
    assert champion is not None and champion.version == versions[1]
    assert champion.aliases == ["challenger", "champion"]
    assert champion.model_uri == f"models:/{model_name}/{versions[1]}"
    previous = registry.alias_version(model_name, "previous_champion")
    assert previous is not None and previous.version == versions[0]
    client = mlflow.MlflowClient(server_settings.tracking_uri)
    stages = {v.current_stage for v in client.search_model_versions(f"name = '{model_name}'")}
    assert stages <= {"None", None}  # never registry stages
    again = registry.promote(model_name, versions[1], expected_champion=versions[1])
    assert not again.changed


def test_ml_registry_stale_expectation_is_refused(
    server_settings: MlflowSettings, versions: list[str], model_name: str, tmp_path: Path
) -> None:
    registry = Registry(server_settings, lock_dir=tmp_path)
    registry.promote(model_name, versions[0], expected_champion=None)
    with pytest.raises(PromotionError, match="changed since evaluation") as info:
        registry.promote(model_name, versions[1], expected_champion=None)
    assert f"found version {versions[0]}" in str(info.value)
    champion = registry.alias_version(model_name, CHAMPION)
    assert champion is not None and champion.version == versions[0]
    with pytest.raises(RegistryError, match="reading version 99"):
        registry.promote(model_name, "99", expected_champion=versions[0])


_RACER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from mlops_assets.errors import PromotionError
    from mlops_assets.ml.registry import Registry
    from mlops_assets.ml.tracking import MlflowSettings

    settings = MlflowSettings.model_validate_json(sys.argv[1])
    name, version, expected, lock_dir, go = sys.argv[2:7]
    registry = Registry(settings, lock_dir=Path(lock_dir))
    registry.alias_version(name, "champion")  # connect and warm up before the start signal
    Path(go).with_name(f"ready-{version}").touch()
    deadline = time.monotonic() + 120
    while not Path(go).exists():
        if time.monotonic() > deadline:
            sys.exit("the start signal never came")
        time.sleep(0.01)
    try:
        registry.promote(name, version, expected_champion=expected)
        print(json.dumps({"version": version, "promoted": True}))
    except PromotionError as exc:
        print(json.dumps({"version": version, "promoted": False, "error": exc.message}))
    """
)


def test_ml_registry_promotion_race_has_one_winner(
    server_settings: MlflowSettings, versions: list[str], model_name: str, tmp_path: Path
) -> None:
    """This process and another one promote different versions against the same champion."""
    locks = tmp_path / "locks"
    registry = Registry(server_settings, lock_dir=locks)
    registry.promote(model_name, versions[0], expected_champion=None)
    script, go = tmp_path / "racer.py", tmp_path / "go"
    script.write_text(_RACER)
    other = versions[2]
    racer = subprocess.Popen(
        [
            sys.executable,
            str(script),
            server_settings.model_dump_json(),
            model_name,
            other,
            versions[0],
            str(locks),
            str(go),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    deadline = time.monotonic() + 120
    while not (tmp_path / f"ready-{other}").exists():
        assert time.monotonic() < deadline, "the racer did not start"
        assert racer.poll() is None, "the racer died before the start"
        time.sleep(0.05)
    go.touch()  # both were evaluated against versions[0]; now both promote at once
    try:
        registry.promote(model_name, versions[1], expected_champion=versions[0])
        outcomes = [{"version": versions[1], "promoted": True}]
    except PromotionError as exc:
        outcomes = [{"version": versions[1], "promoted": False, "error": exc.message}]
    out, err = racer.communicate(timeout=120)
    assert racer.returncode == 0, err
    outcomes.append(json.loads(out.strip().splitlines()[-1]))
    winners = [o["version"] for o in outcomes if o["promoted"]]
    losers = [o for o in outcomes if not o["promoted"]]
    assert len(winners) == 1 and len(losers) == 1
    assert f"found version {winners[0]}" in str(losers[0]["error"])
    champion = registry.alias_version(model_name, CHAMPION)
    assert champion is not None and champion.version == winners[0]


def test_ml_registry_lock_timeout_moves_nothing(
    server_settings: MlflowSettings, versions: list[str], model_name: str, tmp_path: Path
) -> None:
    registry = Registry(server_settings, lock_dir=tmp_path, lock_timeout_s=0.3)
    path = lock_path(tmp_path, server_settings.effective_registry_uri, model_name)
    with (
        file_lock(path, timeout_s=1),
        pytest.raises(PromotionError, match="held the registry lock"),
    ):
        registry.promote(model_name, versions[0], expected_champion=None)
    assert registry.alias_version(model_name, CHAMPION) is None


def test_ml_registry_records_the_gate_decision(
    server_settings: MlflowSettings, versions: list[str], model_name: str, tmp_path: Path
) -> None:
    import mlflow

    registry = Registry(server_settings, lock_dir=tmp_path)
    config = model_config()
    metrics = {"roc_auc": 0.55, "accuracy": 0.61}
    decision = decide(metrics, None, config.gates)
    registry.record_decision(model_name, versions[0], decision, metrics)
    registry.record_decision(model_name, versions[0], decision, metrics)  # idempotent text
    info = registry.get_version(model_name, versions[0])
    assert info.tags["gate.action"] == "reject"
    assert info.tags["gate.passed"] == "false"
    assert gate_metrics(info) == metrics
    # a few tags, not one string tag per metric: the numbers are MLflow metrics of a run
    gate_tags = sorted(k for k in info.tags if k.startswith("gate."))
    assert not [k for k in gate_tags if k.startswith("gate.metric.")]
    assert len(gate_tags) <= 9, gate_tags
    run = mlflow.MlflowClient(server_settings.tracking_uri).get_run(info.tags["gate.run_id"])
    assert run.info.run_id == info.run_id  # no evaluation run given: the version's own run
    assert {k: v for k, v in run.data.metrics.items() if k.startswith("gate.")} == {
        "gate.roc_auc": 0.55,
        "gate.accuracy": 0.61,
    }
    assert "roc_auc = 0.5500 is below the minimum 0.6000." in info.tags["gate.reasons"]
    client = mlflow.MlflowClient(server_settings.tracking_uri)
    description = client.get_model_version(model_name, versions[0]).description
    assert description is not None
    assert description.count("Gate decision") == 1
    assert description.startswith("sklearn.ensemble.HistGradientBoostingClassifier; validation:")


def test_ml_registry_gate_metrics_read_back_what_record_decision_wrote(
    settings: MlflowSettings,
    good_result: TrainingResult,
    churn_splits: dict[str, pl.DataFrame],
    model_name: str,
    tmp_path: Path,
) -> None:
    registry = Registry(settings, lock_dir=tmp_path)
    assert registry.latest_version(model_name) is None
    with start_run(settings, "register", TAGS):
        info = log_and_register(
            good_result, model_config(), settings, churn_splits["train"], registered_name=model_name
        )
    latest = registry.latest_version(model_name)
    assert latest is not None and latest.version == info.version
    # values whose shortest repr matters: nothing may be lost between the tag and the float
    metrics = {"roc_auc": 0.1 + 0.2, "accuracy": 1 / 3, "log_loss": 1e-300, "f1": 0.0}
    decision = decide(metrics, None, model_config().gates)
    registry.record_decision(model_name, info.version, decision, metrics)
    version = registry.get_version(model_name, info.version)
    # the version also carries validation metrics and the decision: only gate metrics come back
    assert "mlops.val_roc_auc" in version.tags and "gate.action" in version.tags
    assert gate_metrics(version) == metrics


def test_ml_registry_require_champion_names_the_purpose_and_the_fix(
    settings: MlflowSettings,
    good_result: TrainingResult,
    churn_splits: dict[str, pl.DataFrame],
    model_name: str,
    tmp_path: Path,
) -> None:
    registry = Registry(settings, lock_dir=tmp_path)
    with pytest.raises(RegistryError, match=f"{model_name} has no @champion to monitor") as info:
        registry.require_champion(model_name, purpose="monitor")
    assert info.value.fix is not None and "training job" in info.value.fix
    with start_run(settings, "register", TAGS):
        version = log_and_register(
            good_result, model_config(), settings, churn_splits["train"], registered_name=model_name
        ).version
    metrics = {"roc_auc": 0.8, "accuracy": 0.75}
    registry.record_decision(
        model_name, version, decide(metrics, None, model_config().gates), metrics
    )
    registry.promote(model_name, version, expected_champion=None)
    champion = registry.require_champion(model_name, purpose="score with")
    assert (champion.version, champion.model_uri) == (version, f"models:/{model_name}/{version}")


def test_ml_registry_rollback_serves_the_champion_the_last_promotion_replaced(
    server_settings: MlflowSettings, versions: list[str], model_name: str, tmp_path: Path
) -> None:
    from mlops_assets.assets.ml.deployment import _version_to_serve
    from mlops_assets.assets.ml.serving_run_config import DeploymentRunConfig
    from mlops_assets.ml.decisions import EvaluationReport
    from mlops_assets.ml.promotion import decide_champion

    registry = Registry(server_settings, lock_dir=tmp_path)
    with pytest.raises(RegistryError, match="nothing to roll back to") as caught:
        registry.rollback_version(model_name)
    assert caught.value.fix is not None and "version" in caught.value.fix
    registry.promote(model_name, versions[0], expected_champion=None)
    registry.promote(model_name, versions[1], expected_champion=versions[0])
    # a later step keeps the champion (a weaker challenger): its state names the champion
    # itself as the one "before this step", which is not where a rollback goes
    decision = decide({"roc_auc": 0.5}, {"roc_auc": 0.9}, model_config().gates)
    report = EvaluationReport(
        model_name=model_name,
        challenger_version=versions[2],
        champion_version=versions[1],
        challenger_metrics={"roc_auc": 0.5},
        champion_metrics={"roc_auc": 0.9},
        n_test=10,
        decision=decision,
        mlflow_run_id="r",
    )
    kept = decide_champion(report, current_champion=versions[1])
    assert kept.previous_champion == kept.champion_version == versions[1]
    rollback = DeploymentRunConfig.model_validate(
        {"serve": {"rollback": {"reason": "v2 misbehaves"}}}
    )
    served = _version_to_serve(kept, rollback, lambda: registry.rollback_version(model_name))
    assert served == versions[0]
    assert _version_to_serve(kept, DeploymentRunConfig(), lambda: "unused") == versions[1]
