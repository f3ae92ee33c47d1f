"""Tests of mlops_assets.cli."""
