"""Tests of mlops_assets.storage."""
