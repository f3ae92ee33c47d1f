"""Bad rows: one defect per broken row, each one a rule of the dataset would catch in silver.

The kinds are derived from the YAML: a null in a required column, an unparseable value in a typed
column, a value outside a range rule, a value missing from accepted values, a string that does not
match its pattern. A profile (the churn demo) may fix its own list instead.
"""

from dataclasses import dataclass
from enum import StrEnum

import polars as pl

from mlops_assets.simulate.domains import ColumnFacts, typed_values
from mlops_assets.simulate.text import text_expr

UNPARSEABLE = "n/a"
UNKNOWN = "UNKNOWN"
PATTERN_BREAKER = "#"


class DefectKind(StrEnum):
    """What a bad row carries."""

    NULL = "null"
    UNPARSEABLE = "unparseable"
    OUT_OF_RANGE = "out_of_range"
    UNKNOWN_VALUE = "unknown_value"
    PATTERN = "pattern"


@dataclass(frozen=True)
class Defect:
    """One kind of defect on one column (`value`: the literal written, where one is)."""

    kind: DefectKind
    column: str
    value: str | None = None

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.column}"


def derive_defects(facts: dict[str, ColumnFacts]) -> list[Defect]:
    """Every defect the dataset's schema and rules can detect, in declared column order."""
    defects: list[Defect] = []
    for name, fact in facts.items():
        if fact.required:
            defects.append(Defect(DefectKind.NULL, name))
        if fact.dtype != "string":
            defects.append(Defect(DefectKind.UNPARSEABLE, name, UNPARSEABLE))
        if fact.is_numeric and (fact.low is not None or fact.high is not None):
            defects.append(Defect(DefectKind.OUT_OF_RANGE, name))
        unknown = _unknown_value(fact)
        if unknown is not None:
            defects.append(Defect(DefectKind.UNKNOWN_VALUE, name, unknown))
        if fact.dtype == "string" and fact.pattern is not None and _breakable(fact.pattern):
            defects.append(Defect(DefectKind.PATTERN, name))
    return defects


def _unknown_value(fact: ColumnFacts) -> str | None:
    if not fact.accepted:
        return None
    accepted = typed_values(fact.accepted, fact.dtype)
    if fact.dtype == "string":
        value = UNKNOWN
        while value in accepted.to_list():
            value += "_"
        return value
    if fact.is_numeric:
        return str(int(accepted.max()) + 1)  # type: ignore[arg-type]
    if fact.dtype == "bool" and accepted.n_unique() == 1:
        return str(not accepted[0]).lower()
    return None


def _breakable(pattern: str) -> bool:
    """Whether prefixing `PATTERN_BREAKER` makes typical values fail the pattern."""
    probes = pl.Series([PATTERN_BREAKER + "a1", PATTERN_BREAKER + "A", PATTERN_BREAKER + "0"])
    return not bool(probes.str.contains(pattern).any())


def defect_expr(defect: Defect, fact: ColumnFacts, dtype: pl.DataType, bad: pl.Expr) -> pl.Expr:
    """The column of `defect` with the rows flagged by `bad` broken (text when the value is)."""
    col = pl.col(defect.column)
    if defect.kind == DefectKind.NULL:
        return pl.when(bad).then(None).otherwise(col).alias(defect.column)
    if defect.kind == DefectKind.OUT_OF_RANGE:
        if fact.low is not None:
            broken = fact.low - 1 - (col.cast(pl.Float64) - fact.low).abs()
        else:
            broken = fact.high + 1 + (col.cast(pl.Float64) - fact.high).abs()  # type: ignore[operator]
        broken = broken.round(0).cast(pl.Int64) if fact.dtype == "int64" else broken
        return pl.when(bad).then(broken).otherwise(col).cast(dtype).alias(defect.column)
    if defect.kind == DefectKind.PATTERN:
        text = col.cast(pl.String)
        return pl.when(bad).then(PATTERN_BREAKER + text).otherwise(text).alias(defect.column)
    if defect.kind == DefectKind.UNKNOWN_VALUE and fact.dtype in ("int64", "float64", "bool"):
        typed = typed_values([defect.value or ""], fact.dtype)[0]
        return pl.when(bad).then(pl.lit(typed)).otherwise(col).cast(dtype).alias(defect.column)
    text = text_expr(defect.column, dtype)
    return pl.when(bad).then(pl.lit(defect.value)).otherwise(text).alias(defect.column)
