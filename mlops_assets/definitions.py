"""The code location ``mlops_assets``: one Component per use case from the dg defs folder
(``mlops_assets/defs/<use_case>/defs.yaml``), then the active environment's resources and executor,
bound once for every use case. No logic lives here."""

import dagster as dg

from mlops_assets.components.project import build_location_definitions
from mlops_assets.config.project import load_project

defs: dg.Definitions = build_location_definitions(load_project())
