"""Measuring one figure honestly: its own process, wall and CPU time, peak memory, machine load.

Every measured task runs in a fresh Python process (``python -m benchmarks.child``), so imports,
caches and memory of one figure never leak into another, and the peak RSS is that process's own.
The task reports the wall and CPU seconds of the region it times (data preparation excluded);
CPU seconds cover every thread of the process (a Spark task adds its JVM's), so they do not grow
when other jobs share the machine the way wall time does. Figures under 10 s are the median of
at least three runs.

On a virtual machine the hypervisor may give the CPUs to other guests: that "steal" slows every
figure without showing in the load average, and slows parallel work (Polars on both cores) more
than serial work. Each run records the share of the machine's CPU time stolen while it ran.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from benchmarks.timing import REPO_ROOT, RESULT_MARK

REPEAT_BELOW_S = 10.0  # figures faster than this are the median of MIN_RUNS runs
MIN_RUNS = 3
RUNS_ENV = "MLOPS_BENCH_RUNS"  # force a number of runs per figure (the quick suite: 1)
MAX_RSS_ENV = "MLOPS_BENCH_MAX_RSS_GB"  # kill a task whose memory passes this


class BenchError(RuntimeError):
    """A benchmark task failed (its process exited non-zero or printed no result)."""


class Run(BaseModel):
    """One run of one task in its own process."""

    model_config = ConfigDict(extra="forbid")

    wall_s: float = Field(description="Wall seconds of the timed region.")
    cpu_s: float = Field(description="CPU seconds (all threads) of the timed region.")
    peak_rss_gib: float = Field(description="Peak resident memory of the whole process.")
    load_1m: float = Field(description="1-minute load average when the run ended.")
    steal_pct: float | None = Field(
        default=None,
        description="Percent of the machine's CPU time the hypervisor gave to other guests "
        "while the run ran (Linux /proc/stat; None where unknown).",
    )
    details: dict[str, Any] = Field(default_factory=dict, description="Task-specific figures.")


class Figure(BaseModel):
    """A measured figure: its runs and their medians."""

    model_config = ConfigDict(extra="forbid")

    label: str = Field(description="What was measured.")
    runs: list[Run] = Field(description="Every run (the median is reported).")

    @property
    def wall_s(self) -> float:
        return statistics.median(r.wall_s for r in self.runs)

    @property
    def cpu_s(self) -> float:
        return statistics.median(r.cpu_s for r in self.runs)

    @property
    def peak_rss_gib(self) -> float:
        return max(r.peak_rss_gib for r in self.runs)

    @property
    def load_1m(self) -> float:
        return statistics.median(r.load_1m for r in self.runs)

    @property
    def steal_pct(self) -> float | None:
        known = [r.steal_pct for r in self.runs if r.steal_pct is not None]
        return statistics.median(known) if known else None

    @property
    def details(self) -> dict[str, Any]:
        """The details of the median run (by wall time)."""
        ordered = sorted(self.runs, key=lambda r: r.wall_s)
        return ordered[len(ordered) // 2].details

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "label": self.label,
            "wall_s": round(self.wall_s, 3),
            "cpu_s": round(self.cpu_s, 3),
            "peak_rss_gib": round(self.peak_rss_gib, 3),
            "load_1m": round(self.load_1m, 2),
            "runs": len(self.runs),
        }
        if self.steal_pct is not None:
            out["steal_pct"] = round(self.steal_pct, 1)
        return out


def cpu_times() -> tuple[int, int] | None:
    """(stolen, total) CPU time of the whole machine since boot, in clock ticks, from the
    first line of /proc/stat (None where there is none)."""
    try:
        line = Path("/proc/stat").read_text(encoding="ascii").split("\n", 1)[0]
    except OSError:
        return None
    # user nice system idle iowait irq softirq steal (guest time is already counted in user)
    ticks = [int(v) for v in line.split()[1:9]]
    return (ticks[7] if len(ticks) > 7 else 0), sum(ticks)


def steal_percent(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float | None:
    """Percent of the machine's CPU time stolen between two :func:`cpu_times` readings."""
    if before is None or after is None or after[1] <= before[1]:
        return None
    return round(100 * (after[0] - before[0]) / (after[1] - before[1]), 1)


def run_task(task: str, args: dict[str, Any] | None = None, timeout_s: float = 3600) -> Run:
    """Run the :mod:`benchmarks.tasks` entry ``task`` once in a fresh process and measure it.

    The process is killed (and the figure fails) past ``timeout_s`` or when its resident memory
    passes ``MLOPS_BENCH_MAX_RSS_GB`` (default 14): other jobs share this machine.
    """
    path = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONPATH": path}
    env.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    env.setdefault("DO_NOT_TRACK", "1")
    env.setdefault("OMP_NUM_THREADS", "1")  # as the Makefile exports: see its comment
    limit_gb = float(os.environ.get(MAX_RSS_ENV) or 14)
    command = [sys.executable, "-m", "benchmarks.child", task, json.dumps(args or {})]
    times = cpu_times()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=out, stderr=err, text=True)
        deadline = time.monotonic() + timeout_s
        killed = None
        while proc.poll() is None:
            if time.monotonic() > deadline:
                killed = f"ran past {timeout_s:.0f} s"
            elif (rss := _tree_rss_gb(proc.pid)) > limit_gb:
                killed = f"used {rss:.1f} GB of memory (limit {limit_gb:.0f} GB, {MAX_RSS_ENV})"
            if killed:
                proc.kill()
                proc.wait()
                raise BenchError(f"{task} {killed}")
            time.sleep(0.25)
        stolen = steal_percent(times, cpu_times())
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise BenchError(f"{task} failed (exit {proc.returncode}):\n{stderr[-4000:]}")
    lines = [line for line in stdout.splitlines() if line.startswith(RESULT_MARK)]
    if not lines:
        raise BenchError(f"{task} printed no result:\n{stdout[-2000:]}\n{stderr[-2000:]}")
    result = json.loads(lines[-1][len(RESULT_MARK) :])
    return Run(
        wall_s=float(result.pop("wall_s")),
        cpu_s=float(result.pop("cpu_s")),
        peak_rss_gib=float(result.pop("peak_rss_gib")),
        load_1m=round(os.getloadavg()[0], 2),
        steal_pct=stolen,
        details=result,
    )


def _tree_rss_gb(pid: int) -> float:
    """Resident memory of a process and its children (Linux /proc; 0 when unreadable)."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
        pending.extend(int(c) for c in children)
    return total / 1e6


def measure(
    label: str,
    task: str,
    args: dict[str, Any] | None = None,
    *,
    runs: int | None = None,
    timeout_s: float = 3600,
) -> Figure:
    """A figure: one run, then more until ``MIN_RUNS`` when it took under ``REPEAT_BELOW_S``."""
    forced = os.environ.get(RUNS_ENV)
    runs = int(forced) if forced else runs
    first = run_task(task, args, timeout_s)
    wanted = runs if runs is not None else (MIN_RUNS if first.wall_s < REPEAT_BELOW_S else 1)
    done = [first]
    while len(done) < wanted:
        done.append(run_task(task, args, timeout_s))
    return Figure(label=label, runs=done)


def measure_pair(
    ours: tuple[str, str], peer: tuple[str, str], *, runs: int
) -> tuple[Figure, Figure]:
    """Two figures measured alternately (ours, peer, ours, peer, ...), each ``(label, task)``.

    On a shared machine the load drifts within seconds; alternating puts both sides of each
    pair under the same conditions, so :func:`paired_ratio` compares like with like.
    """
    forced = os.environ.get(RUNS_ENV)
    runs = int(forced) if forced else runs
    mine: list[Run] = []
    theirs: list[Run] = []
    for _ in range(runs):
        mine.append(run_task(ours[1], None, 600))
        theirs.append(run_task(peer[1], None, 600))
    return Figure(label=ours[0], runs=mine), Figure(label=peer[0], runs=theirs)


def paired_ratio(ours: Figure, peer: Figure, *, cpu: bool = False) -> float:
    """The median of run-by-run ratios ours_i / peer_i of figures from :func:`measure_pair`."""
    pairs = zip(ours.runs, peer.runs, strict=True)
    return statistics.median(
        ratio(a.cpu_s, b.cpu_s) if cpu else ratio(a.wall_s, b.wall_s) for a, b in pairs
    )


class Comparison(BaseModel):
    """Ours against a peer (or a floor): the ratio, the target and whether it is met."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="What is compared.")
    ours: dict[str, Any] = Field(description="Our figure (summary).")
    peer: dict[str, Any] | None = Field(description="The peer's figure (summary), if any.")
    ratio: float | None = Field(description="The ratio the target is about.")
    ratio_meaning: str = Field(description="How the ratio is formed, e.g. 'peer / ours'.")
    target: str = Field(description="The target, in words.")
    met: bool | None = Field(description="Whether the target is met (None: not judged).")
    notes: list[str] = Field(default_factory=list, description="What limits it, caveats.")


def compare(
    name: str,
    ours: Figure,
    peer: Figure | None,
    *,
    target: str,
    ratio: float | None,
    ratio_meaning: str,
    met: bool | None,
    notes: list[str] | None = None,
) -> Comparison:
    return Comparison(
        name=name,
        ours=ours.summary(),
        peer=peer.summary() if peer is not None else None,
        ratio=round(ratio, 2) if ratio is not None else None,
        ratio_meaning=ratio_meaning,
        target=target,
        met=met,
        notes=notes or [],
    )


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else float("inf")
