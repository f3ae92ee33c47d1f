"""The retraining sensor, evaluated like the daemon does, on monitoring tables written here."""

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from mlops_assets.automation.retraining_sensor import RetrainCursor
from mlops_assets.config.monitoring import RetrainingPolicy
from mlops_assets_tests.assets.ml.lifecycle_helpers import (
    MODEL_OP,
    day_keys,
    defs_for,
    project_for,
)
from mlops_assets_tests.assets.monitoring.monitoring_tables import (
    tick,
    write_windows,
)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def defs(data_dir: Path) -> dg.Definitions:
    return defs_for(data_dir)


@pytest.fixture
def policy(data_dir: Path) -> RetrainingPolicy:
    return project_for(data_dir).use_case("churn").monitoring.retraining


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.ephemeral() as inst:
        yield inst


def test_no_monitoring_table_yet(defs: dg.Definitions, instance: dg.DagsterInstance) -> None:
    result = tick(defs, instance)
    assert not result.run_requests
    assert result.skip_message is not None
    assert "no monitoring windows yet" in result.skip_message


def test_n_of_m_violations_start_one_retraining_and_only_once(
    defs: dg.Definitions, instance: dg.DagsterInstance, data_dir: Path, policy: RetrainingPolicy
) -> None:
    n, m = policy.violations_required, policy.window_count
    statuses = ["ok"] * (m - n) + ["drift"] * n
    windows = write_windows(data_dir, statuses)
    latest = windows[-1]

    first = tick(defs, instance)
    assert first.run_requests is not None
    (request,) = first.run_requests
    assert request.run_key == f"retrain:churn:{latest}"
    reason = request.tags["mlops/reason"]
    assert reason.startswith(f"Retrain: drift violated in {n} of the last {m} windows")
    assert request.tags["mlops/trigger"] == "retraining_sensor"
    assert request.tags["mlops/window"] == latest
    assert request.tags["mlops/violated_windows"] == ",".join(windows[-n:])
    # the run config is valid for the training job and carries the reason to MLflow
    job = defs.resolve_job_def("churn_training")
    assert dg.validate_run_config(job, request.run_config)
    assert request.run_config["ops"][MODEL_OP]["config"]["reason"] == reason[:500]
    cursor = RetrainCursor.model_validate_json(first.cursor or "")
    assert cursor.last_window == latest
    assert cursor.retrain_windows == [latest]
    assert cursor.rows_at_last_retrain == 400 * m

    # the next tick (or a daemon restarted with the stored cursor) does not fire again
    again = tick(defs, instance, first.cursor)
    assert not again.run_requests
    assert again.skip_message == f"retraining was already requested at window {latest}"
    # a daemon that lost the cursor asks for the same run key, which it deduplicates
    lost = tick(defs, instance, None)
    assert lost.run_requests is not None
    assert [r.run_key for r in lost.run_requests] == [request.run_key]


def test_too_few_violations_is_a_skip_with_the_count(
    defs: dg.Definitions, instance: dg.DagsterInstance, data_dir: Path, policy: RetrainingPolicy
) -> None:
    m = policy.window_count
    write_windows(data_dir, ["ok"] * (m - 1) + ["drift"])
    result = tick(defs, instance)
    assert not result.run_requests
    assert result.skip_message is not None
    assert result.skip_message.startswith(
        f"No retrain: drift or performance violated in 1 of the last {m} windows"
    )
    assert f"{policy.violations_required} of {m} are required" in result.skip_message
    # the window was seen: the cursor moved even though nothing ran
    assert RetrainCursor.model_validate_json(result.cursor or "").last_window == day_keys(m)[-1]


def test_clean_latest_window_is_a_skip_when_the_policy_requires_it(
    defs: dg.Definitions, instance: dg.DagsterInstance, data_dir: Path, policy: RetrainingPolicy
) -> None:
    assert policy.require_latest
    windows = write_windows(data_dir, ["drift"] * policy.window_count + ["ok"])
    result = tick(defs, instance)
    assert not result.run_requests
    assert result.skip_message is not None
    assert f"the latest window {windows[-1]} is clean" in result.skip_message


def test_cooldown_blocks_a_warranted_retrain(
    defs: dg.Definitions, instance: dg.DagsterInstance, data_dir: Path, policy: RetrainingPolicy
) -> None:
    windows = write_windows(data_dir, ["drift"] * (policy.window_count + 1))
    previous = RetrainCursor(
        last_window=windows[-2], retrain_windows=[windows[-2]], rows_at_last_retrain=0
    )
    result = tick(defs, instance, previous.model_dump_json())
    assert not result.run_requests
    assert result.skip_message is not None
    assert result.skip_message.startswith("Retrain warranted")
    assert f"24.0 h ago, within the {policy.cooldown_hours:g} h cooldown" in result.skip_message


def test_max_retrains_per_period_blocks_a_warranted_retrain(
    defs: dg.Definitions, instance: dg.DagsterInstance, data_dir: Path, policy: RetrainingPolicy
) -> None:
    gap = int(policy.cooldown_hours // 24) + 1  # retrains spaced beyond the cooldown
    count = policy.max_retrains
    days = gap * count + 1
    assert days <= policy.max_retrains_period_days
    windows = write_windows(data_dir, ["drift"] * days)
    earlier = [windows[-1 - gap * k] for k in range(count, 0, -1)]
    previous = RetrainCursor(last_window=windows[-2], retrain_windows=earlier)
    result = tick(defs, instance, previous.model_dump_json())
    assert not result.run_requests
    assert result.skip_message is not None
    assert "cooldown" not in result.skip_message
    assert (
        f"{count} retrains already ran in the last {policy.max_retrains_period_days} days "
        f"(cap {policy.max_retrains})"
    ) in result.skip_message


def test_too_few_new_rows_blocks_a_warranted_retrain(
    defs: dg.Definitions, instance: dg.DagsterInstance, data_dir: Path, policy: RetrainingPolicy
) -> None:
    m = policy.window_count
    per_window = policy.min_new_rows // m - 1
    write_windows(data_dir, ["drift"] * m, rows=per_window)
    result = tick(defs, instance)
    assert not result.run_requests
    assert result.skip_message is not None
    assert (
        f"only {per_window * m:,} new rows arrived, {policy.min_new_rows:,} are required"
        in result.skip_message
    )


def test_degraded_performance_triggers_and_missing_labels_do_not(
    defs: dg.Definitions, instance: dg.DagsterInstance, data_dir: Path, policy: RetrainingPolicy
) -> None:
    m = policy.window_count
    write_windows(
        data_dir,
        ["ok"] * m,
        performance=["insufficient_data"] * (m - 2) + ["degraded", "degraded"],
    )
    result = tick(defs, instance)
    assert result.run_requests is not None
    (request,) = result.run_requests
    assert request.tags["mlops/reason"].startswith(
        f"Retrain: performance violated in 2 of the last {m} windows"
    )
    write_windows(data_dir, ["ok"] * m, performance=["insufficient_data"] * m)
    quiet = tick(defs, instance)
    assert not quiet.run_requests
    assert quiet.skip_message is not None
    assert "violated in 0 of the last" in quiet.skip_message


def test_a_verdict_written_after_its_window_was_weighed_is_weighed_again(
    defs: dg.Definitions, instance: dg.DagsterInstance, data_dir: Path, policy: RetrainingPolicy
) -> None:
    """Drift and performance are separate assets: the drift rows can be read before the
    performance rows of the same windows exist (or before a failed step is re-executed)."""
    m = policy.window_count
    write_windows(data_dir, ["ok"] * m)
    early = tick(defs, instance)
    assert not early.run_requests and early.skip_message is not None
    assert "violated in 0 of the last" in early.skip_message
    unchanged = tick(defs, instance, early.cursor)
    assert unchanged.skip_message is not None
    assert unchanged.skip_message.startswith("no new monitoring window or verdict since")
    # the performance of the same windows arrives: degraded in the last two
    write_windows(
        data_dir, ["ok"] * m, performance=["insufficient_data"] * (m - 2) + ["degraded"] * 2
    )
    late = tick(defs, instance, early.cursor)
    assert late.run_requests is not None, late.skip_message
    (request,) = late.run_requests
    assert request.tags["mlops/reason"].startswith(
        f"Retrain: performance violated in 2 of the last {m} windows"
    )
