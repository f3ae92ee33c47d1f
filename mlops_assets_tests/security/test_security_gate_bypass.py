"""The gate is the only way to score: a ``@champion`` moved by hand is refused by batch inference.

On a copy of the secret lifecycle (v1 promoted by the gates, v2 rejected by them), ``@champion``
is moved to v2 with the MLflow client, around the gates. The batch-inference run then fails with
an ``UnapprovedModelError`` and writes nothing; after an override is recorded in MLflow (who, why)
the same run succeeds and its materialization says who approved the model and why.
"""

from pathlib import Path

import dagster as dg
import pytest

from mlops_assets.ml.approval import OverrideRequest, record_override
from mlops_assets.ml.registry import CHAMPION, Registry
from mlops_assets.ml.tracking import MlflowSettings
from mlops_assets_tests.assets.ml.lifecycle_helpers import (
    MODEL,
    PREDICTIONS_KEY,
    USE_CASE,
    copy_data_dir,
    defs_for,
    metadata,
    read_lake,
    run_job,
    step_error,
)
from mlops_assets_tests.security.conftest import SecretLifecycle

# the shared lifecycle is built by the first test that asks (minutes on a loaded 2-core machine)
pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]

WHY = "incident 4711: v1 scores stale prices, v2 is the lesser evil until Monday's retrain"


def test_inference_refuses_a_hand_set_champion_until_an_override_is_recorded(
    secret_lifecycle: SecretLifecycle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow

    for key, value in secret_lifecycle.env.items():
        monkeypatch.setenv(key, value)
    data_dir = copy_data_dir(secret_lifecycle.data_dir, tmp_path)
    settings = MlflowSettings(
        tracking_uri=f"sqlite:///{data_dir / 'mlflow' / 'mlflow.db'}",
        experiment_name=f"mlops_assets/{USE_CASE}",
        artifact_location=(data_dir / "mlflow" / "artifacts").as_uri(),
    )
    registry = Registry(settings, lock_dir=tmp_path / "locks")
    champion = registry.alias_version(MODEL, CHAMPION)
    rejected = registry.latest_version(MODEL)
    assert champion is not None and rejected is not None
    assert rejected.tags["gate.action"] == "reject" and champion.version != rejected.version

    # both URIs: a client given only the tracking URI uses the process's registry URI
    client = mlflow.MlflowClient(settings.tracking_uri, settings.effective_registry_uri)
    client.set_registered_model_alias(MODEL, CHAMPION, rejected.version)
    day = secret_lifecycle.days[0]  # never scored in the lifecycle
    defs = defs_for(data_dir, configs=secret_lifecycle.configs)
    with dg.DagsterInstance.ephemeral() as instance:
        refused = run_job(defs, f"{USE_CASE}_batch_inference", instance, partition=day)
        assert not refused.success, metadata(refused, PREDICTIONS_KEY)
        cls, message = step_error(refused)
        assert cls == "UnapprovedModelError", (cls, message)
        assert f"v{rejected.version} cannot be used as @champion to score with" in message
        assert "'reject'" in message
        assert not refused.get_asset_materialization_events()
        assert not (data_dir / "lakehouse" / USE_CASE / "inference" / "predictions").exists() or (
            read_lake(data_dir, PREDICTIONS_KEY, day).is_empty()
        )

        override = record_override(
            registry, MODEL, rejected.version, OverrideRequest(by="oncall@example.com", reason=WHY)
        )
        scored = run_job(defs, f"{USE_CASE}_batch_inference", instance, partition=day)
        assert scored.success, step_error(scored)
    meta = metadata(scored, PREDICTIONS_KEY)
    assert meta["model_version"] == int(rejected.version)
    assert meta["approved_by"] == "override"
    assert (meta["override_by"], meta["override_reason"]) == ("oncall@example.com", WHY)
    assert meta["override_run_id"] == override.run_id
    predictions = read_lake(data_dir, PREDICTIONS_KEY, day)
    assert predictions.height > 0
    assert predictions["model_version"].unique().to_list() == [rejected.version]
