"""Benchmark inputs from the project's own simulator, scaled up, generated once per size."""

import json
from pathlib import Path
from typing import Any

from benchmarks.timing import bench_dir, timed

DAY = "2026-01-01"  # the churn use case's start date: day 1 of every simulation here


def landing_root(rows: int, days: int = 1, seed: int = 42) -> Path:
    """A data root whose ``landing/`` holds ``days`` simulated churn days of ``rows`` customer
    rows each (labels arrive three days late, so a 1-day root has customers only)."""
    root = bench_dir("landing", f"churn_{rows}x{days}_seed{seed}")
    done = root / "done.json"
    if not done.exists():
        from mlops_assets.simulate import SimulationConfig, simulate

        summary = simulate(SimulationConfig(days=days, rows_per_day=rows, seed=seed), root)
        done.write_text(
            json.dumps({"rows_written": summary.rows_written, "seconds": summary.seconds}),
            encoding="utf-8",
        )
    return root


def prepare_landing(rows: int, days: int = 1, seed: int = 42) -> dict[str, Any]:
    """Task: generate (or find) the landing files of a size, outside any timed figure."""
    out: dict[str, Any] = {}
    with timed(out):
        root = landing_root(rows, days, seed)
    files = sorted((root / "landing").rglob("*.csv"))
    out.update(
        root=str(root),
        files=[str(f.relative_to(root)) for f in files],
        bytes=sum(f.stat().st_size for f in files),
    )
    return out


def customer_files(root: Path, day: str = DAY) -> list[Path]:
    """The customers landing files of one day."""
    return sorted((root / "landing" / "churn" / "customers" / day).glob("*.csv"))
