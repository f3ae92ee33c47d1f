"""Engine-agnostic transforms written once against narwhals (Polars locally, Spark on Databricks).

Nothing here imports an engine: functions take and return ``narwhals.LazyFrame``.
"""
