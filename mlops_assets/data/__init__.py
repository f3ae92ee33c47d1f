"""Demo data shipped inside the package (see PROVENANCE.md for sources, licences and checksums).

- `wa_churn`: IBM Telco customer churn (modeldata `wa_churn`): binary classification.
- `ames`: Ames, Iowa house sales 2006-2010 (modeldata `ames`, De Cock 2011): regression.

Each table is read from a small Parquet file next to this module, so loading it needs no network
and takes a few milliseconds.
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


AMES_FILE: Final = "ames.parquet"
"""File name of the shipped Ames housing table inside the `mlops_assets.data` package."""

AMES_KEY: Final = "property_id"
"""Natural key: "P" + the source row number zero-padded to four digits ("P0001" .. "P2930")."""

AMES_TARGET: Final = "sale_price"
"""Label column: the sale price in US dollars (Int64)."""

SHIPPED_TABLES: Final[dict[str, str]] = {"wa_churn": WA_CHURN_FILE, "ames": AMES_FILE}
"""Every shipped table by name, with its file inside this package."""


@lru_cache(maxsize=len(SHIPPED_TABLES))
def _read(name: str) -> pl.DataFrame:
    file = SHIPPED_TABLES[name]
    try:
        payload = resources.files(__name__).joinpath(file).read_bytes()
    except OSError as exc:
        raise StorageError(
            f"the shipped {name} table could not be read",
            context={"package": __name__, "file": file, "error": str(exc)},
            fix=f"reinstall mlops-assets; the wheel must contain mlops_assets/data/{file}",
        ) from exc
    return pl.read_parquet(io.BytesIO(payload))


def load_shipped(name: str) -> pl.DataFrame:
    """Return the shipped table `name` (one of SHIPPED_TABLES) as an independent copy.

    Raises StorageError when the name is unknown or the file cannot be read.
    """
    if name not in SHIPPED_TABLES:
        raise StorageError(
            f"no shipped table named {name!r}",
            context={"known": sorted(SHIPPED_TABLES)},
            fix=f"use one of {sorted(SHIPPED_TABLES)}",
        )
    return _read(name).clone()


def load_wa_churn() -> pl.DataFrame:
    """Return the IBM Telco churn table: 7,043 rows, `customer_id` + `churn` + 19 features.

    Columns keep modeldata's snake_case names; `total_charges` has 11 nulls (customers with
    tenure 0), as in the source. The file is parsed once per process; each call returns a cheap
    copy, so callers may modify their frame freely.
    """
    return load_shipped("wa_churn")


def load_ames() -> pl.DataFrame:
    """Return the Ames housing sales: 2,930 rows, `property_id` + `sale_price` + 73 attributes.

    Column names are modeldata's names in snake_case (`Gr_Liv_Area` -> `gr_liv_area`); 31 Int64
    and 2 Float64 (`longitude`, `latitude`) attribute columns and 40 text ones. `mas_vnr_type` and
    `misc_feature` hold nulls as in the source. Each call returns an independent copy.
    """
    return load_shipped("ames")


__all__ = [
    "AMES_FILE",
    "AMES_KEY",
    "AMES_TARGET",
    "SHIPPED_TABLES",
    "WA_CHURN_BINARY_FEATURES",
    "WA_CHURN_CATEGORICAL_FEATURES",
    "WA_CHURN_FEATURES",
    "WA_CHURN_FILE",
    "WA_CHURN_KEY",
    "WA_CHURN_NUMERIC_FEATURES",
    "WA_CHURN_TARGET",
    "load_ames",
    "load_shipped",
    "load_wa_churn",
]
