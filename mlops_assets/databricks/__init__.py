"""Databricks through its REST API: auth, Pipes jobs, Model Serving, the Unity Catalog registry.

Core package: no Dagster import; databricks-sdk, dagster-databricks and MLflow are imported
inside the functions that use them (the code location must load fast).
"""
