"""Which rows of a typed frame break a dataset's row rules (the silver expressions, reused)."""

from collections.abc import Sequence

import narwhals as nw
import polars as pl

from mlops_assets.config.datasets import rule_columns
from mlops_assets.config.rules import AcceptedValuesRule, RangeRule, RegexRule, Rule, SqlRule
from mlops_assets.transforms.quality import row_failure

VALUE_RULES = (RangeRule, AcceptedValuesRule, RegexRule, SqlRule)
"""Rules about the values of a row (not nulls, keys or whole tables)."""


def value_rules(rules: Sequence[Rule], columns: Sequence[str]) -> list[Rule]:
    """The value rules that read only `columns`."""
    return [
        r
        for r in rules
        if isinstance(r, VALUE_RULES) and all(c in columns for c in rule_columns(r))
    ]


def failing(frame: pl.DataFrame, rules: Sequence[Rule]) -> pl.Series:
    """True for each row breaking at least one of `rules` (all False without rules)."""
    flags = [failure[0].fill_null(False) for r in rules if (failure := row_failure(r))]
    if not flags:
        return pl.Series([False] * frame.height, dtype=pl.Boolean)
    enums = [c for c, t in frame.schema.items() if isinstance(t, pl.Enum)]
    plain = nw.from_native(frame.with_columns(pl.col(c).cast(pl.String) for c in enums))
    flagged = plain.select(nw.any_horizontal(*flags, ignore_nulls=True).alias("_fails"))
    return flagged.to_native()["_fails"]
