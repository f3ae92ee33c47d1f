"""Landing-file simulator for any use case: daily observations and delayed labels per its YAML.

Rows come from a source table (a CSV/Parquet file or a shipped table, sampled with noise) or are
synthesized from the declared schema and rules; drift, bad rows and duplicates can hit any column
of any dataset. Example::

    from pathlib import Path
    from mlops_assets.simulate import NumericDrift, SimulationConfig, simulate

    config = SimulationConfig(days=30, drift=[NumericDrift(column="monthly_charges", from_day=20,
                                                           multiply=1.3)])
    summary = simulate(config, Path(".mlops_data"))  # the churn use case of ./configs
"""

from mlops_assets.simulate.config import (
    CategoricalDrift,
    DriftInjection,
    NumericDrift,
    SimulationConfig,
)
from mlops_assets.simulate.layout import landing_file, landing_root
from mlops_assets.simulate.runner import DatasetDay, DaySummary, SimulationSummary, simulate

__all__ = [
    "CategoricalDrift",
    "DatasetDay",
    "DaySummary",
    "DriftInjection",
    "NumericDrift",
    "SimulationConfig",
    "SimulationSummary",
    "landing_file",
    "landing_root",
    "simulate",
]
