"""Code-location load benchmark: ``import mlops_assets.definitions`` (and building the repository
Dagster serves) against a bare ``import dagster``, each in a fresh process (target: <= 1.5x).

This is paid at every ``dagster dev`` start, every sensor tick's subprocess and every run
worker; the heavy libraries (MLflow, scikit-learn, Evidently, SciPy, Spark) must stay out of it.
"""

import compileall
import sys
from typing import Any

from benchmarks.harness import compare, measure, ratio
from benchmarks.timing import REPO_ROOT, timed

HEAVY = ("mlflow", "sklearn", "evidently", "scipy", "pyspark", "pandas")


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


def compile_package() -> bool:
    """Write the package's bytecode first, as any deployed code location has it.

    Dagster's own modules are compiled at install (``uv sync --compile-bytecode``); ours are
    compiled by their first import, unless ``PYTHONDONTWRITEBYTECODE`` is set, in which case
    every measured load would also compile ~80 of our modules from source (~0.1 s of CPU)
    and the comparison with ``import dagster`` would not be like for like.
    """
    return bool(compileall.compile_dir(REPO_ROOT / "mlops_assets", quiet=1))


def run(*, quick: bool = False) -> dict[str, Any]:
    runs = 1 if quick else 5
    compiled = compile_package()
    bare = measure("import dagster", "import_dagster", runs=runs)
    ours = measure("import mlops_assets.definitions + repository", "load_location", runs=runs)
    over = ratio(ours.wall_s, bare.wall_s)
    heavy = ours.details.get("heavy_modules_loaded", [])
    comparison = compare(
        "code location load vs import dagster",
        ours,
        bare,
        target="<= 1.5x a bare `import dagster`",
        ratio=over,
        ratio_meaning="ours / import dagster (wall)",
        met=None if quick else over <= 1.5,
        notes=[
            f"CPU ratio {ratio(ours.cpu_s, bare.cpu_s):.2f}x",
            f"{ours.details.get('assets')} assets, {ours.details.get('jobs')} jobs",
            f"heavy modules imported: {', '.join(heavy) or 'none'}",
            f"bytecode of mlops_assets compiled before measuring: {compiled}",
        ],
    )
    return {
        "figures": {"import_dagster": bare.model_dump(), "load_location": ours.model_dump()},
        "comparisons": [comparison.model_dump()],
    }
