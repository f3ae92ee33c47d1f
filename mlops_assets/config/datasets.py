"""Datasets: where raw files land, the typed silver schema, keys and data-quality rules."""

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from mlops_assets.config.base import StrictModel
from mlops_assets.config.names import FolderName
from mlops_assets.config.problems import ConfigProblemsError, Problem, unknown_column
from mlops_assets.config.rule_strings import rule_string_to_mapping
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

DType = Literal["string", "int64", "float64", "bool", "date", "datetime"]
NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
META_COLUMNS = ("_ingested_at", "_source_file", "_row_number", "_batch_id")
"""Lineage columns bronze adds to every row; silver keeps them (rules may read them)."""


class ColumnSpec(StrictModel):
    """One typed column of a silver table."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="Column name in silver.")
    dtype: DType = Field(description="Target type; raw values are cast, failures quarantined.")
    nullable: bool = Field(default=True, description="False adds a not-null rule (quarantine).")
    source: str | None = Field(
        default=None, description="Raw column name in the landing file when it differs."
    )
    description: str | None = Field(default=None, description="Shown in the Dagster UI.")

    @property
    def source_name(self) -> str:
        return self.source or self.name


class LandingSource(StrictModel):
    """Files dropped under ``<data_dir>/landing/<use_case>/<subdir>/<YYYY-MM-DD>/``."""

    type: Literal["landing"] = Field(default="landing", description="Source kind.")
    format: Literal["csv", "parquet"] = Field(default="csv", description="File format.")
    subdir: FolderName | None = Field(
        default=None,
        description="Folder under the use case's landing root (default: dataset name): one "
        "folder name of letters, digits, `_` and `-` (no `/`, `..` or absolute path).",
    )
    delimiter: str = Field(default=",", min_length=1, max_length=1, description="CSV delimiter.")


def _string_rules_allowed(schema: dict[str, Any]) -> None:
    """Rules may also be short strings (``tenure >= 0``): tell editors, not only the loader."""
    schema["items"] = {
        "anyOf": [
            {
                "type": "string",
                "description": "A rule as text, e.g. `x is not null`, `x >= 0`, "
                "`x in ('a', 'b')`, `x matches '^a$'`, `row_count >= 10`, or any SQL condition.",
            },
            schema["items"],
        ]
    }


class DatasetConfig(StrictModel):
    """A raw dataset ingested to bronze and refined to silver (+ quarantine)."""

    name: str = Field(pattern=NAME_PATTERN, description="Table name in bronze and silver.")
    description: str = Field(default="", description="What the dataset holds.")
    source: LandingSource = Field(default_factory=LandingSource, description="Where files land.")
    columns: list[ColumnSpec] = Field(min_length=1, description="The silver schema.")
    keys: list[str] = Field(min_length=1, description="Columns identifying a record (dedup).")
    order_by: list[str] = Field(
        default_factory=lambda: ["_ingested_at", "_source_file", "_row_number"],
        description="On duplicate keys the record with the greatest values here is kept.",
    )
    event_time: str | None = Field(
        default=None, description="Timestamp column of the business event (freshness, windows)."
    )
    rules: list[Rule] = Field(
        default_factory=list,
        description="Data-quality rules.",
        json_schema_extra=_string_rules_allowed,
    )
    schema_evolution: Literal["fail", "add_columns"] = Field(
        default="add_columns",
        description="What bronze does when a file brings new columns: merge them or refuse.",
    )

    @field_validator("rules", mode="before")
    @classmethod
    def _string_rules(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [rule_string_to_mapping(v) if isinstance(v, str) else v for v in value]
        return value

    @model_validator(mode="after")
    def _references(self) -> "DatasetConfig":
        names = [c.name for c in self.columns]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"columns declared twice: {duplicates}")
        problems = self.column_problems()
        if problems:
            raise ConfigProblemsError(problems)
        checks = [r.check_name for r in self.all_rules()]
        clashing = sorted({c for c in checks if checks.count(c) > 1})
        if clashing:
            raise ValueError(f"two rules share the check name(s) {clashing}; give one a `name`")
        return self

    def column_problems(self) -> list[Problem]:
        """Every reference to a column this dataset does not have, at its own key path."""
        known = self.silver_columns()
        table = f"dataset `{self.name}`"
        refs: list[tuple[tuple[str | int, ...], str]] = [
            *((("keys", i), c) for i, c in enumerate(self.keys)),
            *((("order_by", i), c) for i, c in enumerate(self.order_by)),
        ]
        if self.event_time:
            refs.append((("event_time",), self.event_time))
        problems = [unknown_column(loc, c, known, table) for loc, c in refs if c not in known]
        for i, rule in enumerate(self.rules):
            if isinstance(rule, UniqueRule):
                for j, column in enumerate(rule.columns):
                    if column not in known:
                        problems.append(
                            unknown_column(("rules", i, "columns", j), column, known, table)
                        )
            elif isinstance(rule, SqlRule):
                for column in rule_columns(rule):
                    if column not in known:
                        loc = ("rules", i, "expression")
                        problems.append(unknown_column(loc, column, known, table, rule.expression))
            elif (
                not isinstance(rule, RowCountMinRule | ColumnCountRule) and rule.column not in known
            ):
                problems.append(unknown_column(("rules", i, "column"), rule.column, known, table))
        return problems

    def silver_columns(self) -> list[str]:
        """Columns of the silver table: the declared ones, then the lineage columns."""
        return [c.name for c in self.columns] + list(META_COLUMNS)

    def all_rules(self) -> list[Rule]:
        """Declared rules plus a not-null rule per non-nullable or key column."""
        implied: list[Rule] = []
        explicit = {r.column for r in self.rules if isinstance(r, NotNullRule)}
        for col in self.columns:
            if (not col.nullable or col.name in self.keys) and col.name not in explicit:
                implied.append(NotNullRule(type="not_null", column=col.name))
        return implied + list(self.rules)

    @property
    def landing_subdir(self) -> str:
        return self.source.subdir or self.name


def rule_columns(rule: Rule) -> list[str]:
    """Columns a rule reads."""
    if isinstance(rule, UniqueRule):
        return list(rule.columns)
    if isinstance(rule, NotNullRule | RangeRule | AcceptedValuesRule | RegexRule | FreshnessRule):
        return [rule.column]
    if isinstance(rule, SqlRule):
        from mlops_assets.config.expressions import parse_expression, referenced_columns

        return sorted(referenced_columns(parse_expression(rule.expression)))
    return []
