"""Typed Dagster resources and IO managers."""
