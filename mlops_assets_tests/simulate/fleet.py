"""A use case unlike churn, for the simulator tests: machines, sensor readings and failures.

Other column names and every declared type (int64 ids, bool, date, float, regex codes), a second
observation dataset, a raw landing name (`temp_c` -> temperature_c), a `;`-delimited Parquet
neighbour, and labels with a column the observations lack (`severity`).
"""

import shutil
from pathlib import Path
from typing import Any

import yaml

from mlops_assets.config.loader import project_root
from mlops_assets.config.project import load_project
from mlops_assets.config.use_case import UseCaseConfig

SITES = ["north", "south", "east"]
MODEL_CODE = "^M-[A-Z]{2}[0-9]{2}$"


def fleet_yaml(task: str = "classification") -> dict[str, Any]:
    """The use case as YAML data; `task` picks a yes/no, 3-class or numeric label."""
    label: dict[str, Any] = {
        "classification": {"name": "failed", "dtype": "string", "nullable": False},
        "multiclass": {"name": "failed", "dtype": "string", "nullable": False},
        "regression": {"name": "failed", "dtype": "float64", "nullable": False},
    }[task]
    label_rules = {
        "classification": ["failed in ('yes', 'no')"],
        "multiclass": ["failed in ('none', 'minor', 'major')"],
        "regression": ["failed between 0 and 48"],
    }[task]
    model_task = "regression" if task == "regression" else "classification"
    return {
        "name": "fleet",
        "start_date": "2026-03-01",
        "datasets": [
            {
                "name": "readings",
                "source": {"format": "csv"},
                "keys": ["machine_id", "read_on"],
                "event_time": "read_on",
                "columns": [
                    {"name": "machine_id", "dtype": "int64", "nullable": False},
                    {"name": "read_on", "dtype": "datetime", "nullable": False},
                    {"name": "site", "dtype": "string", "nullable": False},
                    {"name": "temperature_c", "dtype": "float64", "source": "temp_c"},
                    {"name": "vibration", "dtype": "float64"},
                    {"name": "running", "dtype": "bool"},
                    {"name": "model_code", "dtype": "string"},
                    {"name": "installed_on", "dtype": "date"},
                    {"name": "rpm", "dtype": "int64"},
                    {"name": "firmware", "dtype": "string"},
                ],
                "rules": [
                    f"site in ({', '.join(repr(s) for s in SITES)})",
                    "temperature_c between -20 and 120",
                    f"model_code matches '{MODEL_CODE}'",
                    {"type": "range", "column": "rpm", "min": 0, "max": 9000},
                    {"type": "range", "column": "machine_id", "min": 1000},
                    "rpm <= 5000 or temperature_c >= 10",
                ],
            },
            {
                "name": "service_events",
                "source": {"format": "parquet", "subdir": "service"},
                "keys": ["machine_id", "serviced_at"],
                "event_time": "serviced_at",
                "columns": [
                    {"name": "machine_id", "dtype": "int64", "nullable": False},
                    {"name": "serviced_at", "dtype": "datetime", "nullable": False},
                    {"name": "technician", "dtype": "string"},
                    {"name": "cost", "dtype": "float64"},
                ],
                "rules": ["cost between 0 and 5000"],
            },
            {
                "name": "failures",
                "source": {"format": "csv", "delimiter": ";"},
                "keys": ["machine_id", "read_on"],
                "event_time": "confirmed_at",
                "columns": [
                    {"name": "machine_id", "dtype": "int64", "nullable": False},
                    {"name": "read_on", "dtype": "datetime", "nullable": False},
                    label,
                    {"name": "confirmed_at", "dtype": "datetime"},
                    {"name": "severity", "dtype": "int64"},
                ],
                "rules": [*label_rules, "confirmed_at >= read_on", "severity in (1, 2, 3)"],
            },
        ],
        "feature_tables": [
            {
                "name": "machine_features",
                "source": "silver.readings",
                "entity_key": "machine_id",
                "timestamp": "read_on",
                "features": [
                    {"name": "temp", "expr": "temperature_c", "dtype": "float64",
                     "description": "Temperature"},
                    {"name": "vib", "expr": "vibration", "dtype": "float64",
                     "description": "Vibration"},
                    {"name": "where", "expr": "site", "dtype": "string", "description": "Site"},
                ],
            }
        ],
        "training_set": {
            "feature_table": "machine_features",
            "labels": "silver.failures",
            "label_column": "failed",
            "label_timestamp": "read_on",
        },
        "model": {
            "name": "failure_model",
            "task": model_task,
            "label": "failed",
            **({"positive_label": "yes"} if task == "classification" else {}),
            "entity_key": "machine_id",
            "timestamp": "read_on",
            "numeric_features": ["temp", "vib"],
            "categorical_features": ["where"],
            "flavor": {"type": "sklearn", "estimator": "sklearn.linear_model.LogisticRegression"},
            "gates": {
                "primary_metric": "rmse" if task == "regression" else "roc_auc",
                "thresholds": [
                    {"metric": "rmse", "max": 100.0}
                    if task == "regression"
                    else {"metric": "roc_auc", "min": 0.6}
                ],
            },
        },
    }  # fmt: skip


def config_dir(root: Path, use_cases: dict[str, dict[str, Any] | Path]) -> Path:
    """A configs folder under `root`: the project's environments plus the given use cases."""
    target = root / "configs"
    shutil.copytree(project_root() / "configs" / "environments", target / "environments")
    (target / "use_cases").mkdir(parents=True)
    for name, content in use_cases.items():
        path = target / "use_cases" / f"{name}.yaml"
        if isinstance(content, Path):
            shutil.copyfile(content, path)
        else:
            path.write_text(yaml.safe_dump(content, sort_keys=False))
    return target


def load_fleet(root: Path, task: str = "classification") -> UseCaseConfig:
    """The fleet use case read through the project loader from a temporary configs folder."""
    return load_project(directory=config_dir(root, {"fleet": fleet_yaml(task)})).use_case("fleet")
