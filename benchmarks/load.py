"""Code-location load benchmark: ``import mlops_assets.definitions`` (and building the repository
Dagster serves) against a bare ``import dagster``, each in a fresh process (target: <= 1.5x).

This is paid at every ``dagster dev`` start, every sensor tick's subprocess and every run
worker; the heavy libraries (MLflow, scikit-learn, Evidently, SciPy, Spark) must stay out of it.
"""

import compileall
from typing import Any

from benchmarks.harness import compare, measure_pair, paired_ratio, ratio
from benchmarks.timing import REPO_ROOT


def compile_package() -> bool:
    """Write the package's bytecode first, as any deployed code location has it.

    Dagster's own modules are compiled at install (``uv sync --compile-bytecode``); ours are
    compiled by their first import, unless ``PYTHONDONTWRITEBYTECODE`` is set, in which case
    every measured load would also compile ~80 of our modules from source (~0.1 s of CPU)
    and the comparison with ``import dagster`` would not be like for like.
    """
    return bool(compileall.compile_dir(REPO_ROOT / "mlops_assets", quiet=1))


def run(*, quick: bool = False) -> dict[str, Any]:
    runs = 1 if quick else 9
    compiled = compile_package()
    ours, bare = measure_pair(
        ("import mlops_assets.definitions + repository", "load_location"),
        ("import dagster", "import_dagster"),
        runs=runs,
    )
    over = paired_ratio(ours, bare)
    heavy = ours.details.get("heavy_modules_loaded", [])
    comparison = compare(
        "code location load vs import dagster",
        ours,
        bare,
        target="<= 1.5x a bare `import dagster`",
        ratio=over,
        ratio_meaning="ours / import dagster (wall), median of the ratios of alternating runs",
        met=None if quick else over <= 1.5,
        notes=[
            f"CPU ratio {paired_ratio(ours, bare, cpu=True):.2f}x",
            f"ratio of the medians {ratio(ours.wall_s, bare.wall_s):.2f}x",
            f"{ours.details.get('assets')} assets, {ours.details.get('jobs')} jobs",
            f"heavy modules imported: {', '.join(heavy) or 'none'}",
            f"bytecode of mlops_assets compiled before measuring: {compiled}",
        ],
    )
    return {
        "figures": {"import_dagster": bare.model_dump(), "load_location": ours.model_dump()},
        "comparisons": [comparison.model_dump()],
    }
