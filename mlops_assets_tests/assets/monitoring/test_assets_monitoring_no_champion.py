"""Monitoring before any model passed the gates: days recorded without a verdict, explained, and
no evidence for the retraining sensor (real MLflow store, real Delta tables, real Dagster runs)."""

from pathlib import Path

import dagster as dg

from mlops_assets.monitoring.windows import DriftWindow, PerformanceWindow
from mlops_assets.storage.lakehouse import LocalLakehouse
from mlops_assets.storage.tables import UseCaseTables
from mlops_assets_tests.assets.ml.lifecycle_helpers import (
    DRIFT_KEY,
    FEATURES_KEY,
    MODEL,
    PERFORMANCE_KEY,
    TrainedBase,
    check_results,
    copy_base,
    defs_for,
    metadata,
    project_for,
    read_lake,
    run_job,
    step_error,
)
from mlops_assets_tests.assets.ml.registry_helpers import alias_version, client
from mlops_assets_tests.assets.monitoring.monitoring_tables import tick, write_windows

LABELLED_DAY = 5
"""A day whose labels have arrived (as in the monitored fixture): performance has rows to join."""


def test_days_without_a_champion_succeed_without_a_verdict_and_say_why(
    trained_base: TrainedBase, tmp_path: Path
) -> None:
    data_dir = copy_base(trained_base, tmp_path)
    client(data_dir).delete_registered_model_alias(MODEL, "champion")
    assert alias_version(data_dir) is None
    day = trained_base.days[LABELLED_DAY]
    defs = defs_for(data_dir)
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_job(defs, "churn_monitoring", instance, partition=day)
        assert result.success, step_error(result)
        skipped = tick(defs, instance)

    drift = metadata(result, DRIFT_KEY)
    assert drift["status"] == "no_champion"
    assert drift["n_current"] == read_lake(data_dir, FEATURES_KEY, day).height > 0
    assert f"{MODEL} has no @champion yet" in drift["verdict"]
    assert "Run the training job" in drift["verdict"]
    assert "drift_share" not in drift and "evidently_report" not in drift
    performance = metadata(result, PERFORMANCE_KEY)
    assert performance["status"] == "no_champion"
    assert performance["labels_received"] > 0
    assert f"{MODEL} has no @champion yet" in performance["verdict"]

    checks = {**check_results(result, DRIFT_KEY), **check_results(result, PERFORMANCE_KEY)}
    assert set(checks) == {"data_drift", "prediction_drift", "model_performance"}
    for name, check in checks.items():
        assert check.passed, name
        assert check.metadata["verdict"].value == "no verdict (no @champion yet)"
        description = check.description or ""
        assert description.startswith(f"No verdict on {day}: {MODEL} has no @champion"), name
        assert description.endswith("The check passes without a verdict."), name

    house = LocalLakehouse(data_dir)
    names = UseCaseTables(project_for(data_dir).use_case("churn"))
    (drift_row,) = DriftWindow.read(house.read_table(names.drift))
    assert (drift_row.window, drift_row.status, drift_row.model_version) == (day, "no_champion", "")
    (perf_row,) = PerformanceWindow.read(house.read_table(names.performance))
    assert (perf_row.status, perf_row.n_labelled) == ("no_champion", 0)
    assert perf_row.labels_received == performance["labels_received"]

    # the retraining sensor: nothing to do, and it says why
    assert skipped.run_requests == []
    assert skipped.skip_message is not None
    assert skipped.skip_message.startswith(f"nothing to do: the latest monitoring window ({day})")


def test_a_day_without_a_champion_after_drifted_days_starts_no_retraining(tmp_path: Path) -> None:
    policy = project_for(tmp_path / "data").use_case("churn").monitoring.retraining
    n, m = policy.violations_required, policy.window_count
    evidence = ["ok"] * (m - n) + ["drift"] * n  # enough to retrain on its own
    data_dir = tmp_path / "data"
    windows = write_windows(data_dir, [*evidence, "no_champion"])
    with dg.DagsterInstance.ephemeral() as instance:
        result = tick(defs_for(data_dir), instance)
    assert result.run_requests == []
    assert result.skip_message is not None
    assert f"({windows[-1]}) has no verdict" in result.skip_message
    # the same evidence without the day that had no champion does start a retraining
    earlier = tmp_path / "earlier"
    write_windows(earlier, evidence)
    with dg.DagsterInstance.ephemeral() as instance:
        started = tick(defs_for(earlier), instance)
    assert [r.run_key for r in started.run_requests] == [f"retrain:churn:{windows[-2]}"]
