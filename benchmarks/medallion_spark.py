"""Peer: local PySpark (classic, ``local[2]``) running the project's own transforms.

The same steps as the ingestion job, on Spark DataFrames through narwhals: read the day's CSV
files as text with lineage columns (bronze), ``refine`` (silver + quarantine + counts),
``build_gold`` for every gold table, ``compute_features``; every table is written as Parquet
(delta-spark's jars are not installable offline here, see STACK_NOTES) and read back by the next
step, as the lakehouse does. The session start is timed apart; CPU seconds add the JVM's.
"""

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.data import DAY, customer_files
from benchmarks.timing import bench_dir, process_cpu_seconds, timed


def spark_medallion(root: str, day: str = DAY, driver_memory: str = "6g") -> dict[str, Any]:
    """The medallion of one day on local PySpark with the project's transforms."""
    import narwhals as nw

    from mlops_assets.config.project import load_project
    from mlops_assets.engines.spark import get_spark, stop_spark
    from mlops_assets.transforms.features import compute_features
    from mlops_assets.transforms.gold import build_gold
    from mlops_assets.transforms.quality import count_failures, refine

    uc = load_project().use_case("churn")
    dataset = next(d for d in uc.datasets if d.name == "customers")
    work = bench_dir("spark")
    shutil.rmtree(work, ignore_errors=True)
    out: dict[str, Any] = {}
    with timed(out, "session_"):
        spark = get_spark("classic", conf={"spark.driver.memory": driver_memory})
    jvm = spark.sparkContext._gateway.proc.pid  # type: ignore[union-attr]
    jvm_before = process_cpu_seconds(jvm)
    from pyspark.sql import functions as F  # noqa: N812  (PySpark's own idiom)

    def parquet(name: str) -> Any:
        return spark.read.parquet(str(work / name))

    def save(frame: Any, name: str) -> None:
        native = frame.to_native() if isinstance(frame, nw.LazyFrame | nw.DataFrame) else frame
        native.write.mode("overwrite").parquet(str(work / name))

    start = datetime.fromisoformat(day).replace(tzinfo=UTC)
    with timed(out):
        raw = spark.read.option("header", True).csv([str(f) for f in customer_files(Path(root))])
        save(
            raw.withColumns(
                {
                    "_ingested_at": F.current_timestamp(),
                    "_source_file": F.input_file_name(),
                    "_row_number": F.monotonically_increasing_id() + 1,
                    "_batch_id": F.lit("bench"),
                    "_missing_fields": F.lit(0).cast("long"),
                }
            ),
            "bronze",
        )
        split = refine(nw.from_native(parquet("bronze")), dataset)
        save(split.silver, "silver")
        save(split.quarantine, "quarantine")
        counts = count_failures(split, dataset)
        inputs: dict[str, Any] = {"silver.customers": nw.from_native(parquet("silver"))}
        for table in uc.gold:
            save(build_gold(table, inputs), f"gold_{table.name}")
            inputs[f"gold.{table.name}"] = nw.from_native(parquet(f"gold_{table.name}"))
        features = uc.feature_tables[0]
        save(
            compute_features(
                inputs["silver.customers"], features, start=start, end=start + timedelta(days=1)
            ),
            "features",
        )
    out["jvm_cpu_s"] = process_cpu_seconds(jvm) - jvm_before
    out["driver_cpu_s"] = out["cpu_s"]
    out["cpu_s"] = out["driver_cpu_s"] + out["jvm_cpu_s"]
    out["rows"] = parquet("silver").count()
    out["failing_rows"] = {name: c.failing for name, c in counts.items()}
    stop_spark(spark)
    shutil.rmtree(work, ignore_errors=True)
    return out
