"""The two measured processes of the load benchmark: a bare ``import dagster``, the code location.

Only the standard library is imported before the timed region (the harness, with Pydantic, lives
in :mod:`benchmarks.load`), so both sides pay every import a fresh ``dagster`` process pays.
"""

import sys
from typing import Any

from benchmarks.timing import timed

HEAVY = (
    "mlflow",
    "sklearn",
    "evidently",
    "scipy",
    "pyspark",
    "pandas",
    "polars",
    "numpy",
    "narwhals",
)


def import_dagster() -> dict[str, Any]:
    out: dict[str, Any] = {}
    with timed(out):
        import dagster  # noqa: F401
    return out


def load_location() -> dict[str, Any]:
    out: dict[str, Any] = {}
    with timed(out):
        from mlops_assets.definitions import defs

        repository = defs.get_repository_def()
    out["assets"] = len(list(repository.asset_graph.get_all_asset_keys()))
    out["jobs"] = len(repository.get_all_jobs())
    out["heavy_modules_loaded"] = [m for m in HEAVY if m in sys.modules]
    return out
