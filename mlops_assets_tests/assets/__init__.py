"""Tests of mlops_assets.assets."""
