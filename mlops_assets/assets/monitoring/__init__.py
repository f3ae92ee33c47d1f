"""Monitoring assets: data and prediction drift, model performance once labels arrive."""
