"""Typing raw text into the declared schema: what parses, what becomes null, what is quarantined."""

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import narwhals as nw
import numpy as np
import polars as pl
import pytest

from mlops_assets.config.datasets import ColumnSpec, DatasetConfig, DType
from mlops_assets.transforms.quality import REASON, RULE, refine
from mlops_assets.transforms.schema import typed_columns
from mlops_assets.transforms.schema_contract import CAST_ERROR_RULE
from mlops_assets_tests.transforms.transforms_helpers import bronze

INVALID = object()  # the value must be flagged (and quarantined), not silently nulled


def _cast(
    dtype: DType, raw: Sequence[str | None], *, polars: bool = False, micros: bool = False
) -> tuple[list[Any], list[bool], list[str | None]]:
    """Values, failed flags and reasons of ``raw`` typed as ``dtype`` (``micros``: datetimes as
    microseconds since the epoch, for years Python's datetime cannot hold)."""
    frame = nw.from_native(pl.DataFrame({"v": raw}, schema={"v": pl.String})).lazy()
    spec = [ColumnSpec(name="v", dtype=dtype)]
    typed = typed_columns(frame.collect_schema(), spec, polars=polars)
    ((_, failed, reason),) = typed.failures
    value = typed.values[0].cast(nw.Int64) if micros else typed.values[0]
    out = typed.prepare(frame).select(value, failed.alias("failed"), reason.alias("reason"))
    rows = out.collect()
    return rows["v"].to_list(), rows["failed"].to_list(), rows["reason"].to_list()


def _dt(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0, us: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, us, tzinfo=UTC)


CASES: list[tuple[DType, str | None, Any]] = [
    ("int64", "42", 42),
    ("int64", " -7 ", -7),
    ("int64", "+3", 3),
    ("int64", "007", 7),
    ("int64", "9223372036854775807", 9_223_372_036_854_775_807),
    ("int64", "9223372036854775808", INVALID),
    ("int64", "-9223372036854775808", -9_223_372_036_854_775_808),  # Int64's smallest
    ("int64", "-0009223372036854775808", -9_223_372_036_854_775_808),
    ("int64", "-9223372036854775809", INVALID),
    ("int64", "123456789012345678901234", INVALID),
    ("int64", "1.0", INVALID),
    ("int64", "1e3", INVALID),
    ("int64", "abc", INVALID),
    ("float64", "1.5", 1.5),
    ("float64", "-2", -2.0),
    ("float64", ".5", 0.5),
    ("float64", "5.", 5.0),
    ("float64", "-1.5E-2", -0.015),
    ("float64", "1,5", INVALID),
    ("float64", "n/a", INVALID),
    ("float64", "nan", INVALID),
    ("bool", "true", True),
    ("bool", "TRUE", True),
    ("bool", "Yes", True),
    ("bool", "y", True),
    ("bool", "1", True),
    ("bool", "t", True),
    ("bool", "False", False),
    ("bool", "no", False),
    ("bool", "N", False),
    ("bool", "0", False),
    ("bool", "maybe", INVALID),
    ("bool", "2", INVALID),
    ("date", "2026-01-31", date(2026, 1, 31)),
    ("date", "2024-02-29", date(2024, 2, 29)),
    ("date", "2000-02-29", date(2000, 2, 29)),
    ("date", "2026-02-29", INVALID),
    ("date", "1900-02-29", INVALID),
    ("date", "2026-04-31", INVALID),
    ("date", "2026-13-01", INVALID),
    ("date", "2026/01/01", INVALID),
    ("date", "20260101", INVALID),
    ("date", "2026-01-01T00:00:00", INVALID),
    ("datetime", "2026-01-01T10:20:30", _dt(2026, 1, 1, 10, 20, 30)),
    ("datetime", "2026-01-01T10:20:30Z", _dt(2026, 1, 1, 10, 20, 30)),
    ("datetime", "2026-01-01T10:20:30+00:00", _dt(2026, 1, 1, 10, 20, 30)),
    ("datetime", "2026-01-01T10:20:30-00:00", _dt(2026, 1, 1, 10, 20, 30)),
    ("datetime", "2026-01-01T10:20:30+0000", _dt(2026, 1, 1, 10, 20, 30)),
    ("datetime", "2026-01-01 10:20:30", _dt(2026, 1, 1, 10, 20, 30)),
    ("datetime", "2026-01-01 10:20:30.5Z", _dt(2026, 1, 1, 10, 20, 30, 500_000)),
    ("datetime", "2026-01-01T10:20:30.123456Z", _dt(2026, 1, 1, 10, 20, 30, 123_456)),
    ("datetime", "2024-02-29T23:59:59", _dt(2024, 2, 29, 23, 59, 59)),
    ("datetime", "2026-01-01T10:20:30+02:00", INVALID),  # only UTC offsets are accepted
    ("datetime", "2026-01-01", INVALID),
    ("datetime", "2026-01-01T10:20", INVALID),
    ("datetime", "2026-01-01T24:00:00", INVALID),
    ("datetime", "2026-01-01T10:60:00", INVALID),
    ("datetime", "2026-02-30T10:00:00", INVALID),
    ("string", "  keep  inner spaces ", "  keep  inner spaces "),
    ("string", "123", "123"),
]


@pytest.mark.parametrize("polars", [False, True], ids=["portable", "polars"])
@pytest.mark.parametrize(("dtype", "raw", "expected"), CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_cast(dtype: DType, raw: str, expected: Any, polars: bool) -> None:
    values, failed, reasons = _cast(dtype, [raw], polars=polars)
    if expected is INVALID:
        assert values == [None]
        assert failed == [True]
        assert reasons == [f"v: value '{raw}' is not a valid {dtype}"]
    else:
        assert failed == [False]
        assert values == [expected]


NUMBER_TEXTS = [
    *["0", "+5", "-5", "007", "-0", "+-5", "5.", "5.0", ".5", "+.5", "-.5", "1e5", "1E+05"],
    *["1e-3", "1e", "e5", "inf", "-inf", "+inf", "Infinity", "INF", "nan", "NaN", "-nan"],
    *["1e400", "-1e400", "1e-400", "1_000", "1,5", "0x1F", "0b1", "\u0661\u0662", "\u22125"],
    *["", "  ", "+", "-", ".", "1.2.3", "9223372036854775807", "9223372036854775808"],
    *["-9223372036854775808", "-9223372036854775809", "00000000000000000000000000001"],
    *["+00000000000000000009223372036854775807", " 42 ", "\u00a042\u3000", "4 2", "1d5", "5f"],
    *["0.1e1", "00.5", "5e0", ".e5", "5.e3", "1.5E3", "--5", "5-", "1e5.5", "1.5e+3", None],
]


@pytest.mark.parametrize("dtype", ["int64", "float64"])
def test_polars_parses_numbers_as_the_portable_patterns(dtype: DType) -> None:
    """Polars parses integers and decimals itself (a non-strict cast): every text gets the
    value and the flag the portable pattern test and strict cast give, on tricky texts and on
    20,000 random ones built from digits, signs, points, exponents and letters."""
    rng = np.random.default_rng(7)
    alphabet = np.array(list("0123456789+-.eEinfaINFx _"))
    weights = np.array([6.0] * 10 + [1.0] * 15)
    lengths = rng.integers(0, 24, 20_000)
    randoms = ["".join(rng.choice(alphabet, n, p=weights / weights.sum())) for n in lengths]
    for batch in (NUMBER_TEXTS, randoms):
        assert _cast(dtype, batch, polars=True) == _cast(dtype, batch)
    values, failed, _ = _cast(dtype, randoms, polars=True)
    assert sum(v is not None for v in values) > 1_000 and sum(failed) > 1_000  # both kinds


def test_polars_parses_a_mixed_datetime_batch_as_the_portable_path() -> None:
    """Polars parses a batch's datetimes in one call (Arrow's ISO-8601 parser): every shape the
    pattern admits, mixed in one column (Z and UTC offsets, "T" and space, none, 1, 6, 7 or 9
    fraction digits) and in both orders, gives the same values and flags on both paths."""
    raw = [c[1] for c in CASES if c[0] == "datetime"]
    raw += ["2026-01-01T10:20:30.123456789Z", "2026-01-01T10:20:30.0000005", None, " "]
    for batch in (raw, raw[::-1]):
        assert _cast("datetime", batch, polars=True) == _cast("datetime", batch)


DATETIME_TEXTS = [
    *["0000-02-29T00:00:00", "1900-02-29T00:00:00", "2000-02-29 12:00:00Z", "9999-12-31T23:59:59"],
    *["1969-12-31T23:59:59.9999999", "1969-12-31T23:59:59.999999999Z", "0001-01-01T00:00:00.1"],
    *["2026-01-01T23:59:60", "2026-01-01T00:00:00.", "2026-01-01T00:00:00.1234567890"],
    *["2026-01-01T00:00:00ZZ", "2026-01-01T00:00:00+00:00Z", "2026-01-01T00:00:00 Z"],
    *["2026-01-01  00:00:00", "2026-01-01T00:00:00z", "2026-01-01t00:00:00", "2026-1-01T00:00:00"],
    *["\u00a02026-01-01T00:00:00\u3000", "2026-01-01T00:00:00\nZ", "+2026-01-01T00:00:00", None],
]


def _random_datetime_texts(n: int) -> list[str]:
    """Datetime texts of every shape the pattern admits, and near misses: years 0000-9999,
    the 28th to the 31st of every month, "T" or space, 0 to 10 fraction digits, UTC suffixes
    and other offsets, blanks around, and one character in five texts replaced."""
    rng = np.random.default_rng(11)
    zones = ["", "", "Z", "+00:00", "-0000", "+0000", "-00:00", "+01:00", "z", "ZZ"]
    texts = []
    for _ in range(n):
        year, month, day = rng.integers(0, 10_000), rng.integers(1, 13), rng.integers(28, 32)
        clock = f"{rng.integers(0, 25):02d}:{rng.integers(0, 61):02d}:{rng.integers(0, 61):02d}"
        digits = "".join(rng.choice(list("0123456789"), rng.integers(0, 11)))
        fraction = f".{digits}" if digits or rng.random() < 0.05 else ""
        text = f"{year:04d}-{month:02d}-{day:02d}{rng.choice(['T', ' '])}{clock}{fraction}"
        text = f"{rng.choice(['', ' '])}{text}{rng.choice(zones)}{rng.choice(['', ' '])}"
        if rng.random() < 0.2:
            at = rng.integers(0, len(text))
            text = text[:at] + str(rng.choice(list("0123456789 T:-.Zx"))) + text[at + 1 :]
        texts.append(text)
    return texts


def test_polars_parses_datetimes_as_the_portable_path() -> None:
    """Polars reads datetimes with its own pattern test and Arrow's ISO-8601 parser: every text
    gets the value and the flag the portable path gives (strip, remove the UTC suffix, a space
    made "T", pattern, parse), on tricky texts and on 20,000 random ones; fractions past the
    microsecond are cut, before 1970 too."""
    randoms = _random_datetime_texts(20_000)
    for batch in (DATETIME_TEXTS, randoms):
        polars = _cast("datetime", batch, polars=True, micros=True)
        assert polars == _cast("datetime", batch, micros=True)
    values, failed, _ = _cast("datetime", randoms, polars=True, micros=True)
    assert sum(v is not None for v in values) > 2_000 and sum(failed) > 2_000  # both kinds
    cut, _, _ = _cast("datetime", DATETIME_TEXTS[4:7], polars=True)
    assert cut == [
        _dt(1969, 12, 31, 23, 59, 59, 999_999),
        _dt(1969, 12, 31, 23, 59, 59, 999_999),
        _dt(1, 1, 1, 0, 0, 0, 100_000),
    ]


@pytest.mark.parametrize("dtype", ["string", "int64", "float64", "bool", "date", "datetime"])
@pytest.mark.parametrize("raw", ["", "   ", None])
def test_blanks_become_null_and_are_not_failures(dtype: DType, raw: str | None) -> None:
    values, failed, _ = _cast(dtype, [raw])
    assert values == [None]
    assert failed == [False]


def test_one_bad_value_never_fails_the_batch() -> None:
    raw = ["1", "99999999999999999999", "x", "", "2"]
    values, failed, _ = _cast("int64", raw)
    assert values == [1, None, None, None, 2]
    assert failed == [False, True, True, False, False]


def test_typed_parquet_columns_are_cast_not_parsed() -> None:
    frame = nw.from_native(
        pl.DataFrame(
            {"n": [1, None, 3], "x": [1.5, 2.0, None]}, schema={"n": pl.Int32, "x": pl.Float32}
        )
    )
    specs = [ColumnSpec(name="n", dtype="float64"), ColumnSpec(name="x", dtype="string")]
    typed = typed_columns(frame.collect_schema(), specs)
    out = frame.select(*typed.values, *[f.alias(f"failed_{c}") for c, f, _ in typed.failures])
    assert out.schema["n"] == nw.Float64 and out.schema["x"] == nw.String
    assert out["n"].to_list() == [1.0, None, 3.0]
    assert out["x"].to_list() == ["1.5", "2.0", None]
    assert out["failed_n"].to_list() == [False, False, False]


def test_renamed_and_missing_columns() -> None:
    frame = nw.from_native(pl.DataFrame({"CustomerID": ["a", "b"]}))
    specs = [
        ColumnSpec(name="customer_id", dtype="string", source="CustomerID"),
        ColumnSpec(name="tenure", dtype="int64"),
    ]
    typed = typed_columns(frame.collect_schema(), specs)
    out = frame.select(*typed.values)
    assert out.columns == ["customer_id", "tenure"]
    assert out["customer_id"].to_list() == ["a", "b"]
    assert out["tenure"].to_list() == [None, None] and out.schema["tenure"] == nw.Int64
    assert typed.missing == ["tenure"]


def test_unparseable_values_are_quarantined_with_column_and_value() -> None:
    ds = DatasetConfig(
        name="t",
        columns=[
            {"name": "id", "dtype": "string"},
            {"name": "n", "dtype": "int64"},
            {"name": "ts", "dtype": "datetime"},
        ],
        keys=["id"],
    )
    batch = bronze(
        {
            "id": ["a", "b", "c"],
            "n": ["1", "two", "3.5"],
            "ts": ["2026-01-01T00:00:00Z", "2026-01-01 00:00:00", "yesterday"],
        }
    )
    split = refine(nw.from_native(batch).lazy(), ds)
    silver = split.silver.collect()
    quarantine = split.quarantine.collect().sort("_row_number")
    assert silver["id"].to_list() == ["a"]
    assert quarantine["id"].to_list() == ["b", "c"]
    assert quarantine[RULE].to_list() == [CAST_ERROR_RULE, CAST_ERROR_RULE]
    assert quarantine[REASON].to_list() == [
        "n: value 'two' is not a valid int64",
        "n: value '3.5' is not a valid int64; ts: value 'yesterday' is not a valid datetime",
    ]
    # the raw text is kept in quarantine, exactly as it came
    assert quarantine["n"].to_list() == ["two", "3.5"]
