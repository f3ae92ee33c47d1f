"""Row rules, quarantine, deduplication and table rules on bronze batches."""

from datetime import datetime, timedelta
from typing import Any

import narwhals as nw
import numpy as np
import polars as pl
import pytest

from mlops_assets.config.datasets import DatasetConfig
from mlops_assets.transforms.quality import (
    DUPLICATE_RULE,
    REASON,
    RULE,
    SilverSplit,
    count_failures,
    refine,
    table_rule_results,
)
from mlops_assets.transforms.schema_contract import CAST_ERROR_RULE
from mlops_assets_tests.transforms.transforms_helpers import bronze

COLUMNS = [
    {"name": "id", "dtype": "string"},
    {"name": "ts", "dtype": "datetime", "nullable": False},
    {"name": "amount", "dtype": "float64"},
    {"name": "status", "dtype": "string"},
    {"name": "code", "dtype": "string"},
]
SQL = "amount < 50 or status = 'closed'"
ORDERS = DatasetConfig(
    name="orders",
    columns=COLUMNS,
    keys=["id"],
    rules=[
        "code is unique",
        "amount between 0 and 100",
        "status in ('open', 'closed')",
        "code matches '^C[0-9]+$'",
        SQL,
    ],
)
SQL_CHECK = next(r.check_name for r in ORDERS.rules if r.type == "sql")


def _good(n: int = 5) -> dict[str, list[Any]]:
    return {
        "id": [f"o{i}" for i in range(n)],
        "ts": [f"2026-01-01T0{i}:00:00Z" for i in range(n)],
        "amount": ["10"] * n,
        "status": ["open"] * n,
        "code": [f"C{i}" for i in range(n)],
    }


def _split(batch: pl.DataFrame, ds: DatasetConfig = ORDERS) -> tuple[pl.DataFrame, pl.DataFrame]:
    result = refine(nw.from_native(batch).lazy(), ds)
    silver = result.silver.collect().to_native()
    quarantine = result.quarantine.collect().to_native()
    assert silver.height + quarantine.height == batch.height
    return silver, quarantine


@pytest.mark.parametrize(
    ("column", "value", "rule", "reason"),
    [
        ("id", "", "id_not_null", "id_not_null: id is null"),
        ("ts", None, "ts_not_null", "ts_not_null: ts is null"),
        ("amount", "-5", "amount_in_range", "amount_in_range: amount=-5.0 outside [0, 100]"),
        (
            "status",
            "lost",
            "status_accepted_values",
            "status_accepted_values: status='lost' not in accepted values",
        ),
        (
            "code",
            "X9",
            "code_matches_pattern",
            "code_matches_pattern: code='X9' does not match ^C[0-9]+$",
        ),
        ("amount", "60", SQL_CHECK, f"{SQL_CHECK}: `{SQL}` is false"),
        ("amount", "ten", CAST_ERROR_RULE, "amount: value 'ten' is not a valid float64"),
    ],
)
def test_each_row_rule_quarantines_with_its_reason(
    column: str, value: str | None, rule: str, reason: str
) -> None:
    raw = _good()
    raw[column][2] = value
    silver, quarantine = _split(bronze(raw))
    assert quarantine["_row_number"].to_list() == [3]
    assert quarantine[RULE].to_list() == [rule]
    assert quarantine[REASON].to_list() == [reason]
    assert sorted(silver["id"].to_list()) == ["o0", "o1", "o3", "o4"]
    # quarantine keeps the raw text (as strings), silver the typed values
    assert quarantine[column].to_list() == [value]
    assert silver.schema["amount"] == pl.Float64


def test_unique_rule_quarantines_every_row_of_a_clash() -> None:
    raw = _good()
    raw["code"][3] = "C1"
    silver, quarantine = _split(bronze(raw))
    assert sorted(quarantine["_row_number"].to_list()) == [2, 4]
    assert set(quarantine[REASON].to_list()) == {"code_unique: (code) is not unique"}
    assert silver.height == 3


def test_nulls_pass_value_rules_and_sql_rules() -> None:
    raw = _good()
    for column in ("amount", "status", "code"):
        raw[column][1] = None
    raw["code"][2] = None  # two null codes are not a uniqueness clash
    silver, quarantine = _split(bronze(raw))
    assert quarantine.height == 0
    assert silver.height == 5


def test_a_row_breaking_several_rules_lists_every_reason() -> None:
    raw = _good()
    raw["amount"][0], raw["status"][0] = "-1", "lost"
    _, quarantine = _split(bronze(raw))
    assert quarantine[RULE].to_list() == ["amount_in_range"]  # the first rule broken
    assert quarantine[REASON].to_list() == [
        "amount_in_range: amount=-1.0 outside [0, 100]; "
        "status_accepted_values: status='lost' not in accepted values"
    ]


def test_truncated_rows_are_quarantined() -> None:
    raw = _good()
    raw["status"][4], raw["code"][4] = None, None
    silver, quarantine = _split(bronze(raw, missing_fields=[0, 0, 0, 0, 2]))
    assert quarantine[RULE].to_list() == [CAST_ERROR_RULE]
    assert quarantine[REASON].to_list() == ["row: 2 field(s) missing (line cut short)"]
    assert "_missing_fields" not in silver.columns
    assert silver.height == 4


def test_unknown_extra_columns_are_ignored_by_silver_and_kept_in_quarantine() -> None:
    raw = {**_good(), "loyalty_tier": ["gold"] * 5}
    raw["id"][0] = None
    silver, quarantine = _split(bronze(raw))
    assert "loyalty_tier" not in silver.columns
    assert quarantine["loyalty_tier"].to_list() == ["gold"]


def test_missing_columns_become_nulls_and_are_reported() -> None:
    raw = _good()
    del raw["status"]
    result = refine(nw.from_native(bronze(raw)).lazy(), ORDERS)
    assert result.missing_columns == ["status"]
    silver = result.silver.collect().to_native()
    assert silver["status"].to_list() == [None] * 5
    assert silver.height == 5


# --- deduplication ------------------------------------------------------------------------

PLAIN = DatasetConfig(name="orders", columns=COLUMNS, keys=["id"])


def test_dedup_keeps_the_latest_row_of_a_file_and_quarantines_the_rest() -> None:
    raw = _good(4)
    raw["id"] = ["a", "b", "a", "a"]
    raw["amount"] = ["1", "2", "3", "4"]
    silver, quarantine = _split(bronze(raw), PLAIN)
    assert dict(silver.select("id", "amount").iter_rows()) == {"a": 4.0, "b": 2.0}
    assert sorted(quarantine["_row_number"].to_list()) == [1, 3]
    assert set(quarantine[RULE].to_list()) == {DUPLICATE_RULE}
    assert set(quarantine[REASON].to_list()) == {
        "duplicate_key: a later record has the same key (id)"
    }


def test_dedup_across_files_prefers_the_later_file() -> None:
    first = bronze({**_good(2), "amount": ["1", "2"]}, source_file="orders/2026-01-01/a.csv")
    second = bronze({**_good(1), "amount": ["9"]}, source_file="orders/2026-01-01/b.csv")
    silver, quarantine = _split(pl.concat([second, first]), PLAIN)  # input order is irrelevant
    assert dict(silver.select("id", "amount").iter_rows()) == {"o0": 9.0, "o1": 2.0}
    assert quarantine["_source_file"].to_list() == ["orders/2026-01-01/a.csv"]


def test_dedup_order_by_a_business_column() -> None:
    ds = DatasetConfig(name="orders", columns=COLUMNS, keys=["id"], order_by=["ts"])
    raw = _good(3)
    raw["id"] = ["a", "a", "a"]
    raw["ts"] = ["2026-01-01T12:00:00", "2026-01-01T08:00:00", "2026-01-01T09:00:00"]
    silver, quarantine = _split(bronze(raw), ds)
    assert silver["_row_number"].to_list() == [1]  # greatest ts wins, not the last row
    assert sorted(quarantine["_row_number"].to_list()) == [2, 3]


def test_an_invalid_later_duplicate_does_not_replace_a_valid_record() -> None:
    raw = _good(2)
    raw["id"] = ["a", "a"]
    raw["amount"] = ["5", "oops"]
    silver, quarantine = _split(bronze(raw), PLAIN)
    assert silver["amount"].to_list() == [5.0]
    assert quarantine[RULE].to_list() == [CAST_ERROR_RULE]


def test_exact_duplicate_rows_keep_one_copy() -> None:
    raw = _good(3)
    batch = bronze({k: [*v, v[1]] for k, v in raw.items()})
    silver, quarantine = _split(batch, PLAIN)
    assert sorted(silver["id"].to_list()) == ["o0", "o1", "o2"]
    assert silver.filter(pl.col("id") == "o1")["_row_number"].to_list() == [4]
    assert quarantine.select("_row_number", RULE).rows() == [(2, DUPLICATE_RULE)]


# --- counting and table rules -------------------------------------------------------------


def test_count_failures_per_rule() -> None:
    raw = _good(10)
    raw["amount"][0] = "-1"
    raw["amount"][1] = "-2"
    raw["status"][1] = "lost"
    raw["id"][2] = None
    ds = DatasetConfig(
        name="orders",
        columns=COLUMNS,
        keys=["id"],
        rules=[
            {"type": "range", "column": "amount", "min": 0, "max_failure_fraction": 0.2},
            {"type": "accepted_values", "column": "status", "values": ["open"]},
        ],
    )
    split: SilverSplit = refine(nw.from_native(bronze(raw)).lazy(), ds)
    counts = count_failures(split, ds)
    assert {n: (c.failing, c.total) for n, c in counts.items()} == {
        CAST_ERROR_RULE: (0, 10),
        "id_not_null": (1, 10),
        "ts_not_null": (0, 10),
        "amount_in_range": (2, 10),
        "status_accepted_values": (1, 10),
    }
    assert counts["amount_in_range"].fraction == pytest.approx(0.2)
    assert counts["amount_in_range"].passed  # 20 % allowed
    assert not counts["status_accepted_values"].passed
    assert counts["ts_not_null"].passed


def test_table_rules() -> None:
    ds = DatasetConfig(
        name="orders",
        columns=COLUMNS,
        keys=["id"],
        rules=["row_count >= 4", "column_count = 5", "ts fresher than 2h"],
    )
    silver, _ = _split(bronze(_good(3)), ds)
    newest = silver["ts"].max()
    assert isinstance(newest, datetime)
    fresh_at = newest + timedelta(hours=1)
    results = {
        r.rule.check_name: r for r in table_rule_results(nw.from_native(silver), ds, fresh_at)
    }
    assert not results["row_count_at_least_4"].passed
    assert results["row_count_at_least_4"].observed == "3 rows (min 4)"
    assert results["column_count"].passed  # lineage columns (leading _) are not counted
    assert results["column_count"].observed == "5 columns"
    assert results["ts_fresh"].passed
    stale = table_rule_results(nw.from_native(silver), ds, newest + timedelta(hours=3))
    assert not next(r for r in stale if r.rule.check_name == "ts_fresh").passed
    empty = table_rule_results(nw.from_native(silver.clear()), ds, fresh_at)
    assert next(r for r in empty if r.rule.check_name == "ts_fresh").observed == "no timestamps"


# --- bronze rows == silver + quarantine, always ---------------------------------------------

FAULTS = (
    "null_id",
    "null_ts",
    "bad_ts",
    "negative",
    "too_big",
    "bad_status",
    "bad_code",
    "sql",
    "cut",
)
FAULT_RULE = {
    "null_id": "id_not_null",
    "null_ts": "ts_not_null",
    "bad_ts": CAST_ERROR_RULE,
    "negative": "amount_in_range",
    "too_big": "amount_in_range",
    "bad_status": "status_accepted_values",
    "bad_code": "code_matches_pattern",
    "sql": SQL_CHECK,
    "cut": CAST_ERROR_RULE,
}


def _random_batch(seed: int, n: int) -> tuple[pl.DataFrame, dict[tuple[str, int], str]]:
    """Two files of random rows, some re-sending an earlier key, some broken on purpose."""
    rng = np.random.default_rng(seed)
    frames, broken = [], {}
    for file_no, name in enumerate(("orders/2026-01-01/a.csv", "orders/2026-01-01/b.csv")):
        ids = [f"o{int(i)}" for i in rng.integers(0, n // 3, n)]  # many repeated keys
        raw: dict[str, list[Any]] = {
            "id": ids,
            "ts": [
                f"2026-01-01T{int(h):02d}:{int(m):02d}:00Z" for h, m in rng.integers(0, 24, (n, 2))
            ],
            "amount": [f"{v:.2f}" for v in rng.uniform(0, 49, n)],
            "status": [str(s) for s in rng.choice(["open", "closed"], n)],
            "code": [f"C{file_no}{i:04d}" for i in range(n)],  # unique over both files
        }
        missing = [0] * n
        for row in np.flatnonzero(rng.random(n) < 0.3):
            fault = str(rng.choice(FAULTS))
            i = int(row)
            if fault == "null_id":
                raw["id"][i] = None
            elif fault == "null_ts":
                raw["ts"][i] = ""
            elif fault == "bad_ts":
                raw["ts"][i] = "2026-02-30T00:00:00"
            elif fault == "negative":
                raw["amount"][i] = "-3"
            elif fault == "too_big":
                raw["amount"][i], raw["status"][i] = "250", "closed"
            elif fault == "bad_status":
                raw["status"][i] = "pending"
            elif fault == "bad_code":
                raw["code"][i] = f"X{file_no}{i}"
            elif fault == "sql":
                raw["amount"][i], raw["status"][i] = "75", "open"
            else:  # the line was cut after `amount`
                raw["status"][i], raw["code"][i], missing[i] = None, None, 2
            broken[(name, i + 1)] = FAULT_RULE[fault]
        frames.append(bronze(raw, source_file=name, missing_fields=missing))
    return pl.concat(frames), broken


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_every_bronze_row_lands_exactly_once(seed: int) -> None:
    batch, broken = _random_batch(seed, n=150)
    silver, quarantine = _split(batch, ORDERS)
    ids = ["_source_file", "_row_number"]
    all_rows = set(batch.select(ids).iter_rows())
    in_silver = set(silver.select(ids).iter_rows())
    in_quarantine = set(quarantine.select(ids).iter_rows())
    assert len(in_silver) == silver.height and len(in_quarantine) == quarantine.height
    assert in_silver.isdisjoint(in_quarantine)
    assert in_silver | in_quarantine == all_rows
    # broken rows are quarantined for the rule they break
    rules = dict(zip(quarantine.select(ids).iter_rows(), quarantine[RULE].to_list(), strict=True))
    assert {row: rules.get(row) for row in broken} == broken
    # of the unbroken rows, the latest per key is kept; the others are superseded duplicates
    intact = batch.filter(
        ~pl.struct(ids).is_in([{"_source_file": f, "_row_number": r} for f, r in broken])
    )
    latest = intact.sort(ids).group_by("id").last()
    assert in_silver == set(latest.select(ids).iter_rows())
    superseded = {row for row, rule in rules.items() if rule == DUPLICATE_RULE}
    assert superseded == set(intact.select(ids).iter_rows()) - in_silver
    assert quarantine[REASON].null_count() == 0
    assert silver["id"].is_duplicated().sum() == 0
