"""Configuration of the landing-file simulator: which use case, from what, how much, what to break.

Drift targets are written `COLUMN` or `DATASET.COLUMN`; whether the column exists (and what a drift
may do to its type) is checked against the use case when the simulation is planned, with a
did-you-mean hint (see `simulate.plan`).
"""

import datetime as dt
from typing import Annotated, Literal, Self

from pydantic import AliasChoices, Field, model_validator

from mlops_assets.config.base import StrictModel

DRIFT_TARGET = r"^([a-z][a-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*$"
"""`column` or `dataset.column`."""


class NumericDrift(StrictModel):
    """From `from_day` on, `column` becomes `value * multiply + add` (dates: moved `add` days)."""

    type: Literal["numeric"] = Field(default="numeric", description="Discriminator: numeric shift.")
    column: str = Field(
        pattern=DRIFT_TARGET,
        description="Column to shift: `column` or `dataset.column`; int64, float64, date or "
        "datetime.",
    )
    from_day: int = Field(ge=1, description="1-based index of the first simulated day affected.")
    multiply: float = Field(default=1.0, ge=0, allow_inf_nan=False, description="Scale factor.")
    add: float = Field(
        default=0.0,
        allow_inf_nan=False,
        validation_alias=AliasChoices("add", "shift"),
        description="Offset added after scaling (`shift` is a synonym); days for date/datetime.",
    )

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        if self.multiply == 1.0 and self.add == 0.0:
            raise ValueError(
                f"numeric drift on {self.column!r} changes nothing; set multiply != 1 or add != 0"
            )
        return self


class CategoricalDrift(StrictModel):
    """From `from_day` on, a random `fraction` of rows get `column` set to `to_value`."""

    type: Literal["categorical"] = Field(
        default="categorical", description="Discriminator: categorical remap."
    )
    column: str = Field(
        pattern=DRIFT_TARGET,
        description="Column to remap: `column` or `dataset.column`, of any type.",
    )
    from_day: int = Field(ge=1, description="1-based index of the first simulated day affected.")
    to_value: str = Field(
        min_length=1,
        description='Value moved rows get, as text (e.g. "Month-to-month", "1", "true"); it must '
        "parse as the column's type.",
    )
    fraction: float = Field(gt=0, le=1, description="Share of each day's rows moved to `to_value`.")


DriftInjection = Annotated[NumericDrift | CategoricalDrift, Field(discriminator="type")]
"""One drift to inject: a numeric shift or a categorical remap, told apart by `type`."""

Rate = Annotated[float, Field(ge=0, le=0.5)]


class SimulationConfig(StrictModel):
    """How many daily landing files to write for which use case, from what, and what to break."""

    start_date: dt.date = Field(
        default=dt.date(2026, 1, 1), description="Date of the first simulated day (day 1)."
    )
    days: int = Field(default=7, ge=1, le=3660, description="Number of consecutive days.")
    rows_per_day: int = Field(
        default=1000,
        ge=1,
        le=100_000_000,
        description="Observations per day and observation dataset (duplicates come on top).",
    )
    seed: int = Field(default=42, ge=0, description="Random seed; same config gives same files.")
    file_format: Literal["csv", "parquet"] | None = Field(
        default=None,
        description="Landing file format; None: each dataset's declared `source.format`. Every "
        "column is written as text.",
    )
    label_delay_days: int = Field(
        default=3,
        ge=0,
        description="Labels of day d's observations land in the labels file of day d + delay.",
    )
    drift: list[DriftInjection] = Field(
        default_factory=list, description="Drifts to inject, applied in order."
    )
    bad_row_rate: Rate = Field(
        default=0.01,
        description="Expected share of observation rows broken, one defect each (a null key, an "
        "unparseable value, a value out of range, unknown or not matching its pattern).",
    )
    duplicate_rate: Rate = Field(
        default=0.005,
        description="Expected share of observation rows re-sent as exact copies.",
    )
    dataset_bad_row_rates: dict[str, Rate] = Field(
        default_factory=dict,
        description="Per dataset bad_row_rate overriding the one above (the labels dataset is "
        "clean unless listed here).",
    )
    dataset_duplicate_rates: dict[str, Rate] = Field(
        default_factory=dict,
        description="Per dataset duplicate_rate overriding the one above (the labels dataset "
        "has no copies unless listed here).",
    )
    use_case: str = Field(
        default="churn",
        pattern=r"^[a-z][a-z0-9_]*$",
        description="Use case to simulate (its YAML declares the datasets written).",
    )
    source: str | None = Field(
        default=None,
        description="Where rows come from: a .csv/.parquet file, a shipped table (wa_churn, ames) "
        "or `synthetic` (from the declared schema). None: the use case's shipped table when it "
        "has one (churn: wa_churn, housing: ames), else synthetic.",
    )
    column_map: dict[str, str] = Field(
        default_factory=dict,
        description="Source column -> declared column, for names that do not match by name.",
    )
    entity_column: str | None = Field(
        default=None,
        description="Declared entity id column of the observations; default: the model's or "
        "feature table's entity key, else the first key. Generated when the source lacks it.",
    )
    timestamp_column: str | None = Field(
        default=None,
        description="Declared event-time column of the observations; default: the dataset's "
        "event_time, else its first date/datetime key. Always generated inside each day.",
    )
    replay_order: list[str] = Field(
        default_factory=list,
        description="Source columns ordering a replay: day d samples the d-th slice of the "
        "source sorted by them (default: the timestamp column when the source has it).",
    )
    entities: int = Field(
        default=5000,
        ge=1,
        le=100_000_000,
        description="Distinct entities of a synthetic source (a file source has one per row).",
    )
    noise: float = Field(
        default=0.02,
        ge=0,
        le=1,
        description="Numeric jitter: standard deviation as a share of each column's spread.",
    )
    resample_rate: float = Field(
        default=0.02,
        ge=0,
        le=1,
        description="Share of categorical values redrawn from the column's own distribution.",
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

    def rates(self, dataset: str, is_labels: bool) -> tuple[float, float]:
        """(bad_row_rate, duplicate_rate) of one dataset."""
        bad, dup = (0.0, 0.0) if is_labels else (self.bad_row_rate, self.duplicate_rate)
        return (
            self.dataset_bad_row_rates.get(dataset, bad),
            self.dataset_duplicate_rates.get(dataset, dup),
        )
