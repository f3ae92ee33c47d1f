"""Error messages never print a secret or a whole mapping.

Where a config expects the NAME of an environment variable, a secret VALUE written by mistake is
reported as such, masked; a secret-looking value anywhere else is masked too.
"""

from pathlib import Path

import pytest

from mlops_assets.config.problems import describe_value, looks_like_secret, mask
from mlops_assets.config.project import load_project
from mlops_assets.errors import ConfigError
from mlops_assets_tests.config.config_helpers import (
    environ_for,
    line_of,
    load_error,
    load_use_case,
    only_problem,
    use_case_file,
    write_use_case,
)

DATABRICKS_TOKEN = "dapi" + "0f3c9a1b2d4e5f60718293a4b5c6d7e8"
SLACK_TOKEN = "xoxb-" + "2048637151-7351201932-Zq8VvLmT3nRcY5pHkWd2sJxB"
GITHUB_TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
WEBHOOK = "https://hooks.example.com/services/T0A1B2C3D/B4E5F6G7H/" + "q1W2e3R4t5Y6u7I8o9P0aSdF"


def _everything(err: ConfigError) -> str:
    return f"{err}\n{err.message}\n{err.context}\n{err.fix}"


def _databricks_env(configs: Path, line: str) -> Path:
    path = configs / "environments" / "databricks.yaml"
    text = path.read_text()
    key = line.split(":")[0]
    kept = [row for row in text.splitlines() if not row.startswith(f"{key}:")]
    path.write_text("\n".join([*kept, line]) + "\n")
    return path


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        (f"token_env: {DATABRICKS_TOKEN}", DATABRICKS_TOKEN),
        ("host_env: https://adb-1234567890123456.7.azuredatabricks.net", "adb-1234567890123456"),
    ],
)
def test_a_secret_where_a_variable_name_belongs_is_named_and_masked(
    configs_copy: Path, data_dir: Path, line: str, secret: str
) -> None:
    path = _databricks_env(configs_copy, line)
    err = load_error(configs_copy, data_dir, env="databricks")
    problem = only_problem(err)
    key = line.split(":")[0]
    assert (problem.file, problem.key_path) == (str(path), key)
    assert problem.line == line_of(path, f"{key}:")
    assert "looks like a secret value, not a variable name" in problem.message
    value = line.split(": ", 1)[1]
    assert mask(value) in problem.message
    assert secret not in _everything(err)
    assert "NAME of the environment variable" in problem.fix


@pytest.mark.parametrize(
    ("channel", "key", "secret"),
    [
        ({"type": "webhook", "url_env": WEBHOOK}, "url_env", WEBHOOK),
        ({"type": "slack", "channel": "#ml", "token_env": SLACK_TOKEN}, "token_env", SLACK_TOKEN),
    ],
)
def test_alert_channels_take_variable_names_not_secrets(
    configs_copy: Path, data_dir: Path, channel: dict[str, str], key: str, secret: str
) -> None:
    data = load_use_case(configs_copy)
    data["monitoring"]["alerts"]["channels"] = [channel]
    write_use_case(configs_copy, data)
    err = load_error(configs_copy, data_dir)
    problem = only_problem(err)
    assert problem.key_path == f"monitoring.alerts.channels.0.{key}"
    assert "looks like a secret value, not a variable name" in problem.message
    assert secret not in _everything(err)
    assert secret[8:20] not in _everything(err)


def test_a_secret_substituted_from_the_environment_is_masked_too(
    configs_copy: Path, data_dir: Path
) -> None:
    _databricks_env(configs_copy, "token_env: ${DATABRICKS_TOKEN}")  # the value, not the name
    with pytest.raises(ConfigError) as info:
        load_project(
            configs_copy,
            env="databricks",
            environ=environ_for(data_dir, DATABRICKS_TOKEN=DATABRICKS_TOKEN),
        )
    assert "looks like a secret value" in info.value.message
    assert DATABRICKS_TOKEN not in _everything(info.value)


def test_a_secret_in_any_other_field_is_masked(configs_copy: Path, data_dir: Path) -> None:
    path = use_case_file(configs_copy)
    path.write_text(
        path.read_text().replace('start_date: "2026-01-01"', f"start_date: {SLACK_TOKEN}")
    )
    err = load_error(configs_copy, data_dir)
    assert only_problem(err).key_path == "start_date"
    assert mask(SLACK_TOKEN) in err.message
    assert SLACK_TOKEN not in _everything(err)


@pytest.mark.parametrize(
    ("place", "quoted_by"),
    [
        (("model", "gates", "primary_metric"), "unknown metric"),
        (("model", "flavor", "estimator"), "not in an allowed family"),
    ],
)
def test_a_secret_quoted_by_a_validator_message_is_masked(
    configs_copy: Path, data_dir: Path, place: tuple[str, ...], quoted_by: str
) -> None:
    data = load_use_case(configs_copy)
    parent = data
    for key in place[:-1]:
        parent = parent[key]
    secret = f"x.{GITHUB_TOKEN}" if place[-1] == "estimator" else SLACK_TOKEN
    parent[place[-1]] = secret
    write_use_case(configs_copy, data)
    err = load_error(configs_copy, data_dir)
    assert quoted_by in err.message
    assert secret not in _everything(err) and secret[4:24] not in _everything(err)
    assert f"'{secret[:4]}****'" in err.message


def test_variable_names_are_accepted(configs_copy: Path, data_dir: Path) -> None:
    data = load_use_case(configs_copy)
    data["monitoring"]["alerts"]["channels"] = [
        {"type": "webhook", "url_env": "ALERT_WEBHOOK_URL"},
        {"type": "slack", "channel": "#ml", "token_env": "my_slack_bot_token"},
    ]
    write_use_case(configs_copy, data)
    uc = load_project(configs_copy, environ=environ_for(data_dir)).use_case("churn")
    assert len(uc.monitoring.alerts.channels) == 2


def test_a_mapping_is_summarised_never_dumped(configs_copy: Path, data_dir: Path) -> None:
    data = load_use_case(configs_copy)
    data["description"] = {"owner": "team-a", "notes": "x" * 500, "token": DATABRICKS_TOKEN}
    write_use_case(configs_copy, data)
    err = load_error(configs_copy, data_dir)
    problem = only_problem(err)
    assert "got a mapping with 3 key(s): owner, notes, token" in problem.message
    assert "x" * 100 not in _everything(err) and DATABRICKS_TOKEN not in _everything(err)
    assert err.context["value"] == "a mapping with 3 key(s): owner, notes, token"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("soon", "'soon'"),
        ("y" * 200, "'" + "y" * 76 + "..."),
        (DATABRICKS_TOKEN, "'dapi****' (36 characters)"),
        ({}, "an empty mapping"),
        ([1, 2, 3], "a list of 3 item(s)"),
        (12.5, "12.5"),
    ],
)
def test_describe_value(value: object, shown: str) -> None:
    assert describe_value(value) == shown
    assert len(describe_value(value)) <= 80


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (DATABRICKS_TOKEN, True),
        (SLACK_TOKEN, True),
        (WEBHOOK, True),
        (GITHUB_TOKEN, True),
        ("AKIA" + "IOSFODNN7EXAMPLE", True),
        ("sklearn.ensemble.HistGradientBoostingClassifier", False),
        ("charges_per_month_of_tenure", False),
        ("monthly_charges_mean_7d", False),
        ("/tmp/pytest-of-root/pytest-12/test_x0/data", False),
        ("https://example.com/docs/config", False),
        ("Predict which telecom customers will churn", False),
    ],
)
def test_looks_like_secret(text: str, secret: bool) -> None:
    assert looks_like_secret(text) is secret
