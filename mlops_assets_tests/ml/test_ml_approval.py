"""Only an approved version scores or serves: the gates promoted it, or an audited override.

Every test sets ``@champion`` by hand with the MLflow client, around the gates, on a real SQLite
store, and checks what the champion-resolving paths (``Registry.require_champion``, the serving
path) do with it.
"""

from pathlib import Path

import polars as pl
import pytest
from pydantic import ValidationError

from mlops_assets.config.ml import ServingConfig
from mlops_assets.errors import UnapprovedModelError
from mlops_assets.ml.approval import (
    OverrideRequest,
    approval_metadata,
    approved_version,
    record_override,
)
from mlops_assets.ml.gates import decide
from mlops_assets.ml.model_store import ModelVersionInfo, log_and_register
from mlops_assets.ml.registry import CHAMPION, Registry, gate_metrics
from mlops_assets.ml.serving import start_server
from mlops_assets.ml.tracking import MlflowSettings, RunTags, start_run
from mlops_assets.ml.training import TrainingResult
from mlops_assets_tests.ml.conftest import model_config

TAGS = RunTags(dagster_run_id="run-approval", asset_key="churn/models/approval")
WHY = "hotfix for the holiday campaign; gates re-run on Monday"


@pytest.fixture
def registered(
    settings: MlflowSettings,
    good_result: TrainingResult,
    churn_splits: dict[str, pl.DataFrame],
    model_name: str,
) -> ModelVersionInfo:
    """A registered version the gates never judged."""
    with start_run(settings, "register", TAGS):
        return log_and_register(
            good_result, model_config(), settings, churn_splits["train"], registered_name=model_name
        )


def _set_champion_by_hand(settings: MlflowSettings, name: str, version: str) -> None:
    import mlflow

    client = mlflow.MlflowClient(settings.tracking_uri, settings.effective_registry_uri)
    client.set_registered_model_alias(name, CHAMPION, version)


def test_ml_approval_a_champion_set_by_hand_is_refused_typed(
    settings: MlflowSettings, registered: ModelVersionInfo, tmp_path: Path
) -> None:
    registry = Registry(settings, lock_dir=tmp_path)
    name, version = registered.name, registered.version
    _set_champion_by_hand(settings, name, version)
    with pytest.raises(
        UnapprovedModelError, match="gate decision recorded in MLflow is 'missing'"
    ) as info:
        registry.require_champion(name, purpose="score with")
    assert info.value.context["version"] == version
    assert info.value.context["recorded_gate_action"] is None
    assert info.value.fix is not None and "override" in info.value.fix

    # a decision the gates recorded as reject is refused the same way
    weak = {"roc_auc": 0.51, "accuracy": 0.5}
    registry.record_decision(name, version, decide(weak, None, model_config().gates), weak)
    with pytest.raises(UnapprovedModelError, match="is 'reject'"):
        registry.require_champion(name, purpose="score with")


def test_ml_approval_a_recorded_override_is_honoured_and_audited(
    settings: MlflowSettings, registered: ModelVersionInfo, tmp_path: Path
) -> None:
    import mlflow

    registry = Registry(settings, lock_dir=tmp_path)
    name, version = registered.name, registered.version
    _set_champion_by_hand(settings, name, version)
    override = record_override(
        registry, name, version, OverrideRequest(by="ana@example.com", reason=WHY)
    )
    champion = registry.require_champion(name, purpose="score with")
    assert champion.version == version
    assert approval_metadata(registry, champion) == {
        "approved_by": "override",
        "override_by": "ana@example.com",
        "override_reason": WHY,
        "override_at": override.at.isoformat(),
        "override_run_id": override.run_id,
    }
    # the override is its own MLflow run: who and why as params, findable by its tags
    run = mlflow.MlflowClient(settings.tracking_uri).get_run(override.run_id)
    assert run.data.params["override_by"] == "ana@example.com"
    assert run.data.params["override_reason"] == WHY
    assert (run.data.tags["mlops.kind"], run.data.tags["mlops.version"]) == ("override", version)
    assert run.info.status == "FINISHED"


def test_ml_approval_hand_written_override_tags_approve_nothing(
    settings: MlflowSettings, registered: ModelVersionInfo, tmp_path: Path
) -> None:
    import mlflow

    registry = Registry(settings, lock_dir=tmp_path)
    name, version = registered.name, registered.version
    client = mlflow.MlflowClient(settings.tracking_uri)
    _set_champion_by_hand(settings, name, version)
    forged = {"by": "mallory", "reason": WHY, "at": "2026-01-01T00:00:00+00:00", "run_id": "0" * 32}
    for key, value in forged.items():
        client.set_model_version_tag(name, version, f"mlops.override.{key}", value)
    with pytest.raises(UnapprovedModelError):
        registry.require_champion(name, purpose="score with")  # no such run

    # tags rewritten after a real override no longer match the run that records it
    real = record_override(registry, name, version, OverrideRequest(by="ana", reason=WHY))
    client.set_model_version_tag(name, version, "mlops.override.by", "mallory")
    with pytest.raises(UnapprovedModelError):
        registry.require_champion(name, purpose="score with")
    client.set_model_version_tag(name, version, "mlops.override.by", "ana")
    assert registry.require_champion(name, purpose="score with").version == version
    assert real.run_id == registry.get_version(name, version).tags["mlops.override.run_id"]

    # the same override's tags copied onto another version approve nothing there
    other = str(client.create_model_version(name, registered.logged_model_uri or "").version)
    for key, value in registry.get_version(name, version).tags.items():
        if key.startswith("mlops.override."):
            client.set_model_version_tag(name, other, key, value)
    _set_champion_by_hand(settings, name, other)
    with pytest.raises(UnapprovedModelError):
        registry.require_champion(name, purpose="score with")


@pytest.mark.parametrize(
    ("by", "reason"), [("", WHY), ("ana", ""), ("ana", "because"), ("   ", "   " * 10)]
)
def test_ml_approval_an_override_needs_who_and_a_reason(by: str, reason: str) -> None:
    with pytest.raises(ValidationError):
        OverrideRequest(by=by, reason=reason)


def test_ml_approval_serving_refuses_before_starting_a_process(
    settings: MlflowSettings, registered: ModelVersionInfo, tmp_path: Path
) -> None:
    name, version = registered.name, registered.version
    _set_champion_by_hand(settings, name, version)
    log = tmp_path / "serve.log"
    for uri in (f"models:/{name}/{version}", f"models:/{name}@{CHAMPION}"):
        with pytest.raises(UnapprovedModelError, match="cannot be used as a served model"):
            start_server(uri, ServingConfig(), settings=settings, log_path=log)
    assert not log.exists()  # refused before any server process was started
    with pytest.raises(UnapprovedModelError, match="only registered model versions are served"):
        start_server(
            registered.logged_model_uri or "", ServingConfig(), settings=settings, log_path=log
        )
    # the gates' own promotion approves it
    metrics = {"roc_auc": 0.8, "accuracy": 0.75}
    Registry(settings, lock_dir=tmp_path).record_decision(
        name, version, decide(metrics, None, model_config().gates), metrics
    )
    assert approved_version(f"models:/{name}@{CHAMPION}", settings).version == version


def test_ml_approval_gate_metrics_of_versions_recorded_before_the_json_record(
    settings: MlflowSettings, registered: ModelVersionInfo, tmp_path: Path
) -> None:
    import mlflow

    client = mlflow.MlflowClient(settings.tracking_uri)
    name, version = registered.name, registered.version
    client.set_model_version_tag(name, version, "gate.metric.test_roc_auc", repr(0.1 + 0.2))
    client.set_model_version_tag(name, version, "gate.metric.accuracy", "0.75")
    legacy = Registry(settings, lock_dir=tmp_path).get_version(name, version)
    assert gate_metrics(legacy) == {"roc_auc": 0.1 + 0.2, "accuracy": 0.75}
