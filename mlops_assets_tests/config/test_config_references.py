"""Every table and column a use case reads exists where it is read: checked when it loads.

Each broken reference is reported at its own key path and line, with a did-you-mean, instead of
failing at run time after bronze, silver and gold have run.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mlops_assets.config.project import load_project
from mlops_assets_tests.config.config_helpers import (
    dataset,
    environ_for,
    load_error,
    load_use_case,
    only_problem,
    reported,
    write_use_case,
)

Data = dict[str, Any]


def line_exact(path: Path, text: str) -> int:
    """1-based line of the only line of ``path`` that is ``text`` (quotes and indent aside)."""
    hits = [
        i
        for i, line in enumerate(path.read_text().splitlines(), 1)
        if line.strip().replace("'", "") == text
    ]
    assert len(hits) == 1, f"{text!r} is on lines {hits} of {path}"
    return hits[0]


@dataclass(frozen=True)
class Case:
    """Break one reference; where the error must point and what it must suggest."""

    change: Callable[[Data], None]
    key_path: str
    column: str
    line: str  # the text of the line the error points at
    suggestion: str | None

    def __str__(self) -> str:
        return self.key_path


def _customers(data: Data) -> Data:
    return dataset(data, "customers")


def _features(data: Data) -> Data:
    found: Data = data["feature_tables"][0]
    return found


def _set(target: Callable[[Data], Any], key: Any, value: Any) -> Callable[[Data], None]:
    def change(data: Data) -> None:
        target(data)[key] = value

    return change


CASES = [
    # datasets: keys, order_by, event_time and every kind of rule, reported against the rule
    Case(
        lambda d: _customers(d)["rules"][0].update(column="customer_ids"),
        "datasets.0.rules.0.column",
        "customer_ids",
        "column: customer_ids",
        "customer_id",
    ),
    Case(
        _set(lambda d: _customers(d)["rules"], 2, "tenur >= 0"),
        "datasets.0.rules.2",
        "tenur",
        "- tenur >= 0",
        "tenure",
    ),
    Case(
        lambda d: _customers(d)["rules"].append(
            {"type": "sql", "expression": "monthly_charge <= total_charges"}
        ),
        "datasets.0.rules.9.expression",
        "monthly_charge",
        "expression: monthly_charge <= total_charges",
        "monthly_charges",
    ),
    Case(
        lambda d: _customers(d)["rules"].append(
            {"type": "unique", "columns": ["customer_id", "event_tss"]}
        ),
        "datasets.0.rules.9.columns.1",
        "event_tss",
        "- event_tss",
        "event_ts",
    ),
    Case(
        lambda d: _customers(d)["rules"][8].update(column="event_time"),
        "datasets.0.rules.8.column",
        "event_time",
        "column: event_time",
        "event_ts",
    ),
    Case(
        _set(_customers, "keys", ["customer_id", "event_tz"]),
        "datasets.0.keys.1",
        "event_tz",
        "- event_tz",
        "event_ts",
    ),
    Case(
        _set(_customers, "order_by", ["updated_at"]),
        "datasets.0.order_by.0",
        "updated_at",
        "- updated_at",
        None,
    ),
    Case(
        _set(_customers, "event_time", "event_time"),
        "datasets.0.event_time",
        "event_time",
        "event_time: event_time",
        "event_ts",
    ),
    # gold: the table logic reads its (derived, filtered) input
    Case(
        _set(lambda d: d["gold"][0], "group_by", ["contracts"]),
        "gold.0.group_by.0",
        "contracts",
        "- contracts",
        "contract",
    ),
    Case(
        lambda d: d["gold"][0]["aggregations"][2].update(column="monthly_charge"),
        "gold.0.aggregations.2.column",
        "monthly_charge",
        "column: monthly_charge",
        "monthly_charges",
    ),
    Case(
        _set(lambda d: d["gold"][1], "filter", "tenur > 0"),
        "gold.1.filter",
        "tenur",
        "filter: tenur > 0",
        "tenure",
    ),
    Case(
        _set(lambda d: d["gold"][1], "keys", ["customer"]),
        "gold.1.keys.0",
        "customer",
        "- customer",
        "customer_id",
    ),
    Case(
        lambda d: d["gold"][2]["derive"][0].update(expr="monthly_charges / avg_monthly_charge"),
        "gold.2.derive.0.expr",
        "avg_monthly_charge",
        "expr: monthly_charges / avg_monthly_charge",
        "avg_monthly_charges",
    ),
    Case(
        _set(lambda d: d["gold"][2]["select"], 5, "charge_vs_contract"),
        "gold.2.select.5",
        "charge_vs_contract",
        "- charge_vs_contract",
        "charge_vs_contract_avg",
    ),
    # feature tables: expressions, window columns, entity key and timestamp
    Case(
        lambda d: _features(d)["features"][2].update(expr="coalesce(total_charge, 0)"),
        "feature_tables.0.features.2.expr",
        "total_charge",
        "expr: coalesce(total_charge, 0)",
        "total_charges",
    ),
    Case(
        lambda d: _features(d)["features"][13].update(column="monthly_charge"),
        "feature_tables.0.features.13.column",
        "monthly_charge",
        "column: monthly_charge",
        "monthly_charges",
    ),
    Case(
        _set(_features, "entity_key", "customer"),
        "feature_tables.0.entity_key",
        "customer",
        "entity_key: customer",
        "customer_id",
    ),
    Case(
        _set(_features, "timestamp", "event_time"),
        "feature_tables.0.timestamp",
        "event_time",
        "timestamp: event_time",
        "event_ts",
    ),
    # the training set reads the label table
    Case(
        _set(lambda d: d["training_set"], "label_column", "churned"),
        "training_set.label_column",
        "churned",
        "label_column: churned",
        "churn",
    ),
    Case(
        _set(lambda d: d["training_set"], "label_timestamp", "label_time"),
        "training_set.label_timestamp",
        "label_time",
        "label_timestamp: label_time",
        "label_ts",
    ),
    # the model reads the training set and, when scoring, the feature table
    Case(
        _set(lambda d: d["model"]["numeric_features"], 8, "monthly_charges_mean_7days"),
        "model.numeric_features.8",
        "monthly_charges_mean_7days",
        "- monthly_charges_mean_7days",
        "monthly_charges_mean_7d",
    ),
    Case(
        _set(lambda d: d["model"]["categorical_features"], 0, "contracts"),
        "model.categorical_features.0",
        "contracts",
        "- contracts",
        "contract",
    ),
    Case(
        _set(lambda d: d["model"], "entity_key", "customer"),
        "model.entity_key",
        "customer",
        "entity_key: customer",
        "customer_id",
    ),
    Case(
        _set(lambda d: d["model"], "timestamp", "event_time"),
        "model.timestamp",
        "event_time",
        "timestamp: event_time",
        "event_ts",
    ),
    Case(
        _set(lambda d: d["model"], "label", "churned"),
        "model.label",
        "churned",
        "label: churned",
        "churn",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_missing_column_is_reported_where_it_is_read(
    configs_copy: Path, data_dir: Path, case: Case
) -> None:
    data = load_use_case(configs_copy)
    case.change(data)
    path = write_use_case(configs_copy, data)
    err = load_error(configs_copy, data_dir)
    problem = only_problem(err)
    assert problem.key_path == case.key_path
    assert problem.file == str(path)
    assert problem.line == line_exact(path, case.line)
    assert f"column `{case.column}`" in problem.message
    if case.suggestion is None:
        assert not problem.fix.startswith("did you mean")
    else:
        assert problem.fix.startswith(f"did you mean `{case.suggestion}`?")
    assert err.context == {"file": str(path), "key_path": case.key_path, "line": problem.line}
    assert err.fix == problem.fix


def test_a_drift_override_must_name_a_model_input(configs_copy: Path, data_dir: Path) -> None:
    data = load_use_case(configs_copy)
    data["monitoring"]["drift"]["per_column"] = {"tenur": {"method": "ks"}}
    path = write_use_case(configs_copy, data)
    problem = only_problem(load_error(configs_copy, data_dir))
    assert problem.key_path == "monitoring.drift.per_column.tenur"
    assert problem.line == line_exact(path, "tenur:")
    assert problem.fix.startswith("did you mean `tenure`?")


def test_join_keys_must_exist_on_both_sides(configs_copy: Path, data_dir: Path) -> None:
    data = load_use_case(configs_copy)
    data["gold"][2]["on"] = ["contracts"]
    write_use_case(configs_copy, data)
    problems = reported(load_error(configs_copy, data_dir))
    assert [p.key_path for p in problems] == ["gold.2.on.0", "gold.2.on.0"]
    assert "`gold.customer_latest`" in problems[0].message
    assert "`gold.daily_contract_kpis`" in problems[1].message


def test_gold_outputs_feed_later_references(configs_copy: Path, data_dir: Path) -> None:
    data = load_use_case(configs_copy)
    # an aggregate keeps only its group-by and aggregate columns
    _features(data)["source"] = "gold.daily_contract_kpis"
    write_use_case(configs_copy, data)
    problems = reported(load_error(configs_copy, data_dir))
    paths = [p.key_path for p in problems]
    assert "feature_tables.0.entity_key" in paths and "feature_tables.0.timestamp" in paths
    timestamp = next(p for p in problems if p.key_path == "feature_tables.0.timestamp")
    assert "avg_tenure" in timestamp.fix and " tenure," not in timestamp.fix


def test_columns_derived_selected_and_suffixed_by_a_join_can_be_read_later(
    configs_copy: Path, data_dir: Path
) -> None:
    data = load_use_case(configs_copy)
    kpis, join = data["gold"][0], data["gold"][2]
    kpis["aggregations"].append({"name": "tenure", "agg": "max", "column": "tenure"})
    join["select"] += ["tenure", "tenure_right"]  # the right side's clashing column
    data["gold"].append(
        {
            "type": "latest",
            "name": "expensive_customers",
            "source": "gold.customer_charge_benchmark",
            "filter": "charge_vs_contract_avg > 1 and tenure_right > tenure",
            "keys": ["customer_id"],
            "order_by": ["event_ts"],
        }
    )
    write_use_case(configs_copy, data)
    uc = load_project(configs_copy, environ=environ_for(data_dir)).use_case("churn")
    assert [g.name for g in uc.gold][-1] == "expensive_customers"

    data["gold"][-1]["filter"] = "avg_tenure > 1"  # not selected by the join
    path = write_use_case(configs_copy, data)
    problem = only_problem(load_error(configs_copy, data_dir))
    assert problem.key_path == "gold.3.filter"
    assert problem.line == line_exact(path, "filter: avg_tenure > 1")


def test_a_broken_table_is_reported_once(configs_copy: Path, data_dir: Path) -> None:
    data = load_use_case(configs_copy)
    data["gold"][1]["keys"] = ["customer"]  # the join reading this table is not checked too
    write_use_case(configs_copy, data)
    assert only_problem(load_error(configs_copy, data_dir)).key_path == "gold.1.keys.0"


def test_every_broken_reference_is_listed(configs_copy: Path, data_dir: Path) -> None:
    data = load_use_case(configs_copy)
    data["training_set"]["labels"] = "gold.daily_contract_kpis"
    write_use_case(configs_copy, data)
    problems = reported(load_error(configs_copy, data_dir))
    assert [p.key_path for p in problems] == [
        "training_set.labels",  # no customer_id to join labels to features on
        "training_set.label_column",
        "training_set.label_timestamp",
    ]
    assert "customer_id" in problems[0].message


@pytest.mark.parametrize(
    ("change", "key_path", "message", "fix"),
    [
        (
            lambda d: d["gold"][0].update(source="silver.customer"),
            "gold.0.source",
            "reads unknown table `silver.customer`",
            "did you mean `silver.customers`?",
        ),
        (
            lambda d: d["feature_tables"][0].update(source="gold.nope"),
            "feature_tables.0.source",
            "reads unknown table `gold.nope`",
            "known tables: silver.customers, silver.labels, gold.daily_contract_kpis",
        ),
        (
            lambda d: d["training_set"].update(feature_table="customer_feature"),
            "training_set.feature_table",
            "`customer_feature` is not a feature table",
            "did you mean `customer_features`?",
        ),
        (
            lambda d: d["training_set"].update(labels="silver.label"),
            "training_set.labels",
            "reads unknown table `silver.label`",
            "did you mean `silver.labels`?",
        ),
        (
            lambda d: d["gold"].reverse(),
            "gold.0.left",
            "reads `gold.customer_latest`, which is defined after it",
            "move `customer_latest` above `customer_charge_benchmark`",
        ),
        (
            lambda d: d["gold"][1].update(name="customers"),
            "gold.1.name",
            "table name `customers` is already used",
            "another name",
        ),
        (
            lambda d: d.pop("training_set"),
            "model",
            "a `model` needs a `training_set`",
            "add a `training_set`",
        ),
    ],
)
def test_unknown_tables_are_rejected_with_a_suggestion(
    configs_copy: Path,
    data_dir: Path,
    change: Callable[[Data], None],
    key_path: str,
    message: str,
    fix: str,
) -> None:
    data = load_use_case(configs_copy)
    change(data)
    write_use_case(configs_copy, data)
    problem = reported(load_error(configs_copy, data_dir))[0]
    assert (problem.key_path, message in problem.message) == (key_path, True), problem
    assert fix in problem.fix


def test_a_long_expression_is_shortened_in_the_message(configs_copy: Path, data_dir: Path) -> None:
    data = load_use_case(configs_copy)
    long = " + ".join(["tenure"] * 60) + " > unknown_total"
    _customers(data)["rules"].append({"type": "sql", "expression": long})
    write_use_case(configs_copy, data)
    err = load_error(configs_copy, data_dir)
    problem = only_problem(err)
    assert "column `unknown_total`" in problem.message
    assert long not in str(err)
    shown = problem.message.split("expression ")[1].split(" reads")[0]
    assert len(shown) <= 80 and shown.endswith("...")
