"""SimulationConfig and drift models: defaults, discriminated union, and clear rejections."""

import datetime as dt

import pytest
from pydantic import TypeAdapter, ValidationError

from mlops_assets.simulate import (
    CategoricalDrift,
    DriftInjection,
    NumericDrift,
    SimulationConfig,
)


def test_defaults_match_the_documented_contract() -> None:
    config = SimulationConfig()
    assert config.start_date == dt.date(2026, 1, 1)
    assert config.rows_per_day == 1000
    assert config.file_format is None  # each dataset's declared format
    assert config.source is None and config.entities == 5000
    assert config.rates("customers", is_labels=False) == (0.01, 0.005)
    assert config.rates("labels", is_labels=True) == (0.0, 0.0)
    assert config.label_delay_days == 3
    assert config.bad_row_rate == 0.01
    assert config.duplicate_rate == 0.005
    assert config.use_case == "churn"
    assert config.drift == []
    assert config.date_of(1) == config.start_date
    assert config.date_of(32) == dt.date(2026, 2, 1)
    for name, field in SimulationConfig.model_fields.items():
        assert field.description, f"{name} needs a description"


def test_drift_union_is_discriminated_by_type() -> None:
    adapter: TypeAdapter[NumericDrift | CategoricalDrift] = TypeAdapter(DriftInjection)
    numeric = adapter.validate_python(
        {"type": "numeric", "column": "monthly_charges", "from_day": 2, "multiply": 1.3}
    )
    assert isinstance(numeric, NumericDrift) and numeric.add == 0.0
    categorical = adapter.validate_python(
        {
            "type": "categorical",
            "column": "contract",
            "from_day": 1,
            "to_value": "Two year",
            "fraction": 0.25,
        }
    )
    assert isinstance(categorical, CategoricalDrift)
    config = SimulationConfig.model_validate(
        {"days": 3, "drift": [numeric.model_dump(), categorical.model_dump()]}
    )
    assert config.drift == [numeric, categorical]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"column": "tenure", "from_day": 1}, "changes nothing"),
        ({"column": "bad column", "from_day": 1, "add": 1.0}, "pattern"),
        ({"column": "a.b.c", "from_day": 1, "add": 1.0}, "pattern"),
        ({"column": "tenure", "from_day": 0, "add": 1.0}, "greater than or equal to 1"),
        ({"column": "tenure", "from_day": 1, "add": float("nan")}, "finite"),
        ({"column": "tenure", "from_day": 1, "add": 1.0, "scale": 2}, "Extra inputs"),
    ],
)
def test_numeric_drift_rejections(payload: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        NumericDrift.model_validate(payload)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"column": "contract", "to_value": "Two year", "fraction": 0.0}, "greater than 0"),
        ({"column": "contract", "to_value": "Two year", "fraction": 1.5}, "less than or equal"),
        ({"column": "contract", "to_value": "", "fraction": 0.5}, "at least 1 character"),
    ],
)
def test_categorical_drift_rejections(payload: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        CategoricalDrift.model_validate({"from_day": 1, **payload})


def test_shift_is_a_synonym_of_add_and_rates_override_per_dataset() -> None:
    shifted = NumericDrift.model_validate({"column": "x.signup_on", "from_day": 2, "shift": 3})
    assert shifted.add == 3.0 and shifted.model_dump()["add"] == 3.0
    config = SimulationConfig(
        dataset_bad_row_rates={"labels": 0.1}, dataset_duplicate_rates={"customers": 0.2}
    )
    assert config.rates("labels", is_labels=True) == (0.1, 0.0)
    assert config.rates("customers", is_labels=False) == (0.01, 0.2)
    with pytest.raises(ValidationError, match=r"less than or equal to 0\.5"):
        SimulationConfig(dataset_bad_row_rates={"labels": 0.9})


def test_config_rejections() -> None:
    late = NumericDrift(column="tenure", from_day=9, add=1)
    with pytest.raises(ValidationError, match="starts on day 9 but the simulation has only 5"):
        SimulationConfig(days=5, drift=[late])
    with pytest.raises(ValidationError, match="Extra inputs"):
        SimulationConfig.model_validate({"dayz": 3})
    with pytest.raises(ValidationError, match="csv"):
        SimulationConfig.model_validate({"file_format": "json"})
    with pytest.raises(ValidationError, match="entities"):
        SimulationConfig(entities=0)
    with pytest.raises(ValidationError, match="pattern"):
        SimulationConfig(use_case="../escape")
    config = SimulationConfig()
    with pytest.raises(ValidationError, match="frozen"):
        config.days = 2  # type: ignore[misc]
