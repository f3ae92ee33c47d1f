"""The sensors the demo leaves started: the landing sensor's cursor, and no sensor without a
persistent instance.

After a real demo, the real daemon records the sensors' decisions as ticks and no tick starts a
run: tested in ``test_cli_demo.py`` on the demo that file runs once for all its tests.
"""

import json
from pathlib import Path

import dagster as dg
import pytest

from mlops_assets.cli.demo import location_definitions
from mlops_assets.cli.demo_sensors import landing_cursor, leave_sensors_started
from mlops_assets.config.project import ProjectConfig


def test_landing_cursor_records_every_landed_day(
    project: ProjectConfig, landed_data_dir: Path
) -> None:
    """The cursor the demo gives the landing sensor: its own evaluation over the landed files."""
    uc = project.use_case("churn")
    defs = location_definitions(project, keep_serving=False)
    with dg.DagsterInstance.ephemeral() as instance:
        name, cursor = landing_cursor(defs, uc, instance)
    assert name == "churn_landing_sensor" and cursor is not None
    landed = {d.name for d in (landed_data_dir / "landing" / "churn").glob("*/*") if d.is_dir()}
    assert set(json.loads(cursor)) == landed and landed


def test_no_sensor_is_started_without_a_persistent_instance(
    project: ProjectConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    with dg.DagsterInstance.ephemeral() as instance:
        said = leave_sensors_started(
            project.use_case("churn"), True, dg.Definitions(), instance, fresh=True
        )
    assert said.startswith("sensors not started: no $DAGSTER_HOME")
