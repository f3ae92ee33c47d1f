"""Configuration of the landing-file simulator: what to write, how much, and what to break."""

import datetime as dt
from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from mlops_assets.config.base import StrictModel
from mlops_assets.data import (
    WA_CHURN_BINARY_FEATURES,
    WA_CHURN_CATEGORICAL_FEATURES,
    WA_CHURN_NUMERIC_FEATURES,
)

NUMERIC_DRIFT_COLUMNS: tuple[str, ...] = WA_CHURN_NUMERIC_FEATURES
CATEGORICAL_DRIFT_COLUMNS: tuple[str, ...] = (
    WA_CHURN_CATEGORICAL_FEATURES + WA_CHURN_BINARY_FEATURES
)


class NumericDrift(StrictModel):
    """From `from_day` on, every observation's `column` becomes `value * multiply + add`."""

    type: Literal["numeric"] = Field(default="numeric", description="Discriminator: numeric shift.")
    column: str = Field(description=f"Numeric feature to shift: one of {NUMERIC_DRIFT_COLUMNS}.")
    from_day: int = Field(ge=1, description="1-based index of the first simulated day affected.")
    multiply: float = Field(default=1.0, ge=0, allow_inf_nan=False, description="Scale factor.")
    add: float = Field(default=0.0, allow_inf_nan=False, description="Offset added after scaling.")

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.column not in NUMERIC_DRIFT_COLUMNS:
            raise ValueError(
                f"numeric drift needs a numeric column, got {self.column!r}; "
                f"use one of {list(NUMERIC_DRIFT_COLUMNS)} or a categorical drift"
            )
        if self.multiply == 1.0 and self.add == 0.0:
            raise ValueError(
                f"numeric drift on {self.column!r} changes nothing; set multiply != 1 or add != 0"
            )
        return self


class CategoricalDrift(StrictModel):
    """From `from_day` on, a random `fraction` of observations get `column` set to `to_value`."""

    type: Literal["categorical"] = Field(
        default="categorical", description="Discriminator: categorical remap."
    )
    column: str = Field(
        description=f"Categorical or 0/1 feature to remap: one of {CATEGORICAL_DRIFT_COLUMNS}."
    )
    from_day: int = Field(ge=1, description="1-based index of the first simulated day affected.")
    to_value: str = Field(
        min_length=1,
        description='Value moved rows get (e.g. "Month-to-month"; "0"/"1" for 0/1 columns).',
    )
    fraction: float = Field(gt=0, le=1, description="Share of each day's rows moved to `to_value`.")

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.column not in CATEGORICAL_DRIFT_COLUMNS:
            raise ValueError(
                f"categorical drift needs a categorical or 0/1 column, got {self.column!r}; "
                f"use one of {list(CATEGORICAL_DRIFT_COLUMNS)} or a numeric drift"
            )
        if self.column in WA_CHURN_BINARY_FEATURES and self.to_value not in ("0", "1"):
            raise ValueError(f"{self.column!r} holds 0/1, so to_value must be '0' or '1'")
        return self


DriftInjection = Annotated[NumericDrift | CategoricalDrift, Field(discriminator="type")]
"""One drift to inject: a numeric shift or a categorical remap, told apart by `type`."""


class SimulationConfig(StrictModel):
    """How many daily landing files to write, from which day, and which faults to inject."""

    start_date: dt.date = Field(
        default=dt.date(2026, 1, 1), description="Date of the first simulated day (day 1)."
    )
    days: int = Field(default=7, ge=1, le=3660, description="Number of consecutive days.")
    rows_per_day: int = Field(
        default=1000,
        ge=1,
        le=100_000_000,
        description="Distinct observations per day (duplicates come on top).",
    )
    seed: int = Field(default=42, ge=0, description="Random seed; same config gives same files.")
    file_format: Literal["csv", "parquet"] = Field(
        default="csv", description="Landing file format; every column is written as text."
    )
    label_delay_days: int = Field(
        default=3,
        ge=0,
        description="Labels of day d's observations land in the labels file of day d + delay.",
    )
    drift: list[DriftInjection] = Field(
        default_factory=list, description="Drifts to inject, applied in order."
    )
    bad_row_rate: float = Field(
        default=0.01,
        ge=0,
        le=0.5,
        description="Expected share of rows broken (null id, negative tenure, unknown contract, "
        "unparseable monthly_charges).",
    )
    duplicate_rate: float = Field(
        default=0.005,
        ge=0,
        le=0.5,
        description="Expected share of rows re-sent as exact copies (same customer_id, event_ts).",
    )
    use_case: str = Field(
        default="churn",
        pattern=r"^[a-z][a-z0-9_]*$",
        description="Use case name: the folder under <data_dir>/landing/.",
    )

    @model_validator(mode="after")
    def _check_drift_days(self) -> Self:
        for injection in self.drift:
            if injection.from_day > self.days:
                raise ValueError(
                    f"drift on {injection.column!r} starts on day {injection.from_day} but the "
                    f"simulation has only {self.days} days; lower from_day or raise days"
                )
        return self

    def date_of(self, day_index: int) -> dt.date:
        """Calendar date of the 1-based `day_index`."""
        return self.start_date + dt.timedelta(days=day_index - 1)
