"""Cross-references of a use case, checked when it loads instead of when data flows.

Tables are walked in the order the graph builds them: silver (declared columns plus lineage),
gold (derive, filter, then the table logic; joins suffix clashing right columns with ``_right``),
feature tables (entity key, timestamp and features), the point-in-time training set, then the
model. Every table read, column read (including the columns an expression reads) and model input
must exist where it is used; each miss is a :class:`Problem` at its own key path, with a
did-you-mean. A table that is itself broken is not checked further, so one mistake gives one
error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlops_assets.config.expressions import parse_expression, referenced_columns
from mlops_assets.config.problems import Problem, did_you_mean, unknown_column
from mlops_assets.config.tables import (
    AggregateTable,
    ExpressionFeature,
    FeatureTableConfig,
    GoldTable,
    JoinTable,
)

if TYPE_CHECKING:
    from mlops_assets.config.use_case import UseCaseConfig

_RENAME = "give one of them another name"
Loc = tuple[str | int, ...]
Columns = dict[str, list[str] | None]
"""Table name (``silver.x``) -> its columns, or None when the table is broken."""


class _Checker:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def columns(self, loc: Loc, names: list[str], known: list[str], table: str) -> None:
        for i, name in enumerate(names):
            if name not in known:
                self.problems.append(unknown_column((*loc, i), name, known, table))

    def column(self, loc: Loc, name: str | None, known: list[str], table: str) -> None:
        if name is not None and name not in known:
            self.problems.append(unknown_column(loc, name, known, table))

    def expression(self, loc: Loc, text: str | None, known: list[str], table: str) -> None:
        if text is None:
            return
        for name in sorted(referenced_columns(parse_expression(text))):
            if name not in known:
                self.problems.append(unknown_column(loc, name, known, table, text))

    def table(self, loc: Loc, name: str, tables: Columns, reader: str) -> list[str] | None:
        """The columns of table ``name`` read at ``loc`` (None, with a problem, if unknown)."""
        if name not in tables:
            self.problems.append(
                Problem(
                    loc,
                    f"{reader} reads unknown table `{name}`",
                    did_you_mean(name, tables, what="tables"),
                )
            )
            return None
        return tables[name]


def _gold(check: _Checker, i: int, gold: GoldTable, tables: Columns, later: set[str]) -> None:
    loc: Loc = ("gold", i)
    reader, label = f"gold table `{gold.name}`", f"the input of gold table `{gold.name}`"
    reads = (
        [("left", gold.left), ("right", gold.right)]
        if isinstance(gold, JoinTable)
        else [("source", gold.source)]
    )
    inputs: list[list[str]] = []
    for key, name in reads:
        if name in later:
            check.problems.append(
                Problem(
                    (*loc, key),
                    f"{reader} reads `{name}`, which is defined after it",
                    f"move `{name.removeprefix('gold.')}` above `{gold.name}` in `gold`",
                )
            )
            continue
        columns = check.table((*loc, key), name, tables, reader)
        if columns is not None:
            inputs.append(columns)
    tables[f"gold.{gold.name}"] = None
    if len(inputs) != len(reads):
        return
    before = len(check.problems)
    if isinstance(gold, JoinTable):
        left, right = inputs
        check.columns((*loc, "on"), gold.on, left, f"`{gold.left}`")
        check.columns((*loc, "on"), gold.on, right, f"`{gold.right}`")
        renamed = [f"{c}_right" if c in left else c for c in right if c not in gold.on]
        source = [*left, *renamed]
    else:
        source = inputs[0]
    for k, derived in enumerate(gold.derive):
        check.expression((*loc, "derive", k, "expr"), derived.expr, source, label)
    prepared = [*source, *(d.name for d in gold.derive if d.name not in source)]
    check.expression((*loc, "filter"), gold.filter, prepared, label)
    if isinstance(gold, JoinTable):
        check.columns((*loc, "select"), gold.select or [], prepared, label)
        output = list(gold.select) if gold.select else prepared
    elif isinstance(gold, AggregateTable):
        check.columns((*loc, "group_by"), gold.group_by, prepared, label)
        for k, agg in enumerate(gold.aggregations):
            check.column((*loc, "aggregations", k, "column"), agg.column, prepared, label)
        output = [*gold.group_by, *(a.name for a in gold.aggregations)]
    else:
        check.columns((*loc, "keys"), gold.keys, prepared, label)
        check.columns((*loc, "order_by"), gold.order_by, prepared, label)
        output = prepared
    if len(check.problems) == before:
        tables[f"gold.{gold.name}"] = output


def _feature_table(
    check: _Checker, i: int, table: FeatureTableConfig, tables: Columns
) -> list[str] | None:
    loc: Loc = ("feature_tables", i)
    source = check.table((*loc, "source"), table.source, tables, f"feature table `{table.name}`")
    if source is None:
        return None
    before, label = len(check.problems), f"`{table.source}`"
    check.column((*loc, "entity_key"), table.entity_key, source, label)
    check.column((*loc, "timestamp"), table.timestamp, source, label)
    for j, feature in enumerate(table.features):
        if isinstance(feature, ExpressionFeature):
            check.expression((*loc, "features", j, "expr"), feature.expr, source, label)
        else:
            check.column((*loc, "features", j, "column"), feature.column, source, label)
    if len(check.problems) != before:
        return None
    return [table.entity_key, table.timestamp, *(f.name for f in table.features)]


def _training_set(
    check: _Checker, uc: UseCaseConfig, tables: Columns, features: Columns
) -> tuple[list[str], list[str]] | None:
    """(training set columns, feature table columns), or None when either is broken."""
    ts = uc.training_set
    if ts is None:
        return None
    loc: Loc = ("training_set",)
    if ts.feature_table not in features:
        check.problems.append(
            Problem(
                (*loc, "feature_table"),
                f"training_set.feature_table `{ts.feature_table}` is not a feature table of "
                "this use case",
                did_you_mean(ts.feature_table, features, what="feature tables"),
            )
        )
        return None
    labels = check.table((*loc, "labels"), ts.labels, tables, "the training set")
    feature_columns = features[ts.feature_table]
    if labels is None or feature_columns is None:
        return None
    before, label = len(check.problems), f"the label table `{ts.labels}`"
    entity = uc.feature_table(ts.feature_table).entity_key
    if entity not in labels:
        check.problems.append(
            Problem(
                (*loc, "labels"),
                f"{label} has no column `{entity}`, the entity key of feature table "
                f"`{ts.feature_table}` that labels are joined on",
                did_you_mean(entity, labels, what=f"columns of {label}"),
            )
        )
    check.column((*loc, "label_column"), ts.label_column, labels, label)
    check.column((*loc, "label_timestamp"), ts.label_timestamp, labels, label)
    if len(check.problems) != before:
        return None
    left = [entity, ts.label_timestamp, ts.label_column]
    keys = (entity, uc.feature_table(ts.feature_table).timestamp)  # the timestamp: `feature_ts`
    matched = [f"{c}_right" if c in left else c for c in feature_columns if c not in keys]
    return [*left, *matched, "feature_ts"], feature_columns


def _model(check: _Checker, uc: UseCaseConfig, training: list[str], scored: list[str]) -> None:
    model = uc.model
    assert model is not None
    ts = uc.training_set
    assert ts is not None
    trained_on, served = f"the training set `{ts.name}`", f"feature table `{ts.feature_table}`"
    check.column(("model", "label"), model.label, training, trained_on)
    check.column(("model", "entity_key"), model.entity_key, scored, served)
    if model.entity_key in scored:  # the split hashes it in the training set too
        check.column(("model", "entity_key"), model.entity_key, training, trained_on)
    check.column(("model", "timestamp"), model.timestamp, scored, served)
    for role in ("numeric_features", "categorical_features"):
        names: list[str] = getattr(model, role)
        check.columns(("model", role), names, scored, served)
        for i, name in enumerate(names):  # in the training set too (not renamed by its join)
            if name in scored:
                check.column(("model", role, i), name, training, trained_on)
    drifted = uc.monitoring.drift.per_column
    for name in drifted:
        if name not in model.features:
            check.problems.append(
                Problem(
                    ("monitoring", "drift", "per_column", name),
                    f"drift override for `{name}`, which is not an input of model `{model.name}`",
                    did_you_mean(name, model.features, what="model features"),
                )
            )


def use_case_problems(uc: UseCaseConfig) -> list[Problem]:
    """Every broken table or column reference of ``uc``, in graph order."""
    check = _Checker()
    tables: Columns = {}
    for i, ds in enumerate(uc.datasets):
        if f"silver.{ds.name}" in tables:
            check.problems.append(
                Problem(("datasets", i, "name"), f"dataset `{ds.name}` is declared twice", _RENAME)
            )
        tables[f"silver.{ds.name}"] = ds.silver_columns()
    for i, gold in enumerate(uc.gold):
        if f"silver.{gold.name}" in tables or f"gold.{gold.name}" in tables:
            check.problems.append(
                Problem(
                    ("gold", i, "name"),
                    f"table name `{gold.name}` is already used by a dataset or gold table",
                    _RENAME,
                )
            )
            tables.setdefault(f"gold.{gold.name}", None)  # readers of it are not checked
            continue
        later = {f"gold.{g.name}" for g in uc.gold[i:]}
        _gold(check, i, gold, tables, later)
    features: Columns = {}
    for i, table in enumerate(uc.feature_tables):
        if table.name in features:
            check.problems.append(
                Problem(
                    ("feature_tables", i, "name"),
                    f"feature table `{table.name}` is declared twice",
                    _RENAME,
                )
            )
        features[table.name] = _feature_table(check, i, table, tables)
    if uc.model is not None and uc.training_set is None:
        check.problems.append(
            Problem(
                ("model",),
                "a `model` needs a `training_set` to train on",
                "add a `training_set` section naming a feature table and the label table",
            )
        )
    found = _training_set(check, uc, tables, features)
    if found is not None and uc.model is not None:
        _model(check, uc, *found)
    return check.problems
