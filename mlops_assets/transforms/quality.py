"""Data-quality rules as vectorised narwhals expressions, quarantine and deduplication.

Every raw row ends in exactly one place: the silver table or the quarantine table (with the first
rule it broke and every reason), so ``bronze = silver + quarantine`` always holds.

Cost model (what makes ``refine`` fast): bronze is read and typed once; every check is a boolean
column of that one pass and the record kept per key is a window over narrow columns (no sort of
the whole batch); reasons (string building) are computed only for the rows that are rejected.
"""

from collections.abc import Callable
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
from mlops_assets.engines.frames import is_polars, persist
from mlops_assets.transforms.schema import TypedColumns, typed_columns
from mlops_assets.transforms.schema_contract import CAST_ERROR_RULE

MISSING_FIELDS = "_missing_fields"  # bronze lineage: fields a CSV line lacked (a cut line)

META = ("_ingested_at", "_source_file", "_row_number", "_batch_id")
FAILED = "_failed"
KEPT = "_kept"
GROUP_ROWS = "_group_rows"
SCHEMA_REASON = "_schema_reason"
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
    flag_counts: nw.LazyFrame[Any]  # one row: `_total` rows and failing rows per flag column
    flag_columns: dict[str, str]  # check name -> flag column
    missing_columns: list[str]


def _cut_lines(schema: nw.Schema) -> tuple[nw.Expr, nw.Expr] | None:
    """(flag, reason) of a line cut short, when bronze counts the fields a line lacked."""
    if MISSING_FIELDS not in schema:
        return None
    short = nw.col(MISSING_FIELDS)
    reason = nw.concat_str(
        [nw.lit("row: "), short.cast(nw.String), nw.lit(" field(s) missing (line cut short)")]
    )
    return short > 0, reason


def _schema_check(schema: nw.Schema, typed: TypedColumns) -> tuple[nw.Expr, nw.Expr] | None:
    """(flag, reason) of ``schema_conformance``, both read from the raw bronze columns.

    None when bronze has none of the declared columns and no cut-line count (nothing to check).
    """
    cut = _cut_lines(schema)
    if not typed.failures and cut is None:
        return None
    parsed = set(typed.parsed)
    failures = [(f, r) for name, f, r in typed.failures if name in parsed]
    if cut is not None:
        failures.append((cut[0].fill_null(False), cut[1]))
    if not failures:
        return nw.lit(False), nw.lit(None, dtype=nw.String())
    flag = nw.any_horizontal(*[f for f, _ in failures], ignore_nulls=True)
    reason = nw.concat_str(
        [nw.when(f).then(r) for f, r in failures], separator="; ", ignore_nulls=True
    )
    return flag, reason


def _row_checks(dataset: DatasetConfig) -> list[tuple[str, nw.Expr, nw.Expr]]:
    """(check name, failing flag, reason) of every row rule, read from the typed columns."""
    checks = []
    for rule in dataset.all_rules():
        failure = row_failure(rule)
        if failure is not None:
            checks.append((rule.check_name, failure[0], failure[1]))
    return checks


def refine(bronze: nw.LazyFrame[Any], dataset: DatasetConfig) -> SilverSplit:
    """Type, validate and deduplicate a bronze batch into silver and quarantine frames.

    One pass over bronze types every column, flags every row check and picks the record kept
    per key (keep the greatest ``order_by`` among rows passing every check); silver, the failure
    counts and the ids of the rows not kept come out of that pass together (Polars: one
    ``collect_all``; other engines: one cached frame). Only the rows not kept (usually a few per
    cent) are read again from bronze, for their raw text and every reason.
    """
    schema = bronze.collect_schema()
    typed = typed_columns(schema, dataset.columns, polars=is_polars(bronze))
    meta = [c for c in META if c in schema]
    schema_check = _schema_check(schema, typed)
    row_checks = _row_checks(dataset)
    names = [CAST_ERROR_RULE] if schema_check else []
    flag_columns = {n: f"_flag_{i}" for i, n in enumerate(names + [n for n, _, _ in row_checks])}
    typed_rows = typed.prepare(bronze).select(
        *typed.values,
        *[nw.col(c) for c in meta],
        *([schema_check[0].alias(flag_columns[CAST_ERROR_RULE])] if schema_check else []),
    )
    flags = [nw.col(c) for c in flag_columns.values()]
    checked = _mark_kept(
        typed_rows.with_columns(
            *[f.fill_null(False).alias(flag_columns[n]) for n, f, _ in row_checks]
        ).with_columns(
            (nw.any_horizontal(*flags, ignore_nulls=True) if flags else nw.lit(False)).alias(FAILED)
        ),
        dataset,
    )

    def outputs(rows: nw.LazyFrame[Any]) -> list[nw.LazyFrame[Any]]:
        silver = rows.filter(nw.col(KEPT)).select(
            *[nw.col(c.name) for c in dataset.columns], *[nw.col(c) for c in meta]
        )
        counts = rows.select(
            nw.len().alias("_total"),
            *[nw.col(c).cast(nw.Int64).sum().alias(c) for c in flag_columns.values()],
        )
        rejected = rows.filter(~nw.col(KEPT)).select(*ROW_ID, *flags, nw.col(FAILED))
        return [silver, counts, rejected]

    silver, counts, rejected = _compute_together(checked, outputs)
    return SilverSplit(
        silver=silver,
        quarantine=_quarantine(bronze, rejected, dataset, flag_columns),
        flag_counts=counts,
        flag_columns=flag_columns,
        missing_columns=typed.missing,
    )


def _mark_kept(rows: nw.LazyFrame[Any], dataset: DatasetConfig) -> nw.LazyFrame[Any]:
    """Add ``_kept``: per key, the row with the greatest ``order_by`` of those passing every check.

    Keys are counted first (one hash aggregation); only the rows of keys seen more than once
    (usually a few per cent) are ranked by ``order_by``, so the batch is never sorted whole.
    """
    group = [*dataset.keys, FAILED]
    counted = rows.with_columns(nw.len().over(*group).alias(GROUP_ROWS))
    rank_from_last = (
        nw.col(ROW_ID[1]).cum_count(reverse=True).over(*group, order_by=dataset.order_by)
    )
    once = counted.filter(nw.col(GROUP_ROWS) == 1).with_columns((~nw.col(FAILED)).alias(KEPT))
    repeated = counted.filter(nw.col(GROUP_ROWS) > 1).with_columns(
        (~nw.col(FAILED) & (rank_from_last == 1)).alias(KEPT)
    )
    return nw.concat([once, repeated], how="vertical").drop(GROUP_ROWS)


def _compute_together(
    frame: nw.LazyFrame[Any],
    outputs: Callable[[nw.LazyFrame[Any]], list[nw.LazyFrame[Any]]],
) -> list[nw.LazyFrame[Any]]:
    """Several results of one frame, computing the frame once.

    The frame is persisted (Polars: collected, a few hundred bytes per row; Spark: cached on the
    cluster) and the results stay lazy over it. Polars' ``collect_all`` was measured to run a
    shared subplan once per result, so it is not used here.
    """
    return outputs(persist(frame))


def _quarantine(
    bronze: nw.LazyFrame[Any],
    rejected: nw.LazyFrame[Any],
    dataset: DatasetConfig,
    flag_columns: dict[str, str],
) -> nw.LazyFrame[Any]:
    """Rows not kept, with their raw text, the first check broken and every reason.

    ``rejected`` holds the row ids, flags and failed marker of those rows: only they are read
    again from bronze and typed again for their reasons. A row that broke no check was
    superseded by a later record with the same key.
    """
    schema = bronze.collect_schema()
    typed = typed_columns(schema, dataset.columns, polars=is_polars(bronze))
    meta = [c for c in META if c in schema]
    raw_cols = [c for c in schema.names() if c not in meta and c != MISSING_FIELDS]
    raw_alias = {c: f"_raw_{i}" for i, c in enumerate(raw_cols)}
    schema_check = _schema_check(schema, typed)
    rows = typed.prepare(bronze.join(rejected, on=ROW_ID, how="inner")).select(
        *[nw.col(c).alias(raw_alias[c]) for c in raw_cols],
        *[nw.col(c) for c in meta],
        *typed.values,
        *([schema_check[1].alias(SCHEMA_REASON)] if schema_check else []),
        *[nw.col(c) for c in flag_columns.values()],
        nw.col(FAILED),
    )
    checks = [(n, r) for n, _, r in _row_checks(dataset)]
    if schema_check:
        checks.insert(0, (CAST_ERROR_RULE, nw.col(SCHEMA_REASON)))
    first_rule: nw.Expr = nw.lit(DUPLICATE_RULE)
    for name, _ in reversed(checks):
        first_rule = nw.when(nw.col(flag_columns[name])).then(nw.lit(name)).otherwise(first_rule)
    reasons = nw.concat_str(
        [nw.when(nw.col(flag_columns[name])).then(reason) for name, reason in checks],
        separator="; ",
        ignore_nulls=True,
    )
    duplicate = f"{DUPLICATE_RULE}: a later record has the same key ({', '.join(dataset.keys)})"
    return rows.select(
        *[nw.col(raw_alias[c]).cast(nw.String).alias(c) for c in raw_cols],
        *[nw.col(c) for c in meta],
        first_rule.alias(RULE),
        nw.when(nw.col(FAILED)).then(reasons).otherwise(nw.lit(duplicate)).alias(REASON),
    )


# Stands for "values parse as the declared types" in the counts (a warning, never blocking).
_CAST_RULE = SqlRule(type="sql", expression="true", name=CAST_ERROR_RULE, severity="warn")


def count_failures(split: SilverSplit, dataset: DatasetConfig) -> dict[str, RuleCounts]:
    """Failing-row counts per row rule (and of ``schema_conformance``), from the refine's pass."""
    rules = {CAST_ERROR_RULE: _CAST_RULE, **{r.check_name: r for r in dataset.all_rules()}}
    row_rules = [n for n in split.flag_columns if n in rules]
    counts = split.flag_counts.collect()
    total = int(counts["_total"][0])
    return {
        n: RuleCounts(
            rule=rules[n], failing=int(counts[split.flag_columns[n]][0] or 0), total=total
        )
        for n in row_rules
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
