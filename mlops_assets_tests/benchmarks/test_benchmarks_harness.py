"""The measuring harness: each run records the CPU time the hypervisor stole while it ran."""

import time
from pathlib import Path

import pytest

from benchmarks.harness import Figure, Run, cpu_times, run_task, steal_percent
from benchmarks.report import _figure

LINUX = Path("/proc/stat").is_file()


def test_steal_percent_is_the_stolen_share_of_the_machine_time_between_two_readings() -> None:
    assert steal_percent((10, 1_000), (40, 1_300)) == 10.0
    assert steal_percent((10, 1_000), (10, 1_400)) == 0.0
    assert steal_percent(None, (10, 1_000)) is None
    assert steal_percent((10, 1_000), (10, 1_000)) is None  # no time passed: unknown, not 0


@pytest.mark.skipif(not LINUX, reason="reads /proc/stat")
def test_cpu_times_reads_the_machine_counters() -> None:
    before = cpu_times()
    deadline = time.monotonic() + 0.3
    while time.monotonic() < deadline:  # busy: the machine's total must move
        pass
    after = cpu_times()
    assert before is not None and after is not None
    assert 0 <= before[0] <= before[1] and after[1] > before[1] and after[0] >= before[0]
    stolen = steal_percent(before, after)
    assert stolen is not None and 0 <= stolen <= 100


@pytest.mark.skipif(not LINUX, reason="reads /proc/stat")
def test_a_run_records_its_steal_and_the_summary_shows_it() -> None:
    run = run_task("import_dagster")
    assert run.steal_pct is not None and 0 <= run.steal_pct <= 100
    summary = Figure(label="import dagster", runs=[run]).summary()
    assert summary["steal_pct"] == round(run.steal_pct, 1)
    assert f"steal {run.steal_pct:.0f}%" in _figure(summary)


def test_results_written_before_steal_was_recorded_still_read_and_render() -> None:
    old = Run(wall_s=1.0, cpu_s=1.0, peak_rss_gib=0.1, load_1m=0.5)
    summary = Figure(label="old", runs=[old]).summary()
    assert "steal_pct" not in summary
    assert _figure(summary) == "1.00 s wall / 1.00 s CPU, 0.10 GiB (load 0.5, 1 run)"
