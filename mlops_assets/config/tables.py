"""Gold tables and feature tables, declared in YAML and built by generic transforms."""

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from mlops_assets.config.base import StrictModel
from mlops_assets.config.datasets import NAME_PATTERN, DType


def _parses(value: str | None) -> str | None:
    """Reject an expression that does not parse when the config loads, not when data flows."""
    if value is not None:
        from mlops_assets.config.expressions import parse_expression
        from mlops_assets.errors import ConfigError

        try:
            parse_expression(value)
        except ConfigError as exc:  # a ValueError lets the loader add the file, line and key
            raise ValueError(exc.message) from exc
    return value


class DerivedColumn(StrictModel):
    """A column computed from a SQL expression."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="New column name.")
    expr: str = Field(description="SQL expression, e.g. `monthly_charges * 12`.")

    _expr_parses = field_validator("expr")(_parses)


class Aggregation(StrictModel):
    """One aggregate output column."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="Output column.")
    agg: Literal["count", "sum", "mean", "min", "max", "n_unique", "std", "median"] = Field(
        description="Aggregate function."
    )
    column: str | None = Field(default=None, description="Input column (not needed for count).")

    @model_validator(mode="after")
    def _column(self) -> "Aggregation":
        if self.agg != "count" and self.column is None:
            raise ValueError(f"aggregation {self.name!r} ({self.agg}) needs a `column`")
        return self


class GoldBase(StrictModel):
    name: str = Field(pattern=NAME_PATTERN, description="Gold table name.")
    description: str = Field(default="", description="Business meaning of the table.")
    derive: list[DerivedColumn] = Field(
        default_factory=list, description="Columns computed before the table logic."
    )
    filter: str | None = Field(default=None, description="SQL filter applied first.")

    _filter_parses = field_validator("filter")(_parses)


class AggregateTable(GoldBase):
    """Group a silver (or gold) table and aggregate it."""

    type: Literal["aggregate"] = Field(description="Aggregate table.")
    source: str = Field(description="Source table: `silver.<name>` or `gold.<name>`.")
    group_by: list[str] = Field(min_length=1, description="Grouping columns.")
    aggregations: list[Aggregation] = Field(min_length=1, description="Aggregates.")


class LatestTable(GoldBase):
    """The latest record per key (current state)."""

    type: Literal["latest"] = Field(description="Latest record per key.")
    source: str = Field(description="Source table: `silver.<name>` or `gold.<name>`.")
    keys: list[str] = Field(min_length=1, description="Key columns.")
    order_by: list[str] = Field(min_length=1, description="Greatest wins.")


class JoinTable(GoldBase):
    """Join two tables on keys."""

    type: Literal["join"] = Field(description="Join two tables.")
    left: str = Field(description="Left table: `silver.<name>` or `gold.<name>`.")
    right: str = Field(description="Right table: `silver.<name>` or `gold.<name>`.")
    on: list[str] = Field(min_length=1, description="Join keys.")
    how: Literal["inner", "left"] = Field(default="left", description="Join type.")
    select: list[str] | None = Field(default=None, description="Columns to keep.")


GoldTable = Annotated[AggregateTable | LatestTable | JoinTable, Field(discriminator="type")]


class ExpressionFeature(StrictModel):
    """A feature computed row by row from a SQL expression."""

    type: Literal["expression"] = Field(default="expression", description="Row-level feature.")
    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="Feature name.")
    expr: str = Field(description="SQL expression over source columns.")
    dtype: DType = Field(description="Feature type.")
    description: str = Field(description="What the feature means.")

    _expr_parses = field_validator("expr")(_parses)


class WindowFeature(StrictModel):
    """An aggregate over the entity's own history in a trailing time window."""

    type: Literal["window"] = Field(description="Time-window aggregation per entity.")
    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="Feature name.")
    column: str = Field(description="Source column aggregated.")
    agg: Literal["mean", "sum", "min", "max", "count"] = Field(description="Aggregate.")
    window_days: int = Field(ge=1, le=365, description="Trailing window length in days.")
    description: str = Field(description="What the feature means.")

    @property
    def dtype(self) -> DType:
        return "int64" if self.agg == "count" else "float64"


def _feature_kind(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("type", "expression"))
    return str(getattr(value, "type", "expression"))


Feature = Annotated[
    Annotated[ExpressionFeature, Tag("expression")] | Annotated[WindowFeature, Tag("window")],
    Discriminator(_feature_kind),
]


class FeatureTableConfig(StrictModel):
    """Features keyed by entity and event timestamp."""

    name: str = Field(pattern=NAME_PATTERN, description="Feature table name.")
    description: str = Field(default="", description="What the table serves.")
    source: str = Field(description="Source table: `silver.<name>` or `gold.<name>`.")
    entity_key: str = Field(description="Entity column, e.g. customer_id.")
    timestamp: str = Field(description="Event timestamp column: when the values were known.")
    features: list[Feature] = Field(min_length=1, description="Feature definitions.")

    @property
    def lookback_days(self) -> int:
        windows = [f.window_days for f in self.features if isinstance(f, WindowFeature)]
        return max(windows, default=0)

    @model_validator(mode="after")
    def _unique(self) -> "FeatureTableConfig":
        names = [f.name for f in self.features]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"features declared twice: {dup}")
        if self.entity_key in names or self.timestamp in names:
            raise ValueError("a feature may not reuse the entity key or timestamp name")
        return self


class TrainingSetConfig(StrictModel):
    """A point-in-time-correct training set: labels joined to the features known at that time."""

    name: str = Field(default="training_set", pattern=NAME_PATTERN, description="Table name.")
    feature_table: str = Field(description="Name of a feature table of this use case.")
    labels: str = Field(description="Label source table: `silver.<name>`.")
    label_column: str = Field(description="Label column in the label table.")
    label_timestamp: str = Field(
        description="Timestamp in the label table: features must be known at or before it."
    )
    max_feature_age_days: int | None = Field(
        default=None, ge=1, description="Ignore feature rows older than this (None: any age)."
    )
