"""Typing raw (bronze) columns into the declared silver schema, flagging values that do not parse.

Casting is validated before it happens (a pattern per type), so the cast itself never fails on any
engine and every rejected value keeps a precise reason instead of silently becoming null.
"""

from dataclasses import dataclass, field

import narwhals as nw

from mlops_assets.config.datasets import ColumnSpec, DType

# Real calendar dates only (a cast that fails raises for the whole batch on every engine):
# 30/31-day months, February to the 28th, and the 29th in leap years.
# Digits are spelled [0-9]: `\d` also matches other scripts' digits in Polars (Rust regex), which no
# cast accepts, while Spark (Java regex) matches ASCII only.
_DATE = (
    r"[0-9]{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    r"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))"
    r"|(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29"
)
_PATTERNS: dict[str, str] = {
    "int64": r"^[+-]?[0-9]+$",
    "float64": r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$",
    "date": rf"^(?:{_DATE})$",
    "datetime": rf"^(?:{_DATE})T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{{1,9}})?$",
}
# Unicode White_Space, spelled out: what Polars strips by default; Spark's default is ASCII only.
_WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_TRUE = ["true", "t", "yes", "y", "1"]
_FALSE = ["false", "f", "no", "n", "0"]
NW_TYPES: dict[str, nw.dtypes.DType] = {
    "string": nw.String(),
    "int64": nw.Int64(),
    "float64": nw.Float64(),
    "bool": nw.Boolean(),
    "date": nw.Date(),
    "datetime": nw.Datetime("us", "UTC"),
}
_INT64_MAX = "9223372036854775807"
# The shape the datetime pattern admits once a zone suffix is removed and a space made a "T".
POLARS_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S%.f"


@dataclass(frozen=True)
class TypedColumns:
    """Expressions producing typed columns and, per column, a 'value did not parse' flag."""

    values: list[nw.Expr]
    failures: list[tuple[str, nw.Expr, nw.Expr]]  # (column, failed flag, reason text)
    missing: list[str]
    parsed: list[str] = field(default_factory=list)  # columns whose flag can be true


def _fits_int64(text: nw.Expr) -> nw.Expr:
    """Whether an integer literal (when it is one) fits in Int64 (string operations only).

    Up to 18 characters always fit; only longer text (rare) is examined: the sign (at most one,
    the pattern checked it) and leading zeros are stripped (plain character stripping, no
    regex) and the rest compared with Int64's largest value as text.
    """
    long = nw.when(text.str.len_chars() > 18).then(text)  # null (free below) for short text
    digits = long.str.strip_chars_start("+-").str.strip_chars_start("0")
    n = digits.str.len_chars()
    return ((n < 19) | ((n == 19) & (digits <= _INT64_MAX))).fill_null(True)


def _string_cast(
    text: nw.Expr, dtype: DType, datetime_format: str | None = None
) -> tuple[nw.Expr, nw.Expr]:
    """(typed value, parse-ok flag) of stripped text; the value is null unless ok.

    Blank text never parses (every pattern needs a character), so callers need no separate
    blank test for the value.
    """
    if dtype == "bool":
        lowered = text.str.to_lowercase()
        ok = lowered.is_in(_TRUE + _FALSE)
        return nw.when(ok).then(lowered.is_in(_TRUE)), ok
    if dtype == "datetime":
        text = text.str.replace_all(r"(Z|[+-]00:?00)$", "").str.replace_all(" ", "T", literal=True)
    ok = text.str.contains(_PATTERNS[dtype])
    if dtype == "int64":  # a cast that overflows would fail the whole batch
        ok = ok & _fits_int64(text)
    kept = nw.when(ok).then(text)
    if dtype == "date":
        return kept.str.to_date("%Y-%m-%d"), ok
    if dtype == "datetime":
        # The pattern above already fixed the shape (ISO, 0-9 fraction digits), which both
        # engines parse without a format; Polars parses it faster told the format (which has no
        # Spark equivalent), with the same values.
        parsed = kept.str.to_datetime(datetime_format)
        return parsed.dt.replace_time_zone("UTC"), ok
    return kept.cast(NW_TYPES[dtype]), ok


def typed_columns(
    schema: nw.Schema, columns: list[ColumnSpec], *, polars: bool = False
) -> TypedColumns:
    """Build the typed-column expressions for a frame whose raw schema is ``schema``.

    Every text column is stripped once; that stripped text is tested for blankness, validated
    and cast (a handful of vectorised string operations per column, no per-row Python).
    Declared ``string`` columns cannot fail: their flag is a literal False.

    ``polars``: the frame runs on Polars, which parses datetimes with
    :data:`POLARS_DATETIME_FORMAT` (the same values). Other engines get the portable expressions.
    """
    datetime_format = POLARS_DATETIME_FORMAT if polars else None
    values: list[nw.Expr] = []
    failures: list[tuple[str, nw.Expr, nw.Expr]] = []
    missing: list[str] = []
    parsed: list[str] = []
    for spec in columns:
        target = NW_TYPES[spec.dtype]
        if spec.source_name not in schema:
            missing.append(spec.source_name)
            values.append(nw.lit(None, dtype=target).alias(spec.name))
            continue
        raw = nw.col(spec.source_name)
        raw_type = schema[spec.source_name]
        shown = raw
        value: nw.Expr
        if raw_type == nw.String:
            text = raw.str.strip_chars(_WHITESPACE)
            if spec.dtype == "string":
                value = nw.when(text != "").then(raw)
                failed = nw.lit(False)
            else:
                value, ok = _string_cast(text, spec.dtype, datetime_format)
                failed = (text != "") & ~ok  # null raw: null here, false once filled
                parsed.append(spec.name)
        else:
            value = raw.cast(target)
            failed = ~raw.is_null() & value.is_null()
            shown = raw.cast(nw.String)
            parsed.append(spec.name)
        reason = nw.concat_str(
            [nw.lit(f"{spec.name}: value '"), shown, nw.lit(f"' is not a valid {spec.dtype}")]
        )
        values.append(value.cast(target).alias(spec.name))
        failures.append((spec.name, failed.fill_null(False), reason))
    return TypedColumns(values=values, failures=failures, missing=missing, parsed=parsed)
