"""Gold tables (aggregate, latest-per-key, join) against an independent pandas computation."""

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import narwhals as nw
import numpy as np
import pandas as pd
import polars as pl
import pytest
from pydantic import TypeAdapter

from mlops_assets.config.tables import GoldTable
from mlops_assets.transforms.gold import build_gold

GOLD = TypeAdapter(GoldTable)


@pytest.fixture(scope="module")
def customers() -> pl.DataFrame:
    rng = np.random.default_rng(3)
    n = 60
    start = datetime(2026, 1, 1, tzinfo=UTC)
    charges = rng.uniform(20, 120, n).round(2)
    charges[[4, 17]] = np.nan  # nulls must be skipped by aggregates, as in SQL
    return pl.DataFrame(
        {
            "customer_id": [f"C{int(i):05d}" for i in rng.integers(0, 15, n)],
            "event_ts": [start + timedelta(minutes=int(m)) for m in rng.permutation(n) * 7],
            "contract": rng.choice(["Month-to-month", "One year", "Two year"], n).tolist(),
            "monthly_charges": pl.Series(charges).fill_nan(None),
            "tenure": rng.integers(0, 72, n),
        }
    )


def _run(table: dict[str, Any], inputs: dict[str, pl.DataFrame]) -> pl.DataFrame:
    frames = {ref: nw.from_native(df).lazy() for ref, df in inputs.items()}
    out: pl.DataFrame = build_gold(GOLD.validate_python(table), frames).collect().to_native()
    return out


def test_aggregate_matches_pandas(customers: pl.DataFrame) -> None:
    table = {
        "type": "aggregate",
        "name": "kpis",
        "source": "silver.customers",
        "group_by": ["contract"],
        "aggregations": [
            {"name": "customers", "agg": "n_unique", "column": "customer_id"},
            {"name": "observations", "agg": "count"},
            {"name": "charged", "agg": "count", "column": "monthly_charges"},
            {"name": "total", "agg": "sum", "column": "monthly_charges"},
            {"name": "avg", "agg": "mean", "column": "monthly_charges"},
            {"name": "lo", "agg": "min", "column": "tenure"},
            {"name": "hi", "agg": "max", "column": "tenure"},
            {"name": "sd", "agg": "std", "column": "monthly_charges"},
            {"name": "med", "agg": "median", "column": "tenure"},
        ],
    }
    got = _run(table, {"silver.customers": customers}).sort("contract")
    pdf = customers.to_pandas()
    grouped = pdf.groupby("contract")
    expected = pd.DataFrame(
        {
            "customers": grouped["customer_id"].nunique(),
            "observations": grouped.size(),
            "charged": grouped["monthly_charges"].count(),
            "total": grouped["monthly_charges"].sum(),
            "avg": grouped["monthly_charges"].mean(),
            "lo": grouped["tenure"].min(),
            "hi": grouped["tenure"].max(),
            "sd": grouped["monthly_charges"].std(),  # sample std (ddof=1), as SQL's stddev
            "med": grouped["tenure"].median(),
        }
    ).sort_index()
    assert got["contract"].to_list() == expected.index.tolist()
    for column in expected.columns:
        assert got[column].to_list() == pytest.approx(expected[column].tolist()), column


def test_derive_and_filter_run_before_the_aggregate(customers: pl.DataFrame) -> None:
    table = {
        "type": "aggregate",
        "name": "yearly",
        "source": "silver.customers",
        "derive": [{"name": "yearly_charges", "expr": "monthly_charges * 12"}],
        "filter": "tenure >= 12 and contract != 'Two year'",
        "group_by": ["contract"],
        "aggregations": [{"name": "yearly_total", "agg": "sum", "column": "yearly_charges"}],
    }
    got = _run(table, {"silver.customers": customers}).sort("contract")
    pdf = customers.to_pandas()
    kept = pdf[(pdf["tenure"] >= 12) & (pdf["contract"] != "Two year")]
    expected = (kept["monthly_charges"] * 12).groupby(kept["contract"]).sum().sort_index()
    assert got["contract"].to_list() == expected.index.tolist()
    assert got["yearly_total"].to_list() == pytest.approx(expected.tolist())


def test_filter_treats_null_as_false(customers: pl.DataFrame) -> None:
    table = {
        "type": "aggregate",
        "name": "pricey",
        "source": "silver.customers",
        "filter": "monthly_charges > 100",
        "group_by": ["contract"],
        "aggregations": [{"name": "n", "agg": "count"}],
    }
    got = _run(table, {"silver.customers": customers})
    pdf = customers.to_pandas()
    assert int(got["n"].sum()) == int((pdf["monthly_charges"] > 100).sum())


def test_latest_per_key_matches_pandas(customers: pl.DataFrame) -> None:
    table = {
        "type": "latest",
        "name": "customer_latest",
        "source": "silver.customers",
        "keys": ["customer_id"],
        "order_by": ["event_ts"],
    }
    got = _run(table, {"silver.customers": customers}).sort("customer_id")
    pdf = customers.to_pandas()
    expected = pdf.sort_values("event_ts").groupby("customer_id").tail(1).sort_values("customer_id")
    assert got["customer_id"].to_list() == expected["customer_id"].tolist()
    assert got["event_ts"].to_list() == [t.to_pydatetime() for t in expected["event_ts"]]
    assert got["tenure"].to_list() == expected["tenure"].tolist()
    assert got.columns == customers.columns


@pytest.mark.parametrize("how", ["inner", "left"])
def test_join_matches_pandas_and_suffixes_clashing_columns(
    customers: pl.DataFrame, how: Literal["inner", "left"]
) -> None:
    kpis = pl.DataFrame(
        {
            "contract": ["Month-to-month", "One year"],  # no "Two year": left keeps, inner drops
            "monthly_charges": [70.0, 60.0],  # clashes with the left table's column
            "share": [0.5, 0.3],
        }
    )
    table = {
        "type": "join",
        "name": "bench",
        "left": "silver.customers",
        "right": "gold.kpis",
        "on": ["contract"],
        "how": how,
        "derive": [{"name": "ratio", "expr": "monthly_charges / monthly_charges_right"}],
        "select": ["customer_id", "event_ts", "contract", "monthly_charges_right", "ratio"],
    }
    got = _run(table, {"silver.customers": customers, "gold.kpis": kpis})
    assert got.columns == table["select"]
    merged = customers.to_pandas().merge(
        kpis.to_pandas(), on="contract", how=how, suffixes=("", "_right")
    )
    merged["ratio"] = merged["monthly_charges"] / merged["monthly_charges_right"]
    assert got.height == len(merged)
    got_sorted = got.sort("customer_id", "event_ts")
    exp_sorted = merged.sort_values(["customer_id", "event_ts"])
    assert got_sorted["monthly_charges_right"].to_list() == pytest.approx(
        [None if pd.isna(v) else v for v in exp_sorted["monthly_charges_right"]], nan_ok=True
    )
    expected_ratio = [None if pd.isna(v) else float(v) for v in exp_sorted["ratio"]]
    got_ratio = got_sorted["ratio"].to_list()
    assert [v is None for v in got_ratio] == [v is None for v in expected_ratio]
    assert [v for v in got_ratio if v is not None] == pytest.approx(
        [v for v in expected_ratio if v is not None]
    )
