"""Measured tasks of the drift benchmark (each runs in its own process).

Synthetic features: normal, lognormal and Poisson numeric columns and 12-level string
categoricals, a small shift on a third of the columns. Inputs are written once as Parquet (and
the reference profile as JSON) by :func:`prepare`; every timed task reads them itself.
"""

from pathlib import Path
from typing import Any

from benchmarks.timing import bench_dir, timed

CATEGORIES = [f"segment_{i:02d}" for i in range(12)]
REFERENCE_ROWS = 20_000  # = DriftConfig.reference_sample_size: ours sees Evidently's reference
PROFILE_ROWS = 200_000  # the training frame the stored profile of the scale part is built from


def make_frame(rows: int, numeric: int, categorical: int, seed: int, shift: float) -> Any:
    """Synthetic features; ``shift`` moves every third numeric column and re-weights every other
    categorical one."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    columns: dict[str, Any] = {}
    for i in range(numeric):
        delta = shift if i % 3 == 0 else 0.0
        if i % 3 == 0:
            columns[f"num_{i:02d}"] = rng.normal(delta, 1.0, rows)
        elif i % 3 == 1:
            columns[f"num_{i:02d}"] = rng.lognormal(0.0, 0.5, rows)
        else:
            columns[f"num_{i:02d}"] = rng.poisson(30, rows).astype(np.int64)
    weights = np.linspace(1.0, 2.0, len(CATEGORIES))
    for j in range(categorical):
        w = weights[::-1] if (shift and j % 2 == 0) else weights
        codes = rng.choice(len(CATEGORIES), size=rows, p=w / w.sum()).astype(np.uint32)
        columns[f"cat_{j:02d}"] = pl.Series(CATEGORIES).gather(pl.Series(codes))
    return pl.DataFrame(columns)


def _split(columns: int) -> tuple[int, int]:
    categorical = max(1, columns // 5)
    return columns - categorical, categorical


def prepare(rows: int, columns: int, kind: str) -> dict[str, Any]:
    """Write the inputs of one part once: ``compare`` (reference + current Parquet for ours vs
    Evidently) or ``scale`` (current Parquet + a stored profile JSON)."""
    from mlops_assets.config.monitoring import DriftConfig
    from mlops_assets.monitoring.profile import build_profile, save_profile

    folder = bench_dir("drift", f"{kind}_{rows}x{columns}")
    current = folder / "current.parquet"
    numeric, categorical = _split(columns)
    if not current.exists():
        reference_rows = REFERENCE_ROWS if kind == "compare" else PROFILE_ROWS
        reference = make_frame(reference_rows, numeric, categorical, seed=1, shift=0.0)
        reference.write_parquet(folder / "reference.parquet")
        names = reference.columns
        profile = build_profile(
            reference,
            [c for c in names if c[0] == "n"],
            [c for c in names if c[0] == "c"],
            DriftConfig(),
        )
        save_profile(profile, folder / "profile.json")
        del reference
        frame = make_frame(rows, numeric, categorical, seed=2, shift=0.05)
        frame.write_parquet(folder / "current.tmp", compression="lz4")
        (folder / "current.tmp").rename(current)
    return {
        "folder": str(folder),
        "parquet_gb": round(current.stat().st_size / 1e9, 3),
        "numeric": numeric,
        "categorical": categorical,
    }


def ours(folder: str) -> dict[str, Any]:
    """compute_drift on the in-memory current frame; the profile is built first (timed apart)."""
    import polars as pl

    from mlops_assets.config.monitoring import DriftConfig
    from mlops_assets.monitoring.profile import build_profile
    from mlops_assets.monitoring.statistics import compute_drift

    reference = pl.read_parquet(Path(folder) / "reference.parquet")
    current = pl.read_parquet(Path(folder) / "current.parquet")
    names = reference.columns
    out: dict[str, Any] = {}
    config = DriftConfig()
    with timed(out, "profile_"):
        profile = build_profile(
            reference, [c for c in names if c[0] == "n"], [c for c in names if c[0] == "c"], config
        )
    with timed(out):
        result = compute_drift(current, profile, config)
    out["columns"] = {c.column: [c.statistic, c.drifted, c.method] for c in result.columns}
    return out


def evidently(folder: str) -> dict[str, Any]:
    """Evidently 0.7.23's DataDriftPreset on the same frames (its import is not timed)."""
    import polars as pl
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    reference = pl.read_parquet(Path(folder) / "reference.parquet")
    current = pl.read_parquet(Path(folder) / "current.parquet")
    names = current.columns
    definition = DataDefinition(
        numerical_columns=[c for c in names if c[0] == "n"],
        categorical_columns=[c for c in names if c[0] == "c"],
    )
    out: dict[str, Any] = {}
    with timed(out):
        snapshot = Report([DataDriftPreset()]).run(
            Dataset.from_pandas(current.to_pandas(), data_definition=definition),
            Dataset.from_pandas(reference.to_pandas(), data_definition=definition),
        )
    columns = {}
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if config["type"].endswith("ValueDrift"):
            value, threshold = float(metric["value"]), float(config["threshold"])
            p_value = "p_value" in config["method"].lower()
            drifted = value < threshold if p_value else value >= threshold
            columns[config["column"]] = [value, drifted, config["method"]]
    out["columns"] = columns
    return out


def parquet_read(folder: str) -> dict[str, Any]:
    """The floor of the scale part: read the current Parquet file into memory."""
    import polars as pl

    out: dict[str, Any] = {}
    with timed(out):
        frame = pl.read_parquet(Path(folder) / "current.parquet")
    out["in_memory_gb"] = round(frame.estimated_size("gb"), 2)
    return out


def from_parquet(folder: str) -> dict[str, Any]:
    """compute_drift straight from the Parquet file against the stored profile, given the file
    as the local lakehouse hands out a partition's files to the drift asset (``ParquetFiles``:
    scanned lazily, string columns counted from their dictionaries)."""
    # The engine is imported outside the timed region, as the read's is.
    import polars as pl  # noqa: F401

    from mlops_assets.config.monitoring import DriftConfig
    from mlops_assets.monitoring.native import grid_kernel
    from mlops_assets.monitoring.profile import load_profile
    from mlops_assets.monitoring.statistics import compute_drift
    from mlops_assets.storage.parquet_files import ParquetFiles

    out: dict[str, Any] = {}
    with timed(out, "profile_load_"):
        profile = load_profile(Path(folder) / "profile.json")
    with timed(out):
        files = ParquetFiles(files=(str(Path(folder) / "current.parquet"),))
        result = compute_drift(files, profile, DriftConfig())
    out["drifted_columns"] = len(result.drifted_columns)
    out["methods"] = sorted({c.method for c in result.columns})
    out["profile_bytes"] = (Path(folder) / "profile.json").stat().st_size
    # Whether the timed run's grid passes used the compiled kernel (asked without building it)
    out["compiled_kernel"] = grid_kernel.cache_info().currsize > 0 and grid_kernel() is not None
    return out
