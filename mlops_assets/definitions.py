"""The code location: configuration in, Dagster Definitions out. No logic lives here."""

import dagster as dg

from mlops_assets.build import build_definitions
from mlops_assets.config.project import load_project

defs: dg.Definitions = build_definitions(load_project())
