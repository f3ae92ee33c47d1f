"""Drift benchmark: our vectorised statistics against Evidently, and at 10M-row scale.

Measures, in one run:

(a) ``compute_drift`` on N rows x C columns against Evidently's ``DataDriftPreset`` on the same
    rows (same reference, so the statistics must agree: the largest relative difference is
    reported). Target: ours >= 30x faster.
(b) ``compute_drift`` over 10M rows x 50 columns against a stored (JSON) reference profile,
    both reading the current data from a Parquet file (``pl.scan_parquet``) and on a frame
    already in memory. Target: <= 30 s on a 2-core machine.

Usage::

    uv run --frozen python benchmarks/drift_benchmark.py            # full run (~5 min)
    uv run --frozen python benchmarks/drift_benchmark.py --quick    # CI smoke run (< 60 s)

Results are printed as a table and written to benchmarks/results/drift.json.
"""

import argparse
import gc
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import polars as pl

from mlops_assets.config.monitoring import DriftConfig
from mlops_assets.monitoring.profile import build_profile, load_profile, save_profile
from mlops_assets.monitoring.schema import DriftResult
from mlops_assets.monitoring.statistics import compute_drift

T = TypeVar("T")
RESULTS = Path(__file__).resolve().parent / "results" / "drift.json"
CATEGORIES = [f"segment_{i:02d}" for i in range(12)]
REFERENCE_ROWS = 20_000  # = DriftConfig.reference_sample_size: ours sees the same reference


def make_frame(rows: int, numeric: int, categorical: int, seed: int, shift: float) -> pl.DataFrame:
    """Synthetic features: normal / lognormal / integer numerics and string categoricals.

    ``shift`` moves every third numeric column and re-weights every other categorical one.
    """
    rng = np.random.default_rng(seed)
    columns: dict[str, Any] = {}
    for i in range(numeric):
        delta = shift if i % 3 == 0 else 0.0
        kind = i % 3
        if kind == 0:
            columns[f"num_{i:02d}"] = rng.normal(delta, 1.0, rows)
        elif kind == 1:
            columns[f"num_{i:02d}"] = rng.lognormal(0.0, 0.5, rows)
        else:
            columns[f"num_{i:02d}"] = rng.poisson(30, rows).astype(np.int64)
    weights = np.linspace(1.0, 2.0, len(CATEGORIES))
    for j in range(categorical):
        w = weights[::-1] if (shift and j % 2 == 0) else weights
        codes = rng.choice(len(CATEGORIES), size=rows, p=w / w.sum()).astype(np.uint32)
        columns[f"cat_{j:02d}"] = pl.Series(CATEGORIES).gather(pl.Series(codes))
    return pl.DataFrame(columns)


CPU_SECONDS: dict[str, float] = {}
"""CPU time (all threads of this process) of each timed step, by label: unlike wall time it
does not grow when other jobs share the machine, so it shows what the code itself costs."""


def timed(fn: Callable[[], T], label: str | None = None) -> tuple[T, float]:
    """Run ``fn`` once; return its result and the wall time in seconds (CPU time by label)."""
    gc.collect()
    cpu, start = time.process_time(), time.perf_counter()
    out = fn()
    wall = time.perf_counter() - start
    if label:
        CPU_SECONDS[label] = round(time.process_time() - cpu, 2)
    return out, wall


def evidently_run(reference: pl.DataFrame, current: pl.DataFrame) -> dict[str, float]:
    """Evidently's DataDriftPreset, timed from polars frames (conversion included)."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    numeric = [c for c in current.columns if c.startswith("num_")]
    categorical = [c for c in current.columns if c.startswith("cat_")]
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
    snapshot = Report([DataDriftPreset()]).run(
        Dataset.from_pandas(current.to_pandas(), data_definition=definition),
        Dataset.from_pandas(reference.to_pandas(), data_definition=definition),
    )
    return {
        m["config"]["column"]: float(m["value"])
        for m in snapshot.dict()["metrics"]
        if m["config"]["type"].endswith("ValueDrift")
    }


def part_a(rows: int, cols: int) -> dict[str, Any]:
    """Ours versus Evidently on the same reference and current rows."""
    import evidently  # noqa: F401  (import time is not part of the comparison)

    n_cat = max(1, cols // 5)
    n_num = cols - n_cat
    reference = make_frame(min(rows, REFERENCE_ROWS), n_num, n_cat, seed=1, shift=0.0)
    current = make_frame(rows, n_num, n_cat, seed=2, shift=0.05)
    config = DriftConfig()
    numeric = [c for c in reference.columns if c.startswith("num_")]
    categorical = [c for c in reference.columns if c.startswith("cat_")]
    profile, t_profile = timed(lambda: build_profile(reference, numeric, categorical, config))
    ours, t_ours = timed(lambda: compute_drift(current, profile, config), "a_ours")
    theirs, t_evidently = timed(lambda: evidently_run(reference, current), "a_evidently")
    rel_diff = max(
        abs((c.statistic or 0.0) - theirs[c.column]) / max(abs(theirs[c.column]), 1e-12)
        for c in ours.columns
    )
    return {
        "rows": rows,
        "reference_rows": reference.height,
        "columns": cols,
        "profile_build_s": round(t_profile, 3),
        "ours_s": round(t_ours, 3),
        "evidently_s": round(t_evidently, 3),
        "speedup": round(t_evidently / t_ours, 1),
        "speedup_including_profile": round(t_evidently / (t_ours + t_profile), 1),
        "max_relative_difference": rel_diff,
        "methods": sorted({c.method for c in ours.columns}),
        "drifted_columns": len(ours.drifted_columns),
    }


def part_b(rows: int, cols: int, workdir: Path) -> dict[str, Any]:
    """10M x 50 against a stored profile, from Parquet and in memory."""
    n_cat = max(1, cols // 5)
    n_num = cols - n_cat
    config = DriftConfig()
    reference = make_frame(200_000, n_num, n_cat, seed=3, shift=0.0)
    numeric = [c for c in reference.columns if c.startswith("num_")]
    categorical = [c for c in reference.columns if c.startswith("cat_")]
    profile_path = workdir / "reference_profile.json"
    save_profile(build_profile(reference, numeric, categorical, config), profile_path)
    del reference

    parquet = workdir / "current.parquet"
    in_memory_gb, t_write = _write_current(parquet, rows, n_num, n_cat)

    profile, t_load = timed(lambda: load_profile(profile_path))
    from_parquet, t_parquet = timed(
        lambda: compute_drift(pl.scan_parquet(parquet), profile, config), "b_from_parquet"
    )
    frame, t_read = timed(lambda: pl.read_parquet(parquet), "b_read_parquet")
    in_memory, t_memory = timed(lambda: compute_drift(frame, profile, config), "b_in_memory")
    assert _same_verdicts(from_parquet, in_memory)
    return {
        "rows": rows,
        "columns": cols,
        "numeric_columns": n_num,
        "categorical_columns": n_cat,
        "in_memory_gb": round(in_memory_gb, 2),
        "parquet_gb": round(parquet.stat().st_size / 1e9, 2),
        "parquet_write_s": round(t_write, 2),
        "profile_bytes": profile_path.stat().st_size,
        "profile_load_s": round(t_load, 3),
        "drift_from_parquet_s": round(t_parquet, 2),
        "read_parquet_s": round(t_read, 2),
        "drift_in_memory_s": round(t_memory, 2),
        "rows_per_second_from_parquet": round(rows / t_parquet),
        "methods": sorted({c.method for c in in_memory.columns}),
        "drifted_columns": len(in_memory.drifted_columns),
    }


def _write_current(path: Path, rows: int, n_num: int, n_cat: int) -> tuple[float, float]:
    """Write the current data to Parquet (not timed as drift); return (GB in memory, seconds)."""
    current = make_frame(rows, n_num, n_cat, seed=4, shift=0.05)
    start = time.perf_counter()
    current.write_parquet(path, compression="lz4")
    return current.estimated_size("gb"), time.perf_counter() - start


def _same_verdicts(a: DriftResult, b: DriftResult) -> bool:
    return [(c.column, c.statistic, c.drifted) for c in a.columns] == [
        (c.column, c.statistic, c.drifted) for c in b.columns
    ]


def main(argv: list[str] | None = None) -> int:
    """Run both parts, print a table, write the JSON results; exit 1 if a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for CI (< 60 s)")
    parser.add_argument("--rows", type=int, help="rows of part (b) (default 10,000,000)")
    parser.add_argument("--cols", type=int, help="columns of part (b) (default 50)")
    parser.add_argument("--compare-rows", type=int, help="rows of part (a) (default 1,000,000)")
    parser.add_argument("--compare-cols", type=int, help="columns of part (a) (default 20)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="JSON results file")
    parser.add_argument("--workdir", type=Path, help="where the Parquet file goes (temp dir)")
    args = parser.parse_args(argv)
    quick = args.quick
    a_rows = args.compare_rows or (20_000 if quick else 1_000_000)
    a_cols = args.compare_cols or (10 if quick else 20)
    b_rows = args.rows or (300_000 if quick else 10_000_000)
    b_cols = args.cols or (10 if quick else 50)

    print(f"(a) ours vs Evidently on {a_rows:,} x {a_cols} ...", flush=True)
    a = part_a(a_rows, a_cols)
    a["load_average_1m_after"] = round(os.getloadavg()[0], 2)
    print(f"(b) ours on {b_rows:,} x {b_cols} against a stored profile ...", flush=True)
    with tempfile.TemporaryDirectory(dir=args.workdir, prefix="drift-bench-") as tmp:
        b = part_b(b_rows, b_cols, Path(tmp))
    b["load_average_1m_after"] = round(os.getloadavg()[0], 2)
    targets = {
        "speedup_vs_evidently_min": 30.0,
        "drift_10m_x_50_max_s": 30.0,
    }
    passed = {
        "speedup": a["speedup"] >= targets["speedup_vs_evidently_min"],
        "scale": quick or b["drift_from_parquet_s"] <= targets["drift_10m_x_50_max_s"],
        "agreement": a["max_relative_difference"] < 1e-9,
    }
    report = {
        "mode": "quick" if quick else "full",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "versions": {p: metadata.version(p) for p in ("polars", "numpy", "evidently")},
        },
        "a_vs_evidently": a,
        "b_scale": b,
        "cpu_seconds": CPU_SECONDS,
        "targets": targets,
        "passed": passed,
    }
    rows = [
        ("(a) rows x cols", f"{a['rows']:,} x {a['columns']} (reference {a['reference_rows']:,})"),
        (
            "(a) ours: compute_drift",
            f"{a['ours_s']:.2f} s (+ profile {a['profile_build_s']:.2f} s)",
        ),
        ("(a) Evidently DataDriftPreset", f"{a['evidently_s']:.2f} s"),
        ("(a) speedup", f"{a['speedup']}x ({a['speedup_including_profile']}x with profile)"),
        ("(a) max relative difference", f"{a['max_relative_difference']:.1e}"),
        ("(b) rows x cols", f"{b['rows']:,} x {b['columns']} ({b['in_memory_gb']} GB)"),
        ("(b) drift from Parquet (read+stats)", f"{b['drift_from_parquet_s']:.2f} s"),
        ("(b) read Parquet alone", f"{b['read_parquet_s']:.2f} s"),
        ("(b) drift in memory", f"{b['drift_in_memory_s']:.2f} s"),
        ("CPU seconds (all threads)", ", ".join(f"{k}={v}" for k, v in CPU_SECONDS.items())),
        ("(b) profile JSON load", f"{b['profile_load_s']:.3f} s ({b['profile_bytes']:,} B)"),
        (
            "load average (1 min) after a / b",
            f"{a['load_average_1m_after']} / {b['load_average_1m_after']} on {os.cpu_count()} CPUs",
        ),
        ("targets met", ", ".join(f"{k}={v}" for k, v in passed.items())),
    ]
    width = max(len(k) for k, _ in rows)
    print("\n".join(f"{k.ljust(width)}  {v}" for k, v in rows))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0 if all(passed.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
