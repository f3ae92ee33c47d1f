"""Typed data-quality rules, written in YAML either as mappings or as short strings.

Row rules (not_null, unique, range, accepted_values, regex, sql) send failing rows to quarantine
with the rule name and a reason. Table rules (row_count_min, column_count, freshness) judge the
whole table. Every rule becomes a Dagster asset check; a ``blocking`` rule stops publication
(write-audit-publish) when its failure fraction exceeds ``max_failure_fraction``.
"""

import re
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from mlops_assets.config.base import StrictModel

Scalar = str | int | float | bool


class RuleBase(StrictModel):
    """Fields shared by every rule."""

    name: str | None = Field(
        default=None,
        description="Check name shown in the UI; derived from the rule when omitted.",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
    )
    severity: Literal["warn", "error"] = Field(
        default="error", description="Severity of the asset check when the rule fails."
    )
    blocking: bool = Field(
        default=False,
        description="When true, a failure stops publication of the table (write-audit-publish).",
    )
    max_failure_fraction: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="Row rules: the check passes while the failing fraction is at most this.",
    )
    description: str | None = Field(default=None, description="Why this rule exists.")

    def default_name(self) -> str:
        raise NotImplementedError

    @property
    def check_name(self) -> str:
        return self.name or self.default_name()


class NotNullRule(RuleBase):
    type: Literal["not_null"] = Field(description="Column must not be null.")
    column: str = Field(description="Column to test.")

    def default_name(self) -> str:
        return f"{self.column}_not_null"


class UniqueRule(RuleBase):
    type: Literal["unique"] = Field(description="Columns must be unique together.")
    columns: list[str] = Field(min_length=1, description="Columns that together must be unique.")

    def default_name(self) -> str:
        return "_".join(self.columns) + "_unique"


class RangeRule(RuleBase):
    type: Literal["range"] = Field(description="Numeric column within bounds (nulls pass).")
    column: str = Field(description="Column to test.")
    min: float | None = Field(default=None, description="Lower bound.")
    max: float | None = Field(default=None, description="Upper bound.")
    min_inclusive: bool = Field(default=True, description="Whether the lower bound is allowed.")
    max_inclusive: bool = Field(default=True, description="Whether the upper bound is allowed.")

    @model_validator(mode="after")
    def _bounds(self) -> "RangeRule":
        if self.min is None and self.max is None:
            raise ValueError("a range rule needs `min`, `max` or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self

    def default_name(self) -> str:
        return f"{self.column}_in_range"


class AcceptedValuesRule(RuleBase):
    type: Literal["accepted_values"] = Field(description="Column takes only listed values.")
    column: str = Field(description="Column to test.")
    values: list[Scalar] = Field(min_length=1, description="The accepted values (nulls pass).")

    def default_name(self) -> str:
        return f"{self.column}_accepted_values"


_BEYOND_RE2 = re.compile(r"\(\?(?:[=!>(]|<[=!]|P=)|\\[1-9Zg]|[*+?}]\+")
"""Constructs Python's ``re`` accepts and RE2-style engines do not (look-around, atomic groups,
conditionals, backreferences, ``\\Z``, possessive quantifiers): the patterns worth checking with
the engine. Others compile in both."""


class RegexRule(RuleBase):
    type: Literal["regex"] = Field(description="String column matches a regular expression.")
    column: str = Field(description="Column to test.")
    pattern: str = Field(description="Regular expression; anchor it with ^...$ for a full match.")

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regular expression {value!r}: {exc}") from exc
        # The data engines use RE2-style syntax (no look-around, no backreferences): a pattern
        # Python accepts may still fail there at run time, so check it where it will run. Only
        # patterns with a construct outside that syntax need the engine (Polars is slow to
        # import, and the code location validates every rule when it loads).
        if not _BEYOND_RE2.search(value):
            return value
        import polars as pl

        try:
            pl.Series([""], dtype=pl.String).str.contains(value)
        except pl.exceptions.PolarsError as exc:
            lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
            first = next((ln for ln in lines if ln.startswith("error:")), lines[0] if lines else "")
            raise ValueError(
                f"regular expression {value!r} is not supported by the data engine "
                f"(no look-around or backreferences): {first}"
            ) from exc
        return value

    def default_name(self) -> str:
        return f"{self.column}_matches_pattern"


class SqlRule(RuleBase):
    type: Literal["sql"] = Field(description="A SQL boolean expression every row must satisfy.")
    expression: str = Field(description="E.g. `monthly_charges <= total_charges + 1`.")

    @field_validator("expression")
    @classmethod
    def _parses(cls, value: str) -> str:
        from mlops_assets.config.expressions import parse_expression
        from mlops_assets.errors import ConfigError

        try:
            parse_expression(value)
        except ConfigError as exc:  # a ValueError lets the loader add the file, line and key
            raise ValueError(exc.message) from exc
        return value

    def default_name(self) -> str:
        slug = re.sub(r"[^A-Za-z0-9]+", "_", self.expression).strip("_").lower()
        return f"sql_{slug[:40]}"


class RowCountMinRule(RuleBase):
    type: Literal["row_count_min"] = Field(description="The table has at least `min` rows.")
    min: int = Field(ge=0, description="Minimum row count.")

    def default_name(self) -> str:
        return f"row_count_at_least_{self.min}"


class ColumnCountRule(RuleBase):
    type: Literal["column_count"] = Field(description="The table has a number of columns in range.")
    min: int | None = Field(default=None, ge=0, description="Minimum column count.")
    max: int | None = Field(default=None, ge=0, description="Maximum column count.")

    def default_name(self) -> str:
        return "column_count"


class FreshnessRule(RuleBase):
    type: Literal["freshness"] = Field(description="Newest timestamp is recent enough.")
    column: str = Field(description="Timestamp column.")
    max_age: timedelta = Field(
        description="Maximum age of the newest row, relative to the end of the partition "
        "window (or now when unpartitioned). ISO-8601 duration or seconds, e.g. PT48H."
    )

    def default_name(self) -> str:
        return f"{self.column}_fresh"


Rule = Annotated[
    NotNullRule
    | UniqueRule
    | RangeRule
    | AcceptedValuesRule
    | RegexRule
    | SqlRule
    | RowCountMinRule
    | ColumnCountRule
    | FreshnessRule,
    Field(discriminator="type"),
]

ROW_RULE_TYPES = (NotNullRule, UniqueRule, RangeRule, AcceptedValuesRule, RegexRule, SqlRule)
TABLE_RULE_TYPES = (RowCountMinRule, ColumnCountRule, FreshnessRule)
