"""Data-quality rules: the short string forms, the mapping forms, and their validation."""

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from mlops_assets.config.datasets import DatasetConfig
from mlops_assets.config.project import load_project
from mlops_assets.config.rule_strings import parse_rule_string
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
from mlops_assets.errors import ConfigError
from mlops_assets_tests.config.config_helpers import dataset, line_of, load_use_case, write_use_case

RULE = TypeAdapter(Rule)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x is not null", NotNullRule(type="not_null", column="x")),
        ("  x   IS NOT   NULL ", NotNullRule(type="not_null", column="x")),
        ("x is unique", UniqueRule(type="unique", columns=["x"])),
        ("x >= 0", RangeRule(type="range", column="x", min=0, min_inclusive=True)),
        ("x > 0", RangeRule(type="range", column="x", min=0, min_inclusive=False)),
        ("x <= 1.5", RangeRule(type="range", column="x", max=1.5, max_inclusive=True)),
        ("x < -2", RangeRule(type="range", column="x", max=-2, max_inclusive=False)),
        ("x between 1 and 5", RangeRule(type="range", column="x", min=1, max=5)),
        ("x BETWEEN -1.5 AND 2", RangeRule(type="range", column="x", min=-1.5, max=2)),
        (
            "x in ('a','b')",
            AcceptedValuesRule(type="accepted_values", column="x", values=["a", "b"]),
        ),
        (
            "x in ('One year', 'it''s', 3)",
            AcceptedValuesRule(type="accepted_values", column="x", values=["One year", "it's", 3]),
        ),
        ("x matches '^a$'", RegexRule(type="regex", column="x", pattern="^a$")),
        ("x matches 'it''s'", RegexRule(type="regex", column="x", pattern="it's")),
        ("row_count >= 10", RowCountMinRule(type="row_count_min", min=10)),
        ("row_count > 10", RowCountMinRule(type="row_count_min", min=11)),
        ("column_count > 5", ColumnCountRule(type="column_count", min=6)),
        ("column_count >= 5", ColumnCountRule(type="column_count", min=5)),
        ("column_count < 5", ColumnCountRule(type="column_count", max=4)),
        ("column_count = 5", ColumnCountRule(type="column_count", min=5, max=5)),
        ("ts fresher than 2d", FreshnessRule(type="freshness", column="ts", max_age=172_800)),
        ("ts fresher than 36h", FreshnessRule(type="freshness", column="ts", max_age=129_600)),
        ("ts fresher than 90 m", FreshnessRule(type="freshness", column="ts", max_age=5_400)),
        ("a <= b", SqlRule(type="sql", expression="a <= b")),
        ("x >= 0 and x < 10", SqlRule(type="sql", expression="x >= 0 and x < 10")),
        ("x is null or x >= 0", SqlRule(type="sql", expression="x is null or x >= 0")),
        ("lower(x) = 'a'", SqlRule(type="sql", expression="lower(x) = 'a'")),
    ],
)
def test_string_rules_parse_into_typed_rules(text: str, expected: Rule) -> None:
    rule = parse_rule_string(text)
    assert type(rule) is type(expected)
    assert rule == expected


def test_default_check_names_are_stable_and_readable() -> None:
    names = [
        parse_rule_string(t).check_name
        for t in (
            "x is not null",
            "x is unique",
            "x >= 0",
            "x in ('a')",
            "x matches 'a'",
            "row_count >= 3",
            "column_count > 1",
            "ts fresher than 1d",
            "total_charges is null or total_charges >= 0",
        )
    ]
    assert names == [
        "x_not_null",
        "x_unique",
        "x_in_range",
        "x_accepted_values",
        "x_matches_pattern",
        "row_count_at_least_3",
        "column_count",
        "ts_fresh",
        "sql_total_charges_is_null_or_total_charges_0",
    ]
    assert parse_rule_string("x >= 0").model_copy(update={"name": "nice"}).check_name == "nice"


def test_mapping_form_accepts_options() -> None:
    rule = RULE.validate_python(
        {
            "type": "freshness",
            "column": "ts",
            "max_age": "PT36H",
            "severity": "warn",
            "blocking": True,
            "name": "ts_recent",
        }
    )
    assert isinstance(rule, FreshnessRule)
    assert rule.max_age == timedelta(hours=36)
    assert (rule.severity, rule.blocking, rule.check_name) == ("warn", True, "ts_recent")


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"type": "range", "column": "x"}, "needs `min`, `max` or both"),
        ({"type": "range", "column": "x", "min": 5, "max": 1}, "greater than max"),
        ({"type": "regex", "column": "x", "pattern": "(a"}, "invalid regular expression"),
        ({"type": "regex", "column": "x", "pattern": "^(?=C)\\d+$"}, "not supported"),
        ({"type": "regex", "column": "x", "pattern": "(a)\\1"}, "not supported"),
        ({"type": "sql", "expression": "a >"}, "cannot parse expression"),
        ({"type": "not_null", "column": "x", "max_failure_fraction": 2}, "less than or equal"),
        ({"type": "accepted_values", "column": "x", "values": []}, "at least 1 item"),
        ({"type": "nonsense", "column": "x"}, "does not match any of the expected tags"),
        ({"type": "not_null", "column": "x", "severity": "fatal"}, "'warn' or 'error'"),
    ],
)
def test_invalid_rules_are_rejected(mapping: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as info:
        RULE.validate_python(mapping)
    assert message in str(info.value)


def test_invalid_regex_is_rejected_at_load_with_its_line(
    configs_copy: Path, data_dir: Path
) -> None:
    data = load_use_case(configs_copy)
    dataset(data, "customers")["rules"].append("customer_id matches '^(?!X)C[0-9]+$'")
    path = write_use_case(configs_copy, data)
    with pytest.raises(ConfigError) as info:
        load_project(configs_copy, environ={"MLOPS_DATA_DIR": str(data_dir)})
    err = info.value
    assert "look-around" in err.message
    assert err.context["line"] == line_of(path, "(?!X)")


def _customers(rules: list[Any], **extra: Any) -> DatasetConfig:
    return DatasetConfig(
        name="customers",
        columns=[
            {"name": "id", "dtype": "string"},
            {"name": "ts", "dtype": "datetime", "nullable": False},
            {"name": "amount", "dtype": "float64"},
        ],
        keys=["id"],
        rules=rules,
        **extra,
    )


def test_all_rules_adds_not_null_for_keys_and_required_columns() -> None:
    ds = _customers(["amount >= 0"])
    assert [r.check_name for r in ds.all_rules()] == [
        "id_not_null",
        "ts_not_null",
        "amount_in_range",
    ]
    explicit = _customers([{"type": "not_null", "column": "id", "blocking": True}])
    id_rules = [r for r in explicit.all_rules() if r.check_name == "id_not_null"]
    assert len(id_rules) == 1 and id_rules[0].blocking  # the explicit one wins, no duplicate


def test_rules_sharing_a_check_name_are_rejected() -> None:
    with pytest.raises(ValidationError, match="share the check name"):
        _customers(["amount >= 0", "amount <= 10"])
    named = _customers(
        ["amount >= 0", {"type": "range", "column": "amount", "max": 10, "name": "cap"}]
    )
    assert [r.check_name for r in named.rules] == ["amount_in_range", "cap"]


def test_metadata_columns_may_be_referenced() -> None:
    ds = _customers([], order_by=["_ingested_at", "ts"])
    assert ds.order_by == ["_ingested_at", "ts"]
    with pytest.raises(ValidationError, match="declared twice"):
        DatasetConfig(
            name="x",
            columns=[{"name": "a", "dtype": "string"}, {"name": "a", "dtype": "int64"}],
            keys=["a"],
        )
