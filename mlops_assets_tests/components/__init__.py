"""Tests of mlops_assets.components."""
