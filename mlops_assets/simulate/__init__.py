"""Landing-file simulator: daily customer snapshots and delayed churn labels from wa_churn.

Example::

    from pathlib import Path
    from mlops_assets.simulate import NumericDrift, SimulationConfig, simulate

    config = SimulationConfig(days=30, drift=[NumericDrift(column="monthly_charges", from_day=20,
                                                           multiply=1.3)])
    summary = simulate(config, Path(".mlops_data"))
"""

from mlops_assets.simulate.config import (
    CategoricalDrift,
    DriftInjection,
    NumericDrift,
    SimulationConfig,
)
from mlops_assets.simulate.layout import (
    CUSTOMERS_COLUMNS,
    LABELS_COLUMNS,
    landing_file,
    landing_root,
)
from mlops_assets.simulate.runner import DaySummary, SimulationSummary, simulate

__all__ = [
    "CUSTOMERS_COLUMNS",
    "LABELS_COLUMNS",
    "CategoricalDrift",
    "DaySummary",
    "DriftInjection",
    "NumericDrift",
    "SimulationConfig",
    "SimulationSummary",
    "landing_file",
    "landing_root",
    "simulate",
]
