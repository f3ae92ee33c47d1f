"""The demo's window of days: it ends yesterday, its guards speak before anything runs, and
`mlops-assets dev` starts the UI's daily partitions at its first day."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from mlops_assets.assets.keys import PARTITIONS_START_ENV, daily_partitions, partitions_start
from mlops_assets.cli.demo_window import (
    DemoWindow,
    check_days,
    demo_days,
    read_window,
    write_window,
)
from mlops_assets.cli.dev import partitions_env
from mlops_assets.config.project import load_project
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.errors import ConfigError
from mlops_assets.storage.lakehouse import LocalLakehouse
from mlops_assets_tests.conftest import CONFIGS_DIR


def _churn(data_dir: Path | None = None) -> UseCaseConfig:
    environ = {"MLOPS_DATA_DIR": str(data_dir)} if data_dir else {}
    return load_project(CONFIGS_DIR, environ=environ).use_case("churn")


def test_the_window_ends_yesterday_or_at_the_given_day() -> None:
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    days = demo_days(7)
    assert days[-1] == yesterday and days[0] == yesterday - timedelta(days=6)
    assert demo_days(3, date(2026, 3, 10)) == [date(2026, 3, d) for d in (8, 9, 10)]


def test_too_few_days_for_the_labels_is_refused_with_the_number_needed() -> None:
    uc = _churn()
    with pytest.raises(ConfigError) as err:
        check_days(uc, demo_days(3, date(2026, 3, 10)), label_delay_days=3)
    assert "labels arrive 3 days after" in str(err.value)
    assert "--days 5 or more" in str(err.value)
    check_days(uc, demo_days(5, date(2026, 3, 10)), label_delay_days=3)  # enough


def test_days_outside_the_partitions_are_refused() -> None:
    uc = _churn()
    before_start = uc.start_date - timedelta(days=1)
    with pytest.raises(ConfigError, match="not daily partitions"):
        check_days(uc, demo_days(6, before_start), label_delay_days=3)


def test_partitions_start_at_the_override_but_never_before_the_configured_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    uc = _churn()
    later = uc.start_date + timedelta(days=30)
    assert partitions_start(uc, {}) == uc.start_date
    assert partitions_start(uc, {PARTITIONS_START_ENV: later.isoformat()}) == later
    earlier = uc.start_date - timedelta(days=30)
    assert partitions_start(uc, {PARTITIONS_START_ENV: earlier.isoformat()}) == uc.start_date
    with pytest.raises(ConfigError, match="is not a date"):
        partitions_start(uc, {PARTITIONS_START_ENV: "last week"})
    monkeypatch.setenv(PARTITIONS_START_ENV, later.isoformat())
    assert daily_partitions(uc).get_partition_keys()[0] == later.isoformat()


def test_dev_starts_partitions_at_the_recorded_demo_window(tmp_path: Path) -> None:
    environ = {"MLOPS_DATA_DIR": str(tmp_path)}
    assert partitions_env(environ) == {}  # no demo ran here
    uc = _churn(tmp_path)
    lakehouse = LocalLakehouse(tmp_path)
    window = DemoWindow(first_day=date(2026, 11, 25), last_day=date(2026, 12, 1))
    write_window(lakehouse, uc, window)
    assert read_window(lakehouse, uc) == window
    assert partitions_env(environ) == {PARTITIONS_START_ENV: "2026-11-25"}
    # an explicit setting wins
    assert partitions_env({**environ, PARTITIONS_START_ENV: "2026-11-30"}) == {}
