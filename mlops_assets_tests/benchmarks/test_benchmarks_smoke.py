"""The benchmark suite at tiny sizes, so it cannot rot: every benchmark runs its real tasks in
their own processes and writes a result the summary tables.

The first test is the quick suite of `python -m benchmarks.run_all --quick` minus the lifecycle
and inference benchmarks (under a minute); those two train, deploy and score a real model (about
two minutes, most of it MLflow training and the model server's start) and run in the second,
slow test.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mlops_assets_tests.conftest import REPO_ROOT

FAST = ["medallion", "drift", "upsert", "load"]
# Real benchmark processes: minutes on a loaded 2-core machine (each run has its own deadline).
pytestmark = pytest.mark.timeout(1800)


def _run_quick(out: Path, bench_dir: Path, only: list[str], timeout_s: float) -> None:
    env = {**os.environ, "MLOPS_BENCH_DIR": str(bench_dir), "MLOPS_BENCH_RUNS": "1"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run_all", "--quick", "--out", str(out), "--only", *only],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def _check(out: Path, names: list[str]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name in names:
        document = json.loads((out / f"{name}.json").read_text(encoding="utf-8"))
        assert document["mode"] == "quick"
        assert document["machine"]["cpus"] >= 1
        assert document["comparisons"], name
        for comparison in document["comparisons"]:
            ours = comparison["ours"]
            assert ours["wall_s"] > 0 and ours["cpu_s"] > 0 and ours["peak_rss_gib"] > 0
            if Path("/proc/stat").is_file():  # the hypervisor's share is recorded (Linux)
                assert 0 <= ours["steal_pct"] <= 100, ours
            assert comparison["ratio"] is not None and comparison["ratio"] > 0, comparison
            assert comparison["met"] is None  # tiny sizes judge no target
        results[name] = document
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith("# Benchmark results (quick)")
    for name in names:
        for comparison in results[name]["comparisons"]:
            assert comparison["name"] in summary
    return results


def test_quick_suite_measures_every_peer(tmp_path: Path) -> None:
    out = tmp_path / "results"
    _run_quick(out, tmp_path / "bench", FAST, timeout_s=900)
    results = _check(out, FAST)
    medallion = results["medallion"]
    figures = medallion["figures"]
    ours = figures["ours_5000"]["runs"][0]["details"]
    pandas = figures["pandas_5000"]["runs"][0]["details"]
    assert ours["rows"] == pandas["rows"] > 4_000  # both kept the same silver rows
    assert {"churn_silver_customers", "churn__features__customer_features"} <= set(ours["steps"])
    agreement = results["drift"]["agreement"]
    assert agreement["same_verdicts"] and agreement["max_rel"] < 1e-9
    upsert = results["upsert"]["comparisons"][0]["notes"][0]
    assert upsert == "updated 500, inserted 500"


@pytest.mark.slow
def test_quick_lifecycle_and_inference(tmp_path: Path) -> None:
    out = tmp_path / "results"
    _run_quick(out, tmp_path / "bench", ["lifecycle", "inference"], timeout_s=1500)
    results = _check(out, ["lifecycle", "inference"])
    lifecycle = results["lifecycle"]["figures"]["lifecycle"]["runs"][0]["details"]
    jobs = {job["job"] for job in lifecycle["jobs"]}
    assert {"churn_ingestion", "churn_training", "churn_deployment"} <= jobs
    assert "churn__models__classifier" in lifecycle["per_asset_s"]
    inference = results["inference"]["figures"]["ours"]["runs"][0]["details"]
    assert inference["rows"] == 2_000
