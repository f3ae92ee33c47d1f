"""The scaffold of a use case from a sample table: roles and types inferred, a YAML that loads.

Tables are generated here with a seed, with names and types unlike the shipped use cases. Each
scaffold is loaded by the project's own loader next to churn and housing (a copy of configs/).
"""

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from mlops_assets.cli import main
from mlops_assets.config.project import load_project
from mlops_assets.config.rules import AcceptedValuesRule, RangeRule
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.errors import ConfigError
from mlops_assets.scaffold import REVIEW, profile_table, render_use_case
from mlops_assets_tests.config.config_helpers import environ_for

ROWS = 300


def _table(seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    start = dt.datetime(2025, 3, 1)
    return pl.DataFrame(
        {
            "Account ID": [f"A-{i:04d}" for i in range(ROWS)],
            "seen_at": [start + dt.timedelta(minutes=int(m)) for m in rng.integers(0, 9999, ROWS)],
            "Plan Tier": rng.choice(["basic", "plus", "pro"], ROWS),
            "monthly fee": rng.uniform(5, 80, ROWS).round(2),
            "seats": rng.integers(1, 40, ROWS),
            "trial": rng.random(ROWS) < 0.2,
            "notes": [f"free text {i}" for i in range(ROWS)],
            "renewed": rng.integers(0, 2, ROWS),
            "segment": rng.choice(["smb", "mid", "ent", "gov"], ROWS),
            "revenue": rng.normal(1000, 300, ROWS).round(2),
            "rating": rng.choice([1, 2], ROWS),
        }
    )


def _load(configs: Path, name: str, text: str, data_dir: Path) -> UseCaseConfig:
    (configs / "use_cases" / f"{name}.yaml").write_text(text, encoding="utf-8")
    project = load_project(configs, environ=environ_for(data_dir))
    assert {"churn", "housing"} <= {uc.name for uc in project.use_cases}
    return project.use_case(name)


def test_roles_and_types_come_from_the_sample(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    _table(1).write_csv(path)
    profile = profile_table(path, label="renewed")
    types = {c.name: c.dtype for c in profile.columns}
    assert types == {
        "account_id": "string",
        "seen_at": "datetime",
        "plan_tier": "string",
        "monthly_fee": "float64",
        "seats": "int64",
        "trial": "bool",
        "notes": "string",
        "renewed": "int64",
        "segment": "string",
        "revenue": "float64",
        "rating": "int64",
    }
    assert (profile.entity.name, profile.entity.source) == ("account_id", "Account ID")
    assert profile.time.name == "seen_at" and not profile.label_guessed
    assert (profile.task, profile.positive_label) == ("binary", None)  # already 0/1
    features = {c.name for c in profile.features}
    assert "notes" not in features and {"plan_tier", "trial", "seats"} <= features


@pytest.mark.parametrize(
    ("label", "task", "positive"),
    [
        ("renewed", "binary", None),
        ("segment", "multiclass", None),
        ("revenue", "regression", None),
        ("rating", "binary", "1"),
        ("trial", "binary", None),
    ],
)
def test_each_scaffold_loads_with_its_task(
    tmp_path: Path, configs_copy: Path, label: str, task: str, positive: str | None
) -> None:
    path = tmp_path / "accounts.parquet"
    frame = _table(2)
    frame.write_parquet(path)
    profile = profile_table(path, label=label)
    assert profile.task == task
    text = render_use_case("accounts", profile, today=dt.date(2026, 6, 1))
    uc = _load(configs_copy, "accounts", text, tmp_path / "data")
    assert uc.model is not None and (uc.model.task, uc.model.label) == (task, label)
    if positive is not None:
        counts = frame["rating"].value_counts()
        rarer = counts.sort("count")["rating"][0]
        assert uc.model.positive_label == str(rarer)
    observed = next(d for d in uc.datasets if d.name == "accounts")
    assert label not in {c.name for c in observed.columns}  # the label lands later, alone
    assert [c.source for c in observed.columns if c.name == "monthly_fee"] == ["monthly fee"]
    for rule in observed.rules:  # starter rules keep every sample row
        if isinstance(rule, RangeRule):
            column = frame[next(c.source_name for c in observed.columns if c.name == rule.column)]
            assert rule.min is not None and rule.max is not None
            assert rule.min <= float(column.min()) and float(column.max()) <= rule.max  # type: ignore[arg-type]
        if isinstance(rule, AcceptedValuesRule):
            source = next(c.source_name for c in observed.columns if c.name == rule.column)
            assert sorted(rule.values) == sorted(frame[source].unique().to_list())
    assert uc.start_date == dt.date(2026, 4, 2)
    assert f"{REVIEW}: guessed" not in text.split("label:")[1].splitlines()[0]


def test_guessed_roles_are_generated_or_marked_for_review(
    tmp_path: Path, configs_copy: Path
) -> None:
    path = tmp_path / "readings.csv"
    _table(3).select("Plan Tier", "monthly fee", "seats", "trial", "segment").write_csv(path)
    profile = profile_table(path)
    assert (profile.entity.name, profile.entity.source) == ("entity_id", None)
    assert (profile.time.name, profile.time.source) == ("event_ts", None)
    assert profile.label_guessed and profile.label.name == "segment"  # the last usable column
    text = render_use_case("readings", profile)
    marked = [line for line in text.splitlines() if REVIEW in line]
    assert any(line.strip().startswith("label: segment") for line in marked)
    assert any("entity id generated" in line for line in marked)
    assert any("event time generated" in line for line in marked)
    uc = _load(configs_copy, "readings", text, tmp_path / "data")
    assert uc.model is not None and uc.model.task == "multiclass"


def test_unusable_tables_and_labels_are_config_errors(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    _table(4).write_csv(path)
    with pytest.raises(ConfigError, match="did you mean 'monthly fee'"):
        profile_table(path, label="monthly_feee")
    with pytest.raises(ConfigError, match="not a class label"):
        profile_table(path, label="notes")
    (tmp_path / "table.json").write_text("{}")
    with pytest.raises(ConfigError, match=r"neither a \.csv nor a \.parquet"):
        profile_table(tmp_path / "table.json")
    with pytest.raises(ConfigError, match="does not exist"):
        profile_table(tmp_path / "missing.csv")


def test_init_refuses_a_use_case_that_exists(
    tmp_path: Path, mlops_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "accounts.csv"
    _table(5).write_csv(path)
    assert main(["init", "churn", "--from-table", str(path)]) == 2
    assert "churn.yaml already exists" in capsys.readouterr().err
    assert main(["init", "a", "b", "--from-table", str(path)]) == 2
    assert "exactly one new use-case name" in capsys.readouterr().err


def test_a_guessed_label_is_never_free_text_or_a_date(tmp_path: Path) -> None:
    path = tmp_path / "visits.csv"
    _table(6).select("monthly fee", "Plan Tier", "seen_at", "notes").write_csv(path)
    profile = profile_table(path)
    assert profile.label_guessed and profile.label.name == "plan_tier"
    assert profile.task == "multiclass" and profile.time.name == "seen_at"
