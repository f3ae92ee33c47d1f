"""The Dagster instance used by headless commands: ``$DAGSTER_HOME`` when set, else ephemeral."""

import os
from pathlib import Path

import dagster as dg

DAGSTER_YAML = """\
# Written by mlops-assets for local runs: no telemetry, no first-run pop-up.
telemetry:
  enabled: false
nux:
  enabled: false
"""


def ensure_dagster_home(home: Path) -> Path:
    """Create ``home`` with a dagster.yaml (telemetry off, nux off) if it has none."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML, encoding="utf-8")
    return home


def get_instance() -> dg.DagsterInstance:
    """A persistent instance when ``DAGSTER_HOME`` is set (runs show in ``dagster dev``)."""
    home = os.environ.get("DAGSTER_HOME")
    if home:
        ensure_dagster_home(Path(home))
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()
