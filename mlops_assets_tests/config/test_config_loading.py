"""Loading configs/: the real files, and every way a person can get a file wrong."""

from pathlib import Path
from typing import Any

import pytest

from mlops_assets.config.environment import DatabricksEnvironment, LocalEnvironment
from mlops_assets.config.loader import deep_merge, read_yaml
from mlops_assets.config.project import load_project
from mlops_assets.config.rules import AcceptedValuesRule
from mlops_assets.errors import ConfigError
from mlops_assets_tests.config.config_helpers import (
    dataset,
    line_of,
    load_use_case,
    use_case_file,
    write_use_case,
)
from mlops_assets_tests.conftest import CONFIGS_DIR


def _environ(data_dir: Path, **extra: str) -> dict[str, str]:
    return {"MLOPS_DATA_DIR": str(data_dir), **extra}


def _load_error(configs: Path, environ: dict[str, str]) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_project(configs, environ=environ)
    return info.value


# --- the real configuration ---------------------------------------------------------------


def test_real_configs_load_for_the_local_environment(data_dir: Path) -> None:
    project = load_project(CONFIGS_DIR, environ=_environ(data_dir))
    assert project.env_name == "local"
    assert isinstance(project.environment, LocalEnvironment)
    assert project.environment.data_dir == data_dir
    stems = sorted(p.stem for p in (CONFIGS_DIR / "use_cases").glob("*.yaml") if "." not in p.stem)
    assert sorted(uc.name for uc in project.use_cases) == stems
    for uc in project.use_cases:
        assert uc.datasets, uc.name
        for ds in uc.datasets:
            # every key column is guarded by a not-null rule, explicit or implied
            not_null = {r.column for r in ds.all_rules() if r.type == "not_null"}
            assert set(ds.keys) <= not_null


def test_every_environment_file_loads(data_dir: Path) -> None:
    names = sorted(p.stem for p in (CONFIGS_DIR / "environments").glob("*.yaml"))
    assert "local" in names
    for name in names:
        project = load_project(CONFIGS_DIR, env=name, environ=_environ(data_dir))
        assert project.env_name == name
        kind = project.environment.type
        assert name == kind or name.startswith(f"{kind}-")  # e.g. databricks-dev


def test_databricks_environment_takes_catalog_from_the_environment(data_dir: Path) -> None:
    environ = _environ(data_dir, MLOPS_CATALOG="prod_catalog", MLOPS_SCHEMA="churn_prod")
    env = load_project(CONFIGS_DIR, env="databricks", environ=environ).environment
    assert isinstance(env, DatabricksEnvironment)
    assert (env.catalog, env.schema_name) == ("prod_catalog", "churn_prod")


def test_relative_data_dir_resolves_against_the_folder_holding_configs(configs_copy: Path) -> None:
    project = load_project(configs_copy, environ={})  # MLOPS_DATA_DIR unset: default .mlops_data
    assert project.environment.data_dir == (configs_copy.parent / ".mlops_data").resolve()


def test_mlops_env_selects_the_environment(data_dir: Path) -> None:
    project = load_project(CONFIGS_DIR, environ=_environ(data_dir, MLOPS_ENV="databricks"))
    assert project.env_name == "databricks"


def test_unknown_mlops_env_lists_the_known_ones(data_dir: Path) -> None:
    err = _load_error(CONFIGS_DIR, _environ(data_dir, MLOPS_ENV="staging"))
    known = sorted(p.stem for p in (CONFIGS_DIR / "environments").glob("*.yaml"))
    assert "unknown environment 'staging'" in err.message
    assert err.context["known"] == known
    assert err.fix is not None and all(name in err.fix for name in known)


# --- malformed files ----------------------------------------------------------------------


def test_bad_yaml_names_the_file_and_the_line(configs_copy: Path, data_dir: Path) -> None:
    path = use_case_file(configs_copy)
    lines = path.read_text().splitlines()
    lines.insert(3, "owners: [team:a, team:b")  # unclosed flow sequence on line 4
    path.write_text("\n".join(lines) + "\n")
    err = _load_error(configs_copy, _environ(data_dir))
    assert err.context["file"] == str(path)
    assert str(path) in str(err)
    # PyYAML notices the problem after the broken line; the message also says where it began
    assert isinstance(err.context["line"], int) and err.context["line"] > 4
    assert f"line {err.context['line']}" in err.message
    assert "flow sequence started at line 4" in err.message
    assert "not valid YAML" in err.message


def test_empty_use_case_file_is_rejected(configs_copy: Path, data_dir: Path) -> None:
    use_case_file(configs_copy).write_text("# nothing yet\n")
    err = _load_error(configs_copy, _environ(data_dir))
    assert "is empty" in err.message


def test_missing_file_says_how_to_point_at_configs(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        read_yaml(tmp_path / "nope.yaml")
    assert info.value.fix is not None and "MLOPS_CONFIG_DIR" in info.value.fix


@pytest.mark.parametrize(
    ("where", "good", "typo"),
    [
        ("dataset", "keys", "keyz"),
        ("dataset", "columns", "colums"),
        ("column", "nullable", "nulable"),
        ("rule", "column", "colum"),
        ("use_case", "description", "descripton"),
    ],
)
def test_unknown_key_suggests_the_close_one(
    configs_copy: Path, data_dir: Path, where: str, good: str, typo: str
) -> None:
    data = load_use_case(configs_copy)
    customers = dataset(data, "customers")
    target: dict[str, Any] = {
        "dataset": customers,
        "column": customers["columns"][0],
        "rule": customers["rules"][0],  # a mapping rule (discriminated union member)
        "use_case": data,
    }[where]
    assert good in target
    target[typo] = target.pop(good)
    path = write_use_case(configs_copy, data)
    err = _load_error(configs_copy, _environ(data_dir))
    assert f"did you mean `{good}`?" in err.message
    # the summary points at the typo itself, with its line, not at the "missing" it causes
    assert err.fix is not None and err.fix.startswith(f"did you mean `{good}`")
    assert str(err.context["key_path"]).endswith(typo)
    assert "not_null" not in str(err.context["key_path"])  # no union tags in the path
    assert err.context["file"] == str(path)
    assert err.context["line"] == line_of(path, f"{typo}:")


def test_wrong_type_names_key_path_line_and_value(configs_copy: Path, data_dir: Path) -> None:
    data = load_use_case(configs_copy)
    data["end_offset_days"] = "soon"
    path = write_use_case(configs_copy, data)
    err = _load_error(configs_copy, _environ(data_dir))
    assert err.context["key_path"] == "end_offset_days"
    assert err.context["value"] == "soon"
    assert err.context["line"] == line_of(path, "end_offset_days:")
    assert "got 'soon'" in err.message
    assert err.fix is not None and "expected type" in err.fix


def test_wrong_literal_inside_a_discriminated_union_keeps_its_line(tmp_path: Path) -> None:
    configs = tmp_path / "configs"
    (configs / "environments").mkdir(parents=True)
    env_file = configs / "environments" / "local.yaml"
    env_file.write_text("type: local\ndata_dir: /tmp/x\nexecutor: threads\n")
    err = _load_error(configs, {})
    assert err.context["key_path"] == "executor"  # not "local.executor"
    assert err.context["line"] == 3
    assert "'in_process' or 'multiprocess'" in err.message


def test_missing_required_key_says_which_to_add(configs_copy: Path, data_dir: Path) -> None:
    data = load_use_case(configs_copy)
    del data["start_date"]
    write_use_case(configs_copy, data)
    err = _load_error(configs_copy, _environ(data_dir))
    assert err.context["key_path"] == "start_date"
    assert "Field required" in err.message
    assert err.fix == "add `start_date`"
    assert "value" not in err.context  # the whole parent mapping is not dumped


def test_every_problem_of_a_file_is_listed(configs_copy: Path, data_dir: Path) -> None:
    data = load_use_case(configs_copy)
    data["end_offset_days"] = -1
    data["descripton"] = data.pop("description")
    write_use_case(configs_copy, data)
    err = _load_error(configs_copy, _environ(data_dir))
    assert "(2 problem(s))" in err.message
    assert "end_offset_days" in err.message and "descripton" in err.message


# --- environment variables ----------------------------------------------------------------


def test_missing_env_var_names_variable_file_and_key_path(
    configs_copy: Path, data_dir: Path
) -> None:
    data = load_use_case(configs_copy)
    dataset(data, "labels")["description"] = "owned by ${CHURN_LABELS_OWNER}"
    path = write_use_case(configs_copy, data)
    err = _load_error(configs_copy, _environ(data_dir))
    labels_index = [d["name"] for d in data["datasets"]].index("labels")
    line = line_of(path, "owned by ${CHURN_LABELS_OWNER}")
    assert err.context == {
        "file": str(path),
        "line": line,
        "key_path": f"datasets.{labels_index}.description",
        "variable": "CHURN_LABELS_OWNER",
    }
    assert "CHURN_LABELS_OWNER" in err.message and f"{path}:{line}" in err.message
    assert err.fix is not None and "${CHURN_LABELS_OWNER:-default}" in err.fix


@pytest.mark.parametrize(
    ("template", "environ", "expected"),
    [
        ("${TEAM}", {"TEAM": "ml"}, "ml"),
        ("${TEAM:-platform}", {}, "platform"),
        ("${TEAM:-platform}", {"TEAM": "ml"}, "ml"),
        ("${TEAM:-platform}", {"TEAM": ""}, "platform"),  # empty counts as unset
        ("${TEAM:-}", {}, ""),
        ("cost $${HOME} per ${UNIT:-month}", {}, "cost ${HOME} per month"),
        ("$${NOT_SUBSTITUTED}", {}, "${NOT_SUBSTITUTED}"),
        ("a ${X}${Y} b", {"X": "1", "Y": "2"}, "a 12 b"),
        ("no dollar here", {}, "no dollar here"),
    ],
)
def test_substitution(
    configs_copy: Path, data_dir: Path, template: str, environ: dict[str, str], expected: str
) -> None:
    data = load_use_case(configs_copy)
    data["description"] = template
    write_use_case(configs_copy, data)
    project = load_project(configs_copy, environ=_environ(data_dir, **environ))
    assert project.use_case("churn").description == expected


def test_substitution_reaches_the_environment_file(configs_copy: Path, tmp_path: Path) -> None:
    project = load_project(configs_copy, environ={"MLOPS_DATA_DIR": str(tmp_path / "elsewhere")})
    assert project.environment.data_dir == tmp_path / "elsewhere"


# --- overlays and YAML 1.2 ----------------------------------------------------------------


def test_environment_overlay_is_deep_merged(configs_copy: Path, data_dir: Path) -> None:
    base = load_project(configs_copy, environ=_environ(data_dir)).use_case("churn")
    assert base.training_set is not None
    overlay = use_case_file(configs_copy).with_name("churn.local.yaml")
    overlay.write_text(
        "owners: ['team:local-dev']\n"
        "schedules:\n  ingestion: '0 5 * * *'\n"
        "training_set:\n  max_feature_age_days: ${MAX_AGE:-30}\n"
    )
    merged = load_project(configs_copy, environ=_environ(data_dir)).use_case("churn")
    assert merged.owners == ["team:local-dev"]  # lists are replaced
    assert merged.schedules.ingestion == "0 5 * * *"
    assert merged.schedules.inference == base.schedules.inference  # sibling keys kept
    assert merged.training_set is not None
    assert merged.training_set.max_feature_age_days == 30  # substituted in the overlay too
    assert merged.training_set.feature_table == base.training_set.feature_table
    assert merged.datasets == base.datasets
    # the overlay of another environment is not applied
    overlay.rename(overlay.with_name("churn.databricks.yaml"))
    again = load_project(configs_copy, environ=_environ(data_dir)).use_case("churn")
    assert again.owners == base.owners


def test_a_problem_written_in_the_overlay_points_at_the_overlay(
    configs_copy: Path, data_dir: Path
) -> None:
    overlay = use_case_file(configs_copy).with_name("churn.local.yaml")
    overlay.write_text(
        "schedules:\n  ingestion: '0 5 * * *'\n"
        "training_set:\n  label_column: churned\n"
        "model:\n  task: clasification\n"
    )
    err = _load_error(configs_copy, _environ(data_dir))
    assert err.context["file"] == str(overlay)
    assert (err.context["key_path"], err.context["line"]) == ("model.task", 6)
    overlay.write_text("training_set:\n  label_column: churned\n")
    err = _load_error(configs_copy, _environ(data_dir))
    assert (err.context["file"], err.context["line"]) == (str(overlay), 2)
    assert err.context["key_path"] == "training_set.label_column"
    assert err.fix is not None and err.fix.startswith("did you mean `churn`?")


def test_deep_merge_semantics() -> None:
    base = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    assert deep_merge(base, {"a": {"c": [3]}, "e": 2}) == {"a": {"b": 1, "c": [3]}, "d": 1, "e": 2}
    assert deep_merge(base, {"a": None}) == {"a": None, "d": 1}
    assert base == {"a": {"b": 1, "c": [1, 2]}, "d": 1}  # inputs untouched


def test_yaml_1_2_booleans(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("on: push\nyes: y\nanswer: No\nflag: true\noff_flag: False\nplain: off\n")
    data, _ = read_yaml(path)
    assert data == {
        "on": "push",
        "yes": "y",
        "answer": "No",
        "flag": True,
        "off_flag": False,
        "plain": "off",
    }


def test_unquoted_yes_no_stay_accepted_strings(configs_copy: Path, data_dir: Path) -> None:
    data = load_use_case(configs_copy)
    labels = dataset(data, "labels")
    labels["rules"] = [{"type": "accepted_values", "column": "churn", "values": ["Yes", "No"]}]
    path = write_use_case(configs_copy, data)
    text = path.read_text().replace("- 'Yes'", "- Yes").replace("- 'No'", "- No")
    path.write_text(text)
    assert "- Yes" in text  # really unquoted in the file
    uc = load_project(configs_copy, environ=_environ(data_dir)).use_case("churn")
    labels_rules = next(d for d in uc.datasets if d.name == "labels").rules
    rule = next(r for r in labels_rules if isinstance(r, AcceptedValuesRule))
    assert rule.values == ["Yes", "No"]


# --- cross references ---------------------------------------------------------------------


def test_use_case_name_must_match_the_file_name(configs_copy: Path, data_dir: Path) -> None:
    renamed = use_case_file(configs_copy, "telco")
    use_case_file(configs_copy).rename(renamed)
    err = _load_error(configs_copy, _environ(data_dir))
    assert "differs from the file name" in err.message
    assert err.context["value"] == "churn"
    assert err.context["line"] == 3  # `name: churn`, after the two comment lines
    assert err.fix is not None and "name: telco" in err.fix


def test_bad_expression_in_a_feature_fails_at_load_with_its_line(
    configs_copy: Path, data_dir: Path
) -> None:
    data = load_use_case(configs_copy)
    feature = data["feature_tables"][0]["features"][0]
    feature["expr"] = "tenure +* 2"
    path = write_use_case(configs_copy, data)
    err = _load_error(configs_copy, _environ(data_dir))
    assert "cannot parse expression 'tenure +* 2' at position 8" in err.message
    assert err.context["line"] == line_of(path, "tenure +* 2")


def test_an_unchanged_file_is_validated_once_and_any_change_is_seen(
    configs_copy: Path, data_dir: Path
) -> None:
    """The code location reads each use case for the project and again for its component: the
    second read reuses the validated (immutable) model; new bytes or a new environment do not."""
    first = load_project(configs_copy, environ=_environ(data_dir)).use_case("churn")
    assert load_project(configs_copy, environ=_environ(data_dir)).use_case("churn") is first
    path = use_case_file(configs_copy)
    text = path.read_text()
    assert "mode: ${MLOPS_GATE_MODE:-enabled}" in text
    edited = text.replace("${MLOPS_GATE_MODE:-enabled}", "${MLOPS_GATE_MODE:-disabled}", 1)
    assert len(edited) != len(text)
    path.write_text(edited)
    changed = load_project(configs_copy, environ=_environ(data_dir)).use_case("churn")
    assert changed is not first and changed.model is not None and first.model is not None
    assert (first.model.gates.mode, changed.model.gates.mode) == ("enabled", "disabled")
    path.write_text(text.replace("${MLOPS_GATE_MODE:-enabled}", "${MLOPS_GATE_MODE:-dry_run}", 1))
    same_size = load_project(configs_copy, environ=_environ(data_dir)).use_case("churn")
    assert same_size.model is not None and same_size.model.gates.mode == "dry_run"
    env = _environ(data_dir, MLOPS_GATE_MODE="enabled")
    from_env = load_project(configs_copy, environ=env).use_case("churn")
    assert from_env.model is not None and from_env.model.gates.mode == "enabled"
