"""Tests of mlops_assets.config."""
