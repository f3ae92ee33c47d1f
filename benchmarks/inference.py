"""Batch inference benchmark: the project's scoring path against a bare ``model.predict``
(target: <= 20% overhead at 1M rows).

The champion trained by the lifecycle benchmark scores ``rows`` feature rows (the lifecycle's
feature table resampled to size, written once as Parquet). Ours is ``score_batch``, what the
predictions asset runs: needed columns only, missing-value checks, the signature enforced,
one predict call, outputs typed per task with model name/version/alias and time. The bare
script loads the same model, casts the same columns to the signature's types, converts them to
pandas and calls ``predict``.
Both include loading the model.
"""

import os
from pathlib import Path
from typing import Any

from benchmarks.harness import compare, measure, ratio
from benchmarks.timing import bench_dir, timed


def _setup(rows: int) -> tuple[Any, Any, Any, Path]:
    """(model config, champion version, registered name, features Parquet) of the lifecycle
    benchmark's data root; the Parquet file is written on first use."""
    import polars as pl

    from mlops_assets.assets.ml.common import model_config, registered_name
    from mlops_assets.config.project import load_project, local_environment
    from mlops_assets.ml.registry import Registry
    from mlops_assets.ml.tracking import MlflowSettings
    from mlops_assets.storage.lakehouse import LocalLakehouse, TableRef

    data = bench_dir("lifecycle")
    os.environ["MLOPS_DATA_DIR"] = str(data)
    project = load_project()
    uc = project.use_case("churn")
    env = local_environment(project)
    settings = MlflowSettings(tracking_uri=env.tracking_uri, experiment_name="benchmarks")
    import mlflow

    mlflow.set_tracking_uri(settings.tracking_uri)
    mlflow.set_registry_uri(settings.effective_registry_uri)
    name = registered_name(uc)
    version = Registry(settings).require_champion(name, purpose="score with")
    path = bench_dir("inference") / f"features_{rows}.parquet"
    if not path.exists():
        table = TableRef(use_case="churn", layer="features", name=uc.feature_tables[0].name)
        features = LocalLakehouse(data).read_table(table).collect().to_native()
        features.sample(rows, with_replacement=True, seed=3).write_parquet(path)
    del pl
    return model_config(uc), version, name, path


def ours(rows: int) -> dict[str, Any]:
    import polars as pl

    from mlops_assets.ml.batch import score_batch

    config, version, _, path = _setup(rows)
    features = pl.read_parquet(path)
    out: dict[str, Any] = {}
    with timed(out):
        predictions = score_batch(features, version, config, alias="champion", what="benchmark")
    out["rows"] = predictions.height
    out["positive_rate"] = predictions["prediction"].cast(pl.Float64).mean()
    return out


def bare(rows: int) -> dict[str, Any]:
    import mlflow
    import polars as pl

    config, version, _, path = _setup(rows)
    features = pl.read_parquet(path)
    out: dict[str, Any] = {}
    with timed(out):
        model = mlflow.pyfunc.load_model(version.model_uri)
        inputs = features.select(  # the signature's types: numbers as doubles
            *[pl.col(c).cast(pl.Float64) for c in config.numeric_features],
            *[pl.col(c) for c in config.categorical_features],
        )
        raw = model.predict(inputs.to_pandas())
    out["rows"] = len(raw)
    return out


def run(rows: int, *, quick: bool = False) -> dict[str, Any]:
    bare_fig = measure(f"load + model.predict, {rows:,} rows", "inference_bare", {"rows": rows})
    ours_fig = measure(f"score_batch, {rows:,} rows", "inference_ours", {"rows": rows})
    overhead = ratio(ours_fig.wall_s, bare_fig.wall_s) - 1.0
    comparison = compare(
        f"batch inference {rows:,} rows vs bare model.predict",
        ours_fig,
        bare_fig,
        target="<= 20% overhead over load + model.predict",
        ratio=ratio(ours_fig.wall_s, bare_fig.wall_s),
        ratio_meaning="ours / bare (wall)",
        met=None if quick else overhead <= 0.20,
        notes=[
            f"overhead {overhead:+.0%} wall, CPU ratio {ratio(ours_fig.cpu_s, bare_fig.cpu_s):.2f}x"
        ],
    )
    return {
        "figures": {"bare": bare_fig.model_dump(), "ours": ours_fig.model_dump()},
        "comparisons": [comparison.model_dump()],
    }
