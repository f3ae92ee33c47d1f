"""Typed casting and the rule/feature expression language on edge values, Polars against Spark.

The values are the ones where engines usually part ways: padding with Unicode spaces, digits of
other scripts, integer overflow, every shape of ISO timestamp, impossible dates, modulo by zero.
Two documented differences remain, pinned down by strict xfails.
"""

from typing import Any

import narwhals as nw
import polars as pl
import pytest

from mlops_assets.config.datasets import DatasetConfig
from mlops_assets.config.expressions import compile_expression
from mlops_assets.engines import collect_polars, lazy, to_spark
from mlops_assets.transforms.quality import REASON, RULE, count_failures, refine
from mlops_assets.transforms.schema import typed_columns
from mlops_assets_tests.engines.engines_helpers import assert_same_rows
from mlops_assets_tests.transforms.transforms_helpers import bronze

pytestmark = [pytest.mark.spark, pytest.mark.slow]
Spark = tuple[str, Any]

EDGE = DatasetConfig(
    name="edge",
    keys=["id"],
    columns=[
        {"name": "id", "dtype": "string"},
        {"name": "n", "dtype": "int64"},
        {"name": "x", "dtype": "float64"},
        {"name": "flag", "dtype": "bool"},
        {"name": "d", "dtype": "date"},
        {"name": "ts", "dtype": "datetime"},
        {"name": "s", "dtype": "string"},
    ],
    rules=[
        "n between -100 and 1000",
        "s in ('a', 'b', 'é')",
        "id matches '^r[0-9]+$'",
        "x < 1000 or flag",
        "n % 3 <> 1",
        "length(s) <= 1",
        {"type": "unique", "columns": ["s", "d"]},
    ],
)
# Column by column; rows are zipped, so each list has the same length.
VALUES: dict[str, list[str | None]] = {
    "id": ["r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", None, " r9", "r1", "r11", "r12", "r13"],
    "n": [
        "42",
        " -7\t",
        "+5",
        "007",
        "9223372036854775807",
        "9223372036854775808",
        "1.0",
        "\u00a012\u3000",
        "\u0663",
        "\uff11\uff12",
        "",
        "-9223372036854775808",
        None,
        "-0",
    ],
    "x": [
        "3.14",
        "-2.5e-3",
        ".5",
        "5.",
        "1E10",
        "nan",
        "inf",
        "1,5",
        "19.45",
        "\u2003-0.0",
        None,
        "\u0661.\u0665",
        "",
        "1e400",
    ],
    "flag": ["TRUE", " yes", "0", "N", "maybe", "T", "", None, "False", "y", "1", "f", "no", "t"],
    "d": [
        "2024-02-29",
        "2023-02-29",
        "2026-13-01",
        "2026-01-01",
        "1900-02-29",
        "2000-02-29",
        "2026-01-01T00:00",
        "0001-01-01",
        "2026-01-0\u0663",
        None,
        "2026-02-01",
        "2026-01-31",
        "2026-04-31",
        "2023-02-29",
    ],
    "ts": [
        "2026-01-01T00:00:00Z",
        "2026-01-01 12:30:45.123456+00:00",
        "2026-01-01T12:30:45.1234567891",
        "2026-01-01T12:30:45+0000",
        "2026-01-01T24:00:00",
        "2026-01-01T12:30:45+01:00",
        "1969-12-31T23:59:59.999999Z",
        "2026-01-01T12:30:45.5",
        "2026-01-01T12:30:45",
        "2024-02-29T23:59:59.123456789Z",
        None,
        "",
        "0001-01-01T00:00:00",
        "9999-12-31T23:59:59.9999999",
    ],
    "s": ["a", "b", "é", "", " ", None, "🙂", "A", "\u00a0", "a", "a", "é", "ab", "b"],
}


def _typed(frame: nw.LazyFrame[Any], *, polars: bool = False) -> pl.DataFrame:
    """Every value typed, with its did-not-parse flag and reason, per bronze row."""
    typed = typed_columns(frame.collect_schema(), EDGE.columns, polars=polars)
    return collect_polars(
        typed.prepare(frame).select(
            "_row_number",
            *typed.values,
            *[flag.alias(f"{name}_failed") for name, flag, _ in typed.failures],
            *[reason.alias(f"{name}_reason") for name, _, reason in typed.failures],
        )
    )


def test_edge_values_cast_identically(engines_spark: Spark) -> None:
    batch = bronze(VALUES)
    expected = _typed(lazy(batch))
    assert expected["n"].to_list()[:5] == [42, -7, 5, 7, 9223372036854775807]
    assert expected["n"][7] == 12  # Unicode spaces are stripped on both engines
    assert expected["n_failed"][8]  # another script's digit is rejected, not a failed batch
    assert expected["ts"].is_not_null().sum() == 9  # Z, +00:00, +0000, 0 to 9 fraction digits
    assert expected["n"][11] == -9223372036854775808  # Int64's smallest fits
    assert_same_rows(expected, _typed(nw.from_native(to_spark(batch, engines_spark[1]))))
    assert_same_rows(expected, _typed(lazy(batch), polars=True))  # Polars' own parsing


def test_edge_values_refine_identically(engines_spark: Spark) -> None:
    batch = bronze(VALUES, missing_fields=[0] * 13 + [3])
    expected = refine(lazy(batch), EDGE)
    got = refine(nw.from_native(to_spark(batch, engines_spark[1])), EDGE)
    silver, quarantine = collect_polars(expected.silver), collect_polars(expected.quarantine)
    assert silver.height > 0
    assert {"schema_conformance", "duplicate_key"} <= set(quarantine[RULE].to_list())
    assert quarantine[REASON].str.contains("n: value '\u0663' is not a valid int64").any()
    assert_same_rows(silver, collect_polars(got.silver))
    assert_same_rows(quarantine, collect_polars(got.quarantine))
    assert {n: c.failing for n, c in count_failures(got, EDGE).items()} == {
        n: c.failing for n, c in count_failures(expected, EDGE).items()
    }


NUMBERS = pl.DataFrame(
    {
        "i": list(range(12)),
        "x": [2.71, -2.26, 0.1, 1e-3, 0.0, -1.0, 3.0, None, 7.0, -7.0, 19.47, 1e6],
        "n": [7, -7, 3, 0, 5, -5, 2, None, 10, -10, 1, 4],
        "m": [3, 3, -3, 2, 0, 3, 2, 2, 4, 0, 2, 3],
        "s": ["Ab", "é", "", None, "ÄÖ", "x", "y", "z", "q", "w", "e", "r"],
    }
)
EXPRESSIONS = [
    "n % m",
    "x % 2",
    "-7 % 3",
    "n / m",
    "x / 0",
    "n / 0",
    "x * n - m + 1",
    "log(x)",
    "sqrt(x)",
    "exp(x)",
    "abs(n)",
    "-n",
    "round(x, 1)",  # no ties here: see test_round_on_ties
    "length(s)",
    "upper(s)",
    "lower(s)",
    "n between 1 and 5",
    "not (n in (1, 7))",
    "s in ('Ab', 'é')",
    "coalesce(x, n, 0)",
    "x is null or n > 2",
    "s = 'Ab' and not x >= 3",
    "s <> 'x' or n = -5",
]


def _evaluate(frame: nw.LazyFrame[Any], expressions: list[str]) -> pl.DataFrame:
    """One column per expression, named by its text, next to the row's id ``i``."""
    exprs = [compile_expression(text).alias(text) for text in expressions]
    return collect_polars(frame.select("i", *exprs)).sort("i")


def test_expression_language_agrees(engines_spark: Spark) -> None:
    expected = _evaluate(lazy(NUMBERS), EXPRESSIONS)
    assert expected["n % m"][4] is None  # x % 0 is null; Spark's ANSI mode raises
    assert expected["-7 % 3"][0] == 2  # floored modulo, as in Python
    got = _evaluate(nw.from_native(to_spark(NUMBERS, engines_spark[1])), EXPRESSIONS)
    assert_same_rows(expected, got)


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="round() differs: Polars rounds the binary double half-to-even (round(0.125, 2) = "
    "0.12, round(19.45, 1) = 19.4), Spark rounds its decimal text half-up (0.13, 19.5); no "
    "narwhals expression reproduces Polars' results exactly, so config round() is only "
    "engine-independent away from ties",
)
def test_round_on_ties(engines_spark: Spark) -> None:
    ties = pl.DataFrame({"i": [0, 1, 2, 3], "x": [0.125, 19.45, 2.5, -0.5]})
    texts = ["round(x, 2)", "round(x, 1)", "round(x)"]
    expected = _evaluate(lazy(ties), texts)
    got = _evaluate(nw.from_native(to_spark(ties, engines_spark[1])), texts)
    assert expected.equals(got)


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="a float shown in a quarantine reason is formatted by the engine: Polars writes "
    "10000000000.0 and 0.0001, Spark (Java) 1.0E10 and 1.0E-4 (they agree from 1e-3 to 1e7); "
    "silver rows, rules and counts are unaffected",
)
def test_large_floats_in_reasons(engines_spark: Spark) -> None:
    dataset = DatasetConfig(
        name="f",
        keys=["id"],
        columns=[{"name": "id", "dtype": "string"}, {"name": "x", "dtype": "float64"}],
        rules=["x between 0 and 1"],
    )
    batch = bronze({"id": ["a", "b"], "x": ["1e10", "-0.0001"]})
    expected = collect_polars(refine(lazy(batch), dataset).quarantine)
    got = collect_polars(
        refine(nw.from_native(to_spark(batch, engines_spark[1])), dataset).quarantine
    )
    assert expected.height == 2
    assert_same_rows(expected, got)
