"""Results on disk: one JSON file per benchmark and a Markdown summary of every comparison."""

import json
import os
import platform
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("polars", "narwhals", "deltalake", "dagster", "pandas", "pyspark", "evidently")


def machine() -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
    }


def write_result(out_dir: Path, name: str, mode: str, result: dict[str, Any]) -> Path:
    """``<out_dir>/<name>.json`` with the run's mode, time, machine and load average."""
    out_dir.mkdir(parents=True, exist_ok=True)
    document = {
        "benchmark": name,
        "mode": mode,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "machine": machine(),
        **result,
    }
    path = out_dir / f"{name}.json"
    path.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def _figure(summary: dict[str, Any] | None) -> str:
    if not summary:
        return "-"
    if "error" in summary:
        return f"failed: {summary['error']}"
    steal = summary.get("steal_pct")
    return (
        f"{summary['wall_s']:.2f} s wall / {summary['cpu_s']:.2f} s CPU, "
        f"{summary['peak_rss_gib']:.2f} GiB (load {summary['load_1m']:.1f}, "
        + ("" if steal is None else f"steal {steal:.0f}%, ")
        + f"{summary['runs']} run{'s' if summary['runs'] > 1 else ''})"
    )


def _met(value: bool | None) -> str:
    return {True: "**met**", False: "**not met**", None: "not judged"}[value]


def summary_markdown(out_dir: Path) -> str:
    """Every comparison of every ``*.json`` in ``out_dir`` as one Markdown table."""
    rows = []
    for path in sorted(out_dir.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        for c in document.get("comparisons", []):
            ratio = "-" if c["ratio"] is None else f"{c['ratio']:.2f}x ({c['ratio_meaning']})"
            rows.append(
                f"| {c['name']} | {_figure(c['ours'])} | {_figure(c['peer'])} | {ratio} | "
                f"{c['target']} | {_met(c['met'])} | {'; '.join(c['notes'])} |"
            )
    header = [
        "| benchmark | ours | peer / floor | ratio | target | result | notes |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    return "\n".join(header + rows) + "\n"


def write_summary(out_dir: Path, mode: str) -> Path:
    path = out_dir / "summary.md"
    text = (
        f"# Benchmark results ({mode})\n\n"
        f"Written {datetime.now(UTC).isoformat(timespec='seconds')} on "
        f"{os.cpu_count()} CPUs; wall and CPU seconds are medians of >= 3 runs for figures "
        "under 10 s; CPU seconds count every thread (and a Spark peer's JVM).\n\n"
        + summary_markdown(out_dir)
    )
    path.write_text(text, encoding="utf-8")
    return path
