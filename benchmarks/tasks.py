"""Every measured task by name: ``module:function``, imported only in the process that runs it."""

TASKS: dict[str, str] = {
    "prepare_landing": "benchmarks.data:prepare_landing",
    "copy_floor": "benchmarks.medallion_tasks:copy_floor",
    "dagster_medallion": "benchmarks.medallion_tasks:dagster_medallion",
    "pandas_medallion": "benchmarks.medallion_pandas:pandas_medallion",
    "spark_medallion": "benchmarks.medallion_spark:spark_medallion",
    "drift_prepare": "benchmarks.drift_tasks:prepare",
    "drift_ours": "benchmarks.drift_tasks:ours",
    "drift_evidently": "benchmarks.drift_tasks:evidently",
    "drift_parquet_read": "benchmarks.drift_tasks:parquet_read",
    "drift_from_parquet": "benchmarks.drift_tasks:from_parquet",
    "upsert_prepare": "benchmarks.upsert:prepare",
    "upsert_merge": "benchmarks.upsert:merge",
    "import_dagster": "benchmarks.load_tasks:import_dagster",
    "load_location": "benchmarks.load_tasks:load_location",
    "lifecycle": "benchmarks.lifecycle:lifecycle",
    "inference_ours": "benchmarks.inference:ours",
    "inference_bare": "benchmarks.inference:bare",
}
