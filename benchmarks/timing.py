"""Timing helpers used inside a measured process (standard library only: nothing imported here
may skew an import-time figure)."""

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULT_MARK = "BENCH_RESULT "  # the line a measured process prints its result on
BENCH_DIR_ENV = "MLOPS_BENCH_DIR"


@contextmanager
def timed(out: dict[str, Any], prefix: str = "") -> Iterator[None]:
    """Record the wall and CPU seconds (all threads) of the block as ``<prefix>wall_s`` and
    ``<prefix>cpu_s`` in ``out``."""
    cpu, wall = time.process_time(), time.perf_counter()
    try:
        yield
    finally:
        out[f"{prefix}wall_s"] = time.perf_counter() - wall
        out[f"{prefix}cpu_s"] = time.process_time() - cpu


def bench_dir(*parts: str) -> Path:
    """A scratch folder for benchmark data (``MLOPS_BENCH_DIR``, default ``.mlops_data/bench``,
    which git ignores); large inputs are generated once and reused."""
    root = Path(os.environ.get(BENCH_DIR_ENV) or REPO_ROOT / ".mlops_data" / "bench")
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def process_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) another process has used so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks
