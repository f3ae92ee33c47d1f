"""Data-quality rules as vectorised narwhals expressions, quarantine and deduplication.

Every raw row ends in exactly one place: the silver table or the quarantine table (with the first
rule it broke and every reason), so ``bronze = silver + quarantine`` always holds.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import narwhals as nw

from mlops_assets.config.datasets import DatasetConfig
from mlops_assets.config.expressions import compile_expression
from mlops_assets.config.rules import (
    AcceptedValuesRule,
    ColumnCountRule,
    FreshnessRule,
    NotNullRule,
    RangeRule,
    RegexRule,
    RowCountMinRule,
    Rule,
    SqlRule,
    UniqueRule,
)
from mlops_assets.transforms.schema import CAST_ERROR_RULE, typed_columns

MISSING_FIELDS = "_missing_fields"  # bronze lineage: fields a CSV line lacked (a cut line)

FAILED = "_failed"
RULE = "_rule"
REASON = "_reason"
DUPLICATE_RULE = "duplicate_key"
ROW_ID = ["_source_file", "_row_number"]


def _as_text(expr: nw.Expr) -> nw.Expr:
    return expr.cast(nw.String).fill_null("null")


def row_failure(rule: Rule) -> tuple[nw.Expr, nw.Expr] | None:
    """(fails flag, reason text) for a row rule; None for a table rule."""
    name = rule.check_name
    if isinstance(rule, NotNullRule):
        return nw.col(rule.column).is_null(), nw.lit(f"{name}: {rule.column} is null")
    if isinstance(rule, UniqueRule):
        first = rule.columns[0]
        fails = nw.col(first).count().over(*rule.columns) > 1
        keys = ", ".join(rule.columns)
        return fails, nw.lit(f"{name}: ({keys}) is not unique")
    if isinstance(rule, RangeRule):
        col = nw.col(rule.column)
        ok = nw.lit(True)
        if rule.min is not None:
            ok = ok & ((col >= rule.min) if rule.min_inclusive else (col > rule.min))
        if rule.max is not None:
            ok = ok & ((col <= rule.max) if rule.max_inclusive else (col < rule.max))
        lo = "[" if rule.min_inclusive else "("
        hi = "]" if rule.max_inclusive else ")"
        low = f"{rule.min:g}" if rule.min is not None else "-inf"
        high = f"{rule.max:g}" if rule.max is not None else "inf"
        bounds = f"{lo}{low}, {high}{hi}"
        reason = nw.concat_str(
            [nw.lit(f"{name}: {rule.column}="), _as_text(col), nw.lit(f" outside {bounds}")]
        )
        return ~col.is_null() & ~ok, reason
    if isinstance(rule, AcceptedValuesRule):
        col = nw.col(rule.column)
        reason = nw.concat_str(
            [nw.lit(f"{name}: {rule.column}='"), _as_text(col), nw.lit("' not in accepted values")]
        )
        return ~col.is_null() & ~col.is_in(rule.values), reason
    if isinstance(rule, RegexRule):
        col = nw.col(rule.column)
        reason = nw.concat_str(
            [
                nw.lit(f"{name}: {rule.column}='"),
                _as_text(col),
                nw.lit(f"' does not match {rule.pattern}"),
            ]
        )
        return ~col.is_null() & ~col.cast(nw.String).str.contains(rule.pattern), reason
    if isinstance(rule, SqlRule):
        holds = compile_expression(rule.expression).fill_null(True)
        return ~holds, nw.lit(f"{name}: `{rule.expression}` is false")
    return None


@dataclass(frozen=True)
class RuleCounts:
    """How many rows a row rule rejected."""

    rule: Rule
    failing: int
    total: int

    @property
    def fraction(self) -> float:
        return self.failing / self.total if self.total else 0.0

    @property
    def passed(self) -> bool:
        return self.fraction <= self.rule.max_failure_fraction


@dataclass(frozen=True)
class SilverSplit:
    """The outcome of refining one bronze batch."""

    silver: nw.LazyFrame[Any]
    quarantine: nw.LazyFrame[Any]
    flagged: nw.LazyFrame[Any]  # typed rows with one boolean column per row rule (for counting)
    flag_columns: dict[str, str]  # check name -> flag column
    missing_columns: list[str]


def refine(bronze: nw.LazyFrame[Any], dataset: DatasetConfig) -> SilverSplit:
    """Type, validate and deduplicate a bronze batch into silver and quarantine frames."""
    schema = bronze.collect_schema()
    typed = typed_columns(schema, dataset.columns)
    meta = [c for c in ("_ingested_at", "_source_file", "_row_number", "_batch_id") if c in schema]
    raw_cols = [c for c in schema.names() if c not in meta and c != MISSING_FIELDS]
    raw_alias = {c: f"_raw_{i}" for i, c in enumerate(raw_cols)}
    failures = list(typed.failures)
    if MISSING_FIELDS in schema:  # a line cut short: kept in bronze, quarantined here
        short = nw.col(MISSING_FIELDS)
        failures.append(
            (
                MISSING_FIELDS,
                short > 0,
                nw.concat_str(
                    [
                        nw.lit("row: "),
                        short.cast(nw.String),
                        nw.lit(" field(s) missing (line cut short)"),
                    ]
                ),
            )
        )

    flags: list[tuple[str, nw.Expr, nw.Expr]] = []
    stage = bronze.select(
        *[nw.col(c).alias(raw_alias[c]) for c in raw_cols],
        *[nw.col(c) for c in meta],
        *typed.values,
        *[f.alias(f"_cast_{i}") for i, (_, f, _) in enumerate(failures)],
        *[r.alias(f"_cast_reason_{i}") for i, (_, _, r) in enumerate(failures)],
    )
    if failures:
        flags.append(
            (
                CAST_ERROR_RULE,
                nw.any_horizontal(
                    *[nw.col(f"_cast_{i}") for i in range(len(failures))], ignore_nulls=True
                ),
                nw.concat_str(
                    [
                        nw.when(nw.col(f"_cast_{i}")).then(nw.col(f"_cast_reason_{i}"))
                        for i in range(len(failures))
                    ],
                    separator="; ",
                    ignore_nulls=True,
                ),
            )
        )
    for rule in dataset.all_rules():
        failure = row_failure(rule)
        if failure is not None:
            flags.append((rule.check_name, failure[0], failure[1]))

    flag_columns = {name: f"_flag_{i}" for i, (name, _, _) in enumerate(flags)}
    flagged = stage.with_columns(
        *[flag.fill_null(False).alias(flag_columns[name]) for name, flag, _ in flags]
    )
    flag_refs = [nw.col(c) for c in flag_columns.values()]
    any_failed = nw.any_horizontal(*flag_refs, ignore_nulls=True) if flag_refs else nw.lit(False)
    first_rule: nw.Expr = nw.lit(None, dtype=nw.String())
    for name, _, _ in reversed(flags):
        first_rule = nw.when(nw.col(flag_columns[name])).then(nw.lit(name)).otherwise(first_rule)
    reasons = (
        nw.concat_str(
            [nw.when(nw.col(flag_columns[name])).then(reason) for name, _, reason in flags],
            separator="; ",
            ignore_nulls=True,
        )
        if flags
        else nw.lit("")
    )
    marked = flagged.with_columns(
        any_failed.alias(FAILED), first_rule.alias(RULE), reasons.alias(REASON)
    )

    typed_names = [c.name for c in dataset.columns]
    valid = marked.filter(~nw.col(FAILED))
    kept = valid.unique(subset=dataset.keys, keep="last", order_by=dataset.order_by)
    superseded = valid.join(kept.select(*ROW_ID), on=ROW_ID, how="anti").with_columns(
        nw.lit(DUPLICATE_RULE).alias(RULE),
        nw.lit(
            f"{DUPLICATE_RULE}: a later record has the same key ({', '.join(dataset.keys)})"
        ).alias(REASON),
    )
    rejected = marked.filter(nw.col(FAILED))
    quarantine_cols = [
        *[nw.col(raw_alias[c]).cast(nw.String).alias(c) for c in raw_cols],
        *[nw.col(c) for c in meta],
        nw.col(RULE),
        nw.col(REASON),
    ]
    quarantine = nw.concat(
        [rejected.select(*quarantine_cols), superseded.select(*quarantine_cols)], how="vertical"
    )
    silver = kept.select(*[nw.col(c) for c in typed_names], *[nw.col(c) for c in meta])
    return SilverSplit(
        silver=silver,
        quarantine=quarantine,
        flagged=flagged,
        flag_columns=flag_columns,
        missing_columns=typed.missing,
    )


# Stands for "values parse as the declared types" in the counts (a warning, never blocking).
_CAST_RULE = SqlRule(type="sql", expression="true", name=CAST_ERROR_RULE, severity="warn")


def count_failures(split: SilverSplit, dataset: DatasetConfig) -> dict[str, RuleCounts]:
    """Failing-row counts per row rule (and of ``schema_conformance``), in one aggregation."""
    rules = {CAST_ERROR_RULE: _CAST_RULE, **{r.check_name: r for r in dataset.all_rules()}}
    row_rules = [n for n in split.flag_columns if n in rules]
    aggs = [nw.col(split.flag_columns[n]).cast(nw.Int64).sum().alias(n) for n in row_rules]
    counts = split.flagged.select(nw.len().alias("_total"), *aggs).collect()
    total = int(counts["_total"][0])
    return {
        n: RuleCounts(rule=rules[n], failing=int(counts[n][0] or 0), total=total) for n in row_rules
    }


@dataclass(frozen=True)
class TableRuleResult:
    """The verdict of a table-level rule."""

    rule: Rule
    passed: bool
    observed: str


def table_rule_results(
    silver: nw.DataFrame[Any],
    dataset: DatasetConfig,
    as_of: datetime,
    raw_columns: int | None = None,
) -> list[TableRuleResult]:
    """Evaluate row_count_min, column_count and freshness rules on the publishable table.

    ``raw_columns`` is the number of source columns the batch arrived with (column_count rules
    judge the source, since silver always has its declared columns).
    """
    results: list[TableRuleResult] = []
    for rule in dataset.all_rules():
        if isinstance(rule, RowCountMinRule):
            n = silver.shape[0]
            results.append(TableRuleResult(rule, n >= rule.min, f"{n} rows (min {rule.min})"))
        elif isinstance(rule, ColumnCountRule):
            # Counted on the raw batch: silver always has its declared columns, the source may not.
            n = (
                raw_columns
                if raw_columns is not None
                else len([c for c in silver.columns if not c.startswith("_")])
            )
            ok = (rule.min is None or n >= rule.min) and (rule.max is None or n <= rule.max)
            results.append(TableRuleResult(rule, ok, f"{n} columns"))
        elif isinstance(rule, FreshnessRule):
            newest = silver.select(nw.col(rule.column).max())[rule.column][0]
            if newest is None:
                results.append(TableRuleResult(rule, False, "no timestamps"))
                continue
            age: timedelta = as_of - newest
            ok = age <= rule.max_age
            results.append(TableRuleResult(rule, ok, f"newest {newest.isoformat()}, age {age}"))
    return results
