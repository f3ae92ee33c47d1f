"""Tests of mlops_assets.transforms."""
