"""The SQL expression language, evaluated on real Polars frames against a plain-Python reference.

The reference functions implement SQL semantics by hand (three-valued logic: NULL propagates
through arithmetic and comparisons, ``NULL AND FALSE`` is FALSE, ``NULL OR TRUE`` is TRUE).
"""

import math
from collections.abc import Callable
from typing import Any

import narwhals as nw
import polars as pl
import pytest

from mlops_assets.config.expressions import (
    MAX_NESTING,
    MAX_TOKENS,
    compile_expression,
    parse_expression,
    referenced_columns,
)
from mlops_assets.errors import ConfigError

Row = dict[str, Any]

ROWS: list[Row] = [
    {"a": 1, "b": 2.5, "s": "x", "flag": True},
    {"a": 2, "b": None, "s": "Y", "flag": False},
    {"a": None, "b": 1.0, "s": None, "flag": None},
    {"a": -4, "b": 4.0, "s": "abc", "flag": True},
    {"a": 5, "b": 0.5, "s": "it's", "flag": False},
]
FRAME = pl.DataFrame(
    ROWS, schema={"a": pl.Int64, "b": pl.Float64, "s": pl.String, "flag": pl.Boolean}
)


def _null(*values: Any) -> bool:
    return any(v is None for v in values)


def _and(x: bool | None, y: bool | None) -> bool | None:
    if x is False or y is False:
        return False
    return None if _null(x, y) else True


def _or(x: bool | None, y: bool | None) -> bool | None:
    if x is True or y is True:
        return True
    return None if _null(x, y) else False


def _not(x: bool | None) -> bool | None:
    return None if x is None else not x


def _cmp(x: Any, y: Any, op: Callable[[Any, Any], bool]) -> bool | None:
    return None if _null(x, y) else op(x, y)


def _arith(x: Any, y: Any, op: Callable[[Any, Any], Any]) -> Any:
    return None if _null(x, y) else op(x, y)


def _in(x: Any, values: list[Any]) -> bool | None:
    return None if x is None else x in values


def _coalesce(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


CASES: list[tuple[str, Callable[[Row], Any]]] = [
    ("a + 1", lambda r: _arith(r["a"], 1, lambda x, y: x + y)),
    (
        "a * 2 - b",
        lambda r: _arith(_arith(r["a"], 2, lambda x, y: x * y), r["b"], lambda x, y: x - y),
    ),
    ("a / 2", lambda r: _arith(r["a"], 2, lambda x, y: x / y)),
    ("-a + 10", lambda r: _arith(r["a"], 10, lambda x, y: -x + y)),
    ("a % 2", lambda r: _arith(r["a"], 2, lambda x, y: x % y)),
    ("1 + 2 * 3", lambda r: 7),
    ("(1 + 2) * 3", lambda r: 9),
    ("2 - 3 - 1", lambda r: -2),
    ("1e2 + .5", lambda r: 100.5),
    ('"a" + 1', lambda r: _arith(r["a"], 1, lambda x, y: x + y)),
    ("a > 1", lambda r: _cmp(r["a"], 1, lambda x, y: x > y)),
    ("a >= 2", lambda r: _cmp(r["a"], 2, lambda x, y: x >= y)),
    ("a = 2", lambda r: _cmp(r["a"], 2, lambda x, y: x == y)),
    ("a == 2", lambda r: _cmp(r["a"], 2, lambda x, y: x == y)),
    ("a != 2", lambda r: _cmp(r["a"], 2, lambda x, y: x != y)),
    ("a <> 2", lambda r: _cmp(r["a"], 2, lambda x, y: x != y)),
    ("a < b", lambda r: _cmp(r["a"], r["b"], lambda x, y: x < y)),
    ("a <= b", lambda r: _cmp(r["a"], r["b"], lambda x, y: x <= y)),
    ("s = 'it''s'", lambda r: _cmp(r["s"], "it's", lambda x, y: x == y)),
    ("a = NULL", lambda r: None),
    (
        "a > 1 AND b > 1",
        lambda r: _and(_cmp(r["a"], 1, lambda x, y: x > y), _cmp(r["b"], 1, lambda x, y: x > y)),
    ),
    (
        "a > 1 or b > 1",
        lambda r: _or(_cmp(r["a"], 1, lambda x, y: x > y), _cmp(r["b"], 1, lambda x, y: x > y)),
    ),
    ("NOT a > 1", lambda r: _not(_cmp(r["a"], 1, lambda x, y: x > y))),
    (
        "not a > 1 and b > 1",  # NOT binds tighter than AND
        lambda r: _and(
            _not(_cmp(r["a"], 1, lambda x, y: x > y)), _cmp(r["b"], 1, lambda x, y: x > y)
        ),
    ),
    ("flag and a > 1", lambda r: _and(r["flag"], _cmp(r["a"], 1, lambda x, y: x > y))),
    ("flag or false", lambda r: _or(r["flag"], False)),
    ("flag = TRUE", lambda r: _cmp(r["flag"], True, lambda x, y: x == y)),
    ("a IS NULL", lambda r: r["a"] is None),
    ("a is not null", lambda r: r["a"] is not None),
    ("s IN ('x', 'abc')", lambda r: _in(r["s"], ["x", "abc"])),
    ("s NOT IN ('x')", lambda r: _not(_in(r["s"], ["x"]))),
    ("a in (1, -4)", lambda r: _in(r["a"], [1, -4])),
    (
        "a BETWEEN 1 AND 2",
        lambda r: _and(_cmp(r["a"], 1, lambda x, y: x >= y), _cmp(r["a"], 2, lambda x, y: x <= y)),
    ),
    (
        "a NOT BETWEEN 1 AND 2",
        lambda r: _not(
            _and(_cmp(r["a"], 1, lambda x, y: x >= y), _cmp(r["a"], 2, lambda x, y: x <= y))
        ),
    ),
    ("abs(a)", lambda r: None if r["a"] is None else abs(r["a"])),
    ("coalesce(a, 0)", lambda r: _coalesce(r["a"], 0)),
    ("coalesce(b, a, 0)", lambda r: _coalesce(r["b"], r["a"], 0)),
    ("lower(s)", lambda r: None if r["s"] is None else r["s"].lower()),
    ("UPPER(s)", lambda r: None if r["s"] is None else r["s"].upper()),
    ("length(s)", lambda r: None if r["s"] is None else len(r["s"])),
    ("round(b / 3, 2)", lambda r: None if r["b"] is None else round(r["b"] / 3, 2)),
    ("round(b * 10)", lambda r: None if r["b"] is None else float(round(r["b"] * 10))),
    ("sqrt(b)", lambda r: None if r["b"] is None else math.sqrt(r["b"])),
    ("log(b)", lambda r: None if r["b"] is None else math.log(r["b"])),
    ("exp(a / 10)", lambda r: None if r["a"] is None else math.exp(r["a"] / 10)),
]


@pytest.mark.parametrize(("text", "reference"), CASES, ids=[c[0] for c in CASES])
def test_expression_matches_sql_semantics(text: str, reference: Callable[[Row], Any]) -> None:
    out = nw.from_native(FRAME).with_columns(compile_expression(text).alias("out"))
    got = out["out"].to_list()
    expected = [reference(row) for row in ROWS]
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        if isinstance(e, float) and g is not None:
            assert g == pytest.approx(e), (text, got, expected)
        else:
            assert g == e, (text, got, expected)


def test_expressions_run_lazily_too() -> None:
    lazy = nw.from_native(FRAME.lazy()).filter(compile_expression("a > 1 and s is not null"))
    assert lazy.collect()["a"].to_list() == [
        r["a"] for r in ROWS if r["a"] and r["a"] > 1 and r["s"]
    ]


@pytest.mark.parametrize(
    ("text", "columns"),
    [
        ("a + b * 2", {"a", "b"}),
        ('"weird name" > 1', {"weird name"}),
        ("coalesce(x, y, 0) between lo and hi", {"x", "y", "lo", "hi"}),
        ("s in ('a', 'b') or t is null", {"s", "t"}),
        ("not (flag)", {"flag"}),
        ("1 + 2", set()),
        ("'a' = 'b'", set()),
        ("TRUE and null is null", set()),
    ],
)
def test_referenced_columns(text: str, columns: set[str]) -> None:
    assert referenced_columns(parse_expression(text)) == columns


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("a >", 3, "expected a value"),
        ("a + (b", 6, "expected )"),
        ("a b", 2, "unexpected trailing text"),
        ("a @ b", 2, "unexpected '@ b'"),
        ("x = 'open", 4, "unexpected"),
        ("a not like 'x'", 6, "expected IN or BETWEEN after NOT"),
        ("a between 1", 11, "expected and"),
        ("foo(a)", 0, "unknown function 'foo'"),
        ("abs(a, b)", 0, "abs() takes 1 argument(s), got 2"),
        ("coalesce(a)", 0, "coalesce() takes at least 2 argument(s)"),
        ("1 + round()", 4, "round() takes 1 to 2 argument(s), got 0"),
        ("a is 3", 5, "expected null"),
    ],
)
def test_parse_errors_say_where(text: str, position: int, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_expression(text)
    err = info.value
    assert f"at position {position}" in err.message
    assert fragment in err.message
    assert err.context["position"] == position
    assert err.context["expression"] == text
    assert err.fix


def test_empty_expression_is_rejected() -> None:
    with pytest.raises(ConfigError, match="empty expression"):
        parse_expression("   ")


def test_in_list_takes_literals_only() -> None:
    with pytest.raises(ConfigError, match="literal values only"):
        compile_expression("a in (b, 1)")
    out = nw.from_native(FRAME).select(compile_expression("a in (-4, 5)").alias("o"))
    assert out["o"].to_list() == [_in(r["a"], [-4, 5]) for r in ROWS]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("(" * 100 + "a" + ")" * 100, f"nested deeper than {MAX_NESTING} levels"),
        ("not " * 100 + "a", f"nested deeper than {MAX_NESTING} levels"),
        ("-" * 100 + "a", f"nested deeper than {MAX_NESTING} levels"),
        ("abs(" * 60 + "a" + ")" * 60, f"nested deeper than {MAX_NESTING} levels"),
        (" + ".join(["a"] * 1000), f"too long (at most {MAX_TOKENS})"),
    ],
)
def test_expressions_are_bounded_so_no_recursion_error_escapes(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_expression(text)
    assert fragment in info.value.message
    assert len(info.value.message) < 300  # the expression itself is shortened


def test_the_largest_accepted_expression_compiles_and_runs() -> None:
    nested = "(" * (MAX_NESTING - 1) + "a" + ")" * (MAX_NESTING - 1)
    long = " + ".join(["a"] * ((MAX_TOKENS + 1) // 2))
    for text in (nested, long):
        out = nw.from_native(FRAME).select(compile_expression(text).alias("o"))
        assert len(out) == len(ROWS)
    assert referenced_columns(parse_expression(long)) == {"a"}
