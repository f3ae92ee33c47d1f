"""Run configuration of the promotion step on a real MLflow registry: dry run, pinned version.

The store has v1 and v2 (the champion, tying v1). Evaluating v1 again with enabled gates says
promote (min_improvement is 0), so the promotion step has something to move, or to hold back.
"""

from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from mlops_assets_tests.assets.ml.conftest import Retrained
from mlops_assets_tests.assets.ml.lifecycle_helpers import (
    CHAMPION_KEY,
    EVALUATION_KEY,
    MODEL,
    copy_data_dir,
    defs_for,
    metadata,
    run_job,
    step_error,
)

EVALUATION_OP = "churn__models__evaluation"
CHAMPION_OP = "churn__models__champion"
REASON = "release freeze until Monday"


def _client(data_dir: Path) -> Any:
    from mlflow import MlflowClient

    uri = f"sqlite:///{data_dir / 'mlflow' / 'mlflow.db'}"
    return MlflowClient(tracking_uri=uri, registry_uri=uri)  # not a registry set by another run


def _champion(data_dir: Path) -> str:
    return str(_client(data_dir).get_model_version_by_alias(MODEL, "champion").version)


def _promote(
    defs: dg.Definitions, instance: dg.DagsterInstance, config: dict[str, Any]
) -> dg.ExecuteInProcessResult:
    return run_job(
        defs,
        "churn_training",
        instance,
        run_config={"ops": {CHAMPION_OP: {"config": config}}},
        asset_selection=[CHAMPION_KEY],
    )


def test_dry_run_records_the_verdict_then_a_later_run_promotes(
    promoted_copy: Retrained, tmp_path: Path
) -> None:
    data_dir = copy_data_dir(promoted_copy.data_dir, tmp_path)
    defs = defs_for(data_dir)
    assert _champion(data_dir) == "2"
    ops = {
        EVALUATION_OP: {"config": {"challenger_version": "1"}},
        CHAMPION_OP: {"config": {"promotion": {"dry_run": {"reason": REASON}}}},
    }
    with dg.DagsterInstance.ephemeral() as instance:
        held = run_job(
            defs,
            "churn_training",
            instance,
            run_config={"ops": ops},
            asset_selection=[EVALUATION_KEY, CHAMPION_KEY],
        )
        assert held.success, step_error(held)
        assert metadata(held, EVALUATION_KEY)["decision"] == "promote"
        meta = metadata(held, CHAMPION_KEY)
        assert _champion(data_dir) == "2", "a dry run moves nothing"
        assert meta["promoted"] is False and meta["would_promote"] is True
        assert meta["champion_version"] == "2"
        assert "would promote v1 over v2" in meta["reason"] and REASON in meta["reason"]
        assert meta["run_config/promotion.mode"] == "dry_run"
        assert meta["run_config/promotion.reason"] == REASON
        run_id = str(metadata(held, EVALUATION_KEY)["mlflow_run_id"])
        tags = _client(data_dir).get_run(run_id).data.tags
        assert tags["mlops.run_config.champion.promotion.mode"] == "dry_run"
        assert tags["mlops.run_config.champion.promotion.reason"] == REASON

        pinned = _promote(defs, instance, {"expected_challenger": "2"})
        assert not pinned.success
        assert step_error(pinned)[0] == "PromotionError"
        assert "may promote v2 only" in step_error(pinned)[1]
        assert _champion(data_dir) == "2", "a refused promotion moves nothing"

        applied = _promote(defs, instance, {"expected_challenger": "1"})
        assert applied.success, step_error(applied)
    assert _champion(data_dir) == "1", "the same evaluation, promoted by a later run"
    meta = metadata(applied, CHAMPION_KEY)
    assert meta["promoted"] is True and "would_promote" not in meta
    assert meta["run_config/expected_challenger"] == "1"
    tags = _client(data_dir).get_run(run_id).data.tags
    assert "mlops.run_config.champion.promotion.mode" not in tags, "stale dry-run tag kept"
    assert tags["mlops.run_config.champion.expected_challenger"] == "1"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"promotion": {"dry_run": {}}}, 'Missing required config entry "reason"'),
        ({"promotion": {"forced": {}}}, "forced"),
        (
            {"promotion": {"enabled": {}, "dry_run": {"reason": "r"}}},
            "only specify a single field",
        ),
        ({"dry_run": True}, 'unexpected config entry "dry_run"'),
    ],
)
def test_invalid_promotion_config_is_rejected_at_launch(
    promoted_copy: Retrained, config: dict[str, Any], message: str
) -> None:
    defs = defs_for(promoted_copy.data_dir)
    with dg.DagsterInstance.ephemeral() as instance:
        with pytest.raises(dg.DagsterInvalidConfigError, match=message):
            defs.resolve_job_def("churn_training").execute_in_process(
                run_config={"ops": {CHAMPION_OP: {"config": config}}}, instance=instance
            )
        assert instance.get_runs() == [], "the launch was refused: no run, so no step"


def test_a_malformed_version_fails_before_the_step_touches_the_registry(
    promoted_copy: Retrained, tmp_path: Path
) -> None:
    data_dir = copy_data_dir(promoted_copy.data_dir, tmp_path)
    with dg.DagsterInstance.ephemeral() as instance:
        result = _promote(defs_for(data_dir), instance, {"expected_challenger": "v2"})
        assert not result.success
        assert "expected_challenger" in step_error(result)[1]
        starts = instance.get_event_records(
            dg.EventRecordsFilter(event_type=dg.DagsterEventType.STEP_START)
        )
    assert len(starts) <= 1 and not result.get_asset_materialization_events()
    assert _champion(data_dir) == "2"
