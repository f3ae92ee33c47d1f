"""Demo data shipped inside the package: the IBM Telco customer churn table (modeldata `wa_churn`).

The table is read from a small Parquet file next to this module (see PROVENANCE.md), so loading
it needs no network and takes a few milliseconds.
"""

import io
from functools import lru_cache
from importlib import resources
from typing import Final

import polars as pl

from mlops_assets.errors import StorageError

WA_CHURN_FILE: Final = "wa_churn.parquet"
"""File name of the shipped table inside the `mlops_assets.data` package."""

WA_CHURN_KEY: Final = "customer_id"
"""Natural key: "C" + the source row number zero-padded to five digits ("C00001" .. "C07043")."""

WA_CHURN_TARGET: Final = "churn"
"""Label column: "Yes" when the customer left, "No" otherwise."""

WA_CHURN_BINARY_FEATURES: Final[tuple[str, ...]] = (
    "female",
    "senior_citizen",
    "partner",
    "dependents",
    "phone_service",
    "paperless_billing",
)
"""Integer 0/1 indicator columns."""

WA_CHURN_NUMERIC_FEATURES: Final[tuple[str, ...]] = ("tenure", "monthly_charges", "total_charges")
"""Continuous or count columns: tenure in months (Int64), charges in dollars (Float64)."""

WA_CHURN_CATEGORICAL_FEATURES: Final[tuple[str, ...]] = (
    "multiple_lines",
    "internet_service",
    "online_security",
    "online_backup",
    "device_protection",
    "tech_support",
    "streaming_tv",
    "streaming_movies",
    "contract",
    "payment_method",
)
"""Text category columns."""

WA_CHURN_FEATURES: Final[tuple[str, ...]] = (
    "female",
    "senior_citizen",
    "partner",
    "dependents",
    "tenure",
    "phone_service",
    "multiple_lines",
    "internet_service",
    "online_security",
    "online_backup",
    "device_protection",
    "tech_support",
    "streaming_tv",
    "streaming_movies",
    "contract",
    "paperless_billing",
    "payment_method",
    "monthly_charges",
    "total_charges",
)
"""The 19 feature columns, in source order (everything except the key and `churn`)."""


@lru_cache(maxsize=1)
def _read_wa_churn() -> pl.DataFrame:
    try:
        payload = resources.files(__name__).joinpath(WA_CHURN_FILE).read_bytes()
    except OSError as exc:
        raise StorageError(
            "the shipped wa_churn table could not be read",
            context={"package": __name__, "file": WA_CHURN_FILE, "error": str(exc)},
            fix="reinstall mlops-assets; the wheel must contain mlops_assets/data/wa_churn.parquet",
        ) from exc
    return pl.read_parquet(io.BytesIO(payload))


def load_wa_churn() -> pl.DataFrame:
    """Return the IBM Telco churn table: 7,043 rows, `customer_id` + `churn` + 19 features.

    Columns keep modeldata's snake_case names; `total_charges` has 11 nulls (customers with
    tenure 0), as in the source. The file is parsed once per process; each call returns a cheap
    copy, so callers may modify their frame freely.
    """
    return _read_wa_churn().clone()


__all__ = [
    "WA_CHURN_BINARY_FEATURES",
    "WA_CHURN_CATEGORICAL_FEATURES",
    "WA_CHURN_FEATURES",
    "WA_CHURN_FILE",
    "WA_CHURN_KEY",
    "WA_CHURN_NUMERIC_FEATURES",
    "WA_CHURN_TARGET",
    "load_wa_churn",
]
