"""Monitoring core: reference profiles, drift statistics, performance, retraining policy, alerts.

Plain Python (no Dagster). Evidently, scipy, scikit-learn and slack_sdk are imported inside the
functions that need them, so importing this package stays fast.
"""
