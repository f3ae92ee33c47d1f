"""Delta upsert benchmark: 10k rows MERGEd into a 1M-row table with delta-rs (target: <= 2 s,
peak RSS <= 1 GiB).

The table is keyed by (customer_id, event_ts) like the feature table; half of the merged rows
update existing keys, half are new. Each run merges into a fresh copy of the prepared table
(the copy is not timed). The local lakehouse has no merge of its own yet (Unity Catalog's uses
``MERGE INTO``), so this measures the delta-rs MERGE it would call.
"""

import shutil
from pathlib import Path
from typing import Any

from benchmarks.harness import compare, measure, run_task
from benchmarks.timing import bench_dir, timed


def _frame(rows: int, offset: int, seed: int) -> Any:
    from datetime import UTC, datetime, timedelta

    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    ids = np.arange(offset, offset + rows)
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=offset)  # row i: start + i s
    return pl.DataFrame(
        {
            "customer_id": [f"C{i:08d}" for i in ids],
            "event_ts": pl.datetime_range(
                start, start + timedelta(seconds=rows - 1), "1s", eager=True, time_zone="UTC"
            ),
            "tenure": rng.integers(0, 72, rows),
            "monthly_charges": rng.uniform(20, 120, rows).round(2),
            "total_charges": rng.uniform(0, 8000, rows).round(2),
            "contract": rng.choice(["Month-to-month", "One year", "Two year"], rows),
            "score": rng.random(rows),
        }
    )


def prepare(rows: int) -> dict[str, Any]:
    from deltalake import write_deltalake

    table = bench_dir("upsert", f"table_{rows}")
    if not (table / "_delta_log").exists():
        write_deltalake(str(table), _frame(rows, 0, seed=1).to_arrow())
    return {"table": str(table)}


def merge(table: str, rows: int, merged: int) -> dict[str, Any]:
    """MERGE ``merged`` rows (half updates, half inserts) into a copy of the prepared table."""
    import polars as pl
    from deltalake import DeltaTable

    work = bench_dir("upsert", "run") / "table"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(table, work)
    updates = _frame(merged // 2, rows - merged // 2, seed=2)  # the last keys of the table
    inserts = _frame(merged - merged // 2, rows, seed=3)  # new keys after them
    source = pl.concat([updates, inserts]).to_arrow()
    out: dict[str, Any] = {}
    with timed(out):
        metrics = (
            DeltaTable(str(work))
            .merge(
                source=source,
                predicate="t.customer_id = s.customer_id AND t.event_ts = s.event_ts",
                source_alias="s",
                target_alias="t",
            )
            .when_matched_update_all()
            .when_not_matched_insert_all()
            .execute()
        )
    out["updated"] = metrics.get("num_target_rows_updated")
    out["inserted"] = metrics.get("num_target_rows_inserted")
    out["rows_after"] = int(pl.scan_delta(str(work)).select(pl.len()).collect().item())
    shutil.rmtree(Path(work).parent, ignore_errors=True)
    return out


def run(rows: int, merged: int, *, quick: bool = False) -> dict[str, Any]:
    table = run_task("upsert_prepare", {"rows": rows}).details["table"]
    figure = measure(
        f"delta-rs MERGE {merged:,} rows into {rows:,}",
        "upsert_merge",
        {"table": table, "rows": rows, "merged": merged},
    )
    comparison = compare(
        f"Delta upsert {merged:,} into {rows:,}",
        figure,
        None,
        target="<= 2 s, peak RSS <= 1 GiB",
        ratio=figure.wall_s / 2.0,
        ratio_meaning="ours / 2 s target (wall)",
        met=None if quick else figure.wall_s <= 2.0 and figure.peak_rss_gib <= 1.0,
        notes=[
            f"updated {figure.details.get('updated')}, inserted {figure.details.get('inserted')}",
            f"CPU {figure.cpu_s:.2f} s",
        ],
    )
    return {"figures": {"merge": figure.model_dump()}, "comparisons": [comparison.model_dump()]}
