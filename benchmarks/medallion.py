"""Medallion benchmark: the ingestion job against the copy floor, pandas and local PySpark.

Targets (2-core machine): bronze -> silver -> gold -> features of one day within 3x the copy
floor (read the landing files, write one Delta table) with peak RSS <= 8 GiB at 10M rows/day;
>= 5x faster than a straightforward pandas script and >= 3x faster than local PySpark running
the project's own transforms. The peers run at ``peer_rows`` (default 1M: a pandas script at
10M rows needs ~20 GB of Python strings on this shared machine) and every ratio compares figures
of the same run at the same size.
"""

from typing import Any

from benchmarks.harness import BenchError, Comparison, Figure, compare, measure, ratio, run_task


def run(rows: int, peer_rows: int, *, spark: bool = True, quick: bool = False) -> dict[str, Any]:
    """Measure everything; returns the JSON-ready result (figures and comparisons).

    ``spark=False`` leaves the local-PySpark peer out (the quick run: its JVM start alone is
    longer than the whole quick suite).
    """
    sizes = sorted({rows, peer_rows})
    roots = {n: run_task("prepare_landing", {"rows": n}).details for n in sizes}
    figures: dict[str, Figure] = {}
    comparisons: list[Comparison] = []
    for n in sizes:
        args = {"root": roots[n]["root"]}
        floor = measure(f"copy floor, {n:,} rows", "copy_floor", args)
        figures[f"floor_{n}"] = floor
        try:
            ours = measure(
                f"ingestion job (Dagster, in process), {n:,} rows", "dagster_medallion", args
            )
        except BenchError as exc:  # e.g. killed by the memory guard: a result, not a crash
            comparisons.append(_failed(n, floor, str(exc)))
            continue
        figures[f"ours_{n}"] = ours
        load = ours.details.get("load_wall_s", 0.0)
        comparisons.append(
            compare(
                f"medallion {n:,} rows/day vs copy floor",
                ours,
                floor,
                target="<= 3x the copy floor" + (", peak RSS <= 8 GiB" if n >= 10**7 else ""),
                ratio=ratio(ours.wall_s, floor.wall_s),
                ratio_meaning="ours / floor (wall)",
                met=None if quick else _floor_met(ours, floor, n),
                notes=[
                    f"CPU ratio {ratio(ours.cpu_s, floor.cpu_s):.2f}x",
                    f"code location load {load:.2f} s (not in the job time)",
                    "per step (s): " + _steps(ours.details.get("steps", {})),
                ],
            )
        )
        if n != peer_rows:
            continue
        pandas = measure(f"pandas script, {n:,} rows", "pandas_medallion", args)
        figures[f"pandas_{n}"] = pandas
        comparisons.append(
            compare(
                f"medallion {n:,} rows/day vs pandas",
                ours,
                pandas,
                target=">= 5x faster than a straightforward pandas script",
                ratio=ratio(pandas.wall_s, ours.wall_s),
                ratio_meaning="pandas / ours (wall)",
                met=None if quick else ratio(pandas.wall_s, ours.wall_s) >= 5,
                notes=[f"CPU ratio {ratio(pandas.cpu_s, ours.cpu_s):.2f}x"],
            )
        )
        if not spark:
            continue
        pyspark = measure(f"local PySpark, project transforms, {n:,} rows", "spark_medallion", args)
        figures[f"spark_{n}"] = pyspark
        comparisons.append(
            compare(
                f"medallion {n:,} rows/day vs local PySpark",
                ours,
                pyspark,
                target=">= 3x faster than local PySpark on the project's transforms",
                ratio=ratio(pyspark.wall_s, ours.wall_s),
                ratio_meaning="spark / ours (wall)",
                met=None if quick else ratio(pyspark.wall_s, ours.wall_s) >= 3,
                notes=[
                    f"CPU ratio (JVM included) {ratio(pyspark.cpu_s, ours.cpu_s):.2f}x",
                    f"session start {pyspark.details.get('session_wall_s', 0):.1f} s not counted",
                ],
            )
        )
    return {
        "rows": rows,
        "peer_rows": peer_rows,
        "inputs": roots,
        "figures": {k: f.model_dump() for k, f in figures.items()},
        "comparisons": [c.model_dump() for c in comparisons],
    }


def _failed(rows: int, floor: Figure, error: str) -> Comparison:
    return Comparison(
        name=f"medallion {rows:,} rows/day vs copy floor",
        ours={"label": "ingestion job (Dagster, in process)", "error": error.splitlines()[0]},
        peer=floor.summary(),
        ratio=None,
        ratio_meaning="ours / floor (wall)",
        target="<= 3x the copy floor, peak RSS <= 8 GiB",
        met=False,
        notes=[f"the job did not finish: {error.splitlines()[0]}"],
    )


def _floor_met(ours: Figure, floor: Figure, rows: int) -> bool:
    within = ours.wall_s <= 3 * floor.wall_s
    return within and (rows < 10**7 or ours.peak_rss_gib <= 8.0)


def _steps(steps: dict[str, float]) -> str:
    return ", ".join(
        f"{k.split('__')[-1].removeprefix('churn_')}={v:.2f}" for k, v in steps.items()
    )
