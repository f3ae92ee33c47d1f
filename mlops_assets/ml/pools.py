"""Dagster concurrency pools of the model lifecycle (names only: imported at load)."""

PROMOTION_POOL = "mlops_promotion"
"""The pool of the champion asset: one promotion at a time across runs and machines, at a limit
of 1 (the local instance sets it; other deployments must, see ``docs/databricks.md``)."""
