"""Fixtures of the simulator tests."""

import polars as pl
import pytest

from mlops_assets.data import load_wa_churn


@pytest.fixture(scope="session")
def base() -> pl.DataFrame:
    """The shipped wa_churn table."""
    return load_wa_churn()
