"""The ML tests' fixtures (a session SQLite MLflow store, the churn frame, per-test names)."""

from mlops_assets_tests.ml.conftest import (
    _no_leaked_runs,
    churn,
    model_name,
    settings,
    sqlite_store,
)

__all__ = ["_no_leaked_runs", "churn", "model_name", "settings", "sqlite_store"]
