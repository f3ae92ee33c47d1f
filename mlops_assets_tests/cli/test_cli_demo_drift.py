"""End to end: `mlops-assets demo-drift` detects drift, the sensor retrains, the gates decide."""

import re
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from mlops_assets.cli import main
from mlops_assets.cli.demo_drift import DEFAULT_DRIFT
from mlops_assets.simulate.cli import parse_drift
from mlops_assets.storage.delta import read_table
from mlops_assets_tests.assets.ml.lifecycle_helpers import (
    MODEL,
)
from mlops_assets_tests.assets.ml.registry_helpers import (
    alias_version,
    client,
)

DAYS, DRIFT_FROM, ROWS_PER_DAY = (
    10,
    8,
    400,
)  # 7 clean days, then: skip, retrain, then skip or blocked
DAY_LINE = re.compile(
    r"^day +(\d+) (\d{4}-\d\d-\d\d): drift share +(\d+)% \((\w+)\), "
    r"performance (\S+), champion v(\S+)$"
)


def _days(out: str) -> list[dict[str, str]]:
    """Each printed day with the sensor (and champion decision) lines that follow it."""
    days: list[dict[str, str]] = []
    for line in out.splitlines():
        match = DAY_LINE.match(line)
        if match:
            n, day, share, status, perf, champion = match.groups()
            days.append(
                {"n": n, "day": day, "share": share, "status": status, "champion": champion}
            )
            days[-1]["performance"] = perf
        elif line.strip().startswith("sensor: "):
            days[-1]["sensor"] = line.strip().removeprefix("sensor: ")
        elif line.strip().startswith("champion decision: "):
            days[-1]["decision"] = line.strip().removeprefix("champion decision: ")
    return days


@pytest.mark.slow
@pytest.mark.timeout(1800)  # a whole lifecycle; 3-4 min idle, 9+ min on a loaded 2-core box
def test_demo_drift_detects_drift_retrains_and_explains(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir, home = tmp_path / "data", tmp_path / "dagster_home"
    monkeypatch.setenv("MLOPS_DATA_DIR", str(data_dir))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    for name in ("MLOPS_ENV", "MLOPS_CONFIG_DIR", "MLOPS_GATE_MODE"):
        monkeypatch.delenv(name, raising=False)
    argv = ["demo-drift", "--days", str(DAYS), "--drift-from", str(DRIFT_FROM)]
    code = main([*argv, "--rows-per-day", str(ROWS_PER_DAY)])
    out = capsys.readouterr().out
    assert code == 0, out[-3000:]

    days = _days(out)
    assert [int(d["n"]) for d in days] == list(range(1, DAYS + 1))
    # each day's drift share is the one stored in the drift table
    drift = read_table(data_dir / "lakehouse" / "churn" / "monitoring" / "drift")
    stored = dict(zip(drift["window"], drift["drift_share"], strict=True))
    for d in days:
        assert int(d["share"]) == round(100 * stored[d["day"]]), d
    clean, drifted = days[: DRIFT_FROM - 1], days[DRIFT_FROM - 1 :]
    assert all(d["status"] == "ok" for d in clean)
    assert all(d["status"] == "drift" for d in drifted)
    injected = {parse_drift(s.format(day=DRIFT_FROM)).column for s in DEFAULT_DRIFT}
    first_drift = drift.filter(pl.col("window") == drifted[0]["day"])["drifted_columns"][0]
    assert injected <= set(first_drift.split(", "))

    # the sensor: warm-up, then one skip (1 violated window of 3), then a retraining
    assert all(d["sensor"].startswith("warm-up") for d in clean)
    assert drifted[0]["sensor"].startswith("skip: No retrain: drift or performance violated in 1")
    retrained = [d for d in drifted if d["sensor"].startswith("RETRAIN: ")]
    assert retrained and retrained[0] is drifted[1]
    assert "drift violated in 2 of the last 3 windows" in retrained[0]["sensor"]
    # after a retrain, only verdicts about the champion count: a promoted challenger starts
    # its own count (the windows that condemned its predecessor are not evidence against it);
    # a kept champion still has its violations, and the guards hold the next retrain back
    later = [d for d in drifted if d["day"] > retrained[0]["day"] and d not in retrained]
    promoted = retrained[0]["champion"] != drifted[0]["champion"]  # the line shows the day's end
    assert later
    for d in later:
        if promoted:
            assert d["sensor"].startswith(
                "skip: No retrain: drift or performance violated in 1 of the last 1 windows"
            ), d
        else:
            assert "but blocked" in d["sensor"], d

    # each retraining ran as a real run of the training job, keyed by its window
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs(filters=dg.RunsFilter(tags={"mlops/trigger": "retraining_sensor"}))
        assert sorted(r.tags["dagster/run_key"] for r in runs) == sorted(
            f"retrain:churn:{d['day']}" for d in retrained
        )
        assert all(r.job_name == "churn_training" and r.is_success for r in runs)

    # every retrained model was evaluated against the champion; the decision is explained
    versions = client(data_dir).search_model_versions(f"name = '{MODEL}'")
    assert len(versions) == 1 + len(retrained)
    for version in versions:
        assert version.tags["gate.action"] in ("promote", "reject")
    for d in retrained:
        assert d["decision"]
        assert "gate check(s)" in d["decision"]
    final = alias_version(data_dir)
    assert f"final champion: v{final}" in out
    assert days[-1]["champion"] == final
    assert f"retraining runs: {len(retrained)} (" in out
    assert re.search(r"^runs: (\d+)/\1 succeeded$", out, re.MULTILINE)
