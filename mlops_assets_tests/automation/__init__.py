"""Tests of mlops_assets.automation."""
