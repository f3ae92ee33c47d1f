"""Helpers of the config tests: read, change and rewrite use-case YAML in a copied configs/."""

from pathlib import Path
from typing import Any

import yaml

from mlops_assets.config.loader import read_yaml


def use_case_file(configs: Path, name: str = "churn") -> Path:
    """``configs/use_cases/<name>.yaml``."""
    return configs / "use_cases" / f"{name}.yaml"


def load_use_case(configs: Path, name: str = "churn") -> dict[str, Any]:
    """The use case as plain data (YAML 1.2, no substitution)."""
    data, _ = read_yaml(use_case_file(configs, name))
    assert isinstance(data, dict)
    return data


def write_use_case(configs: Path, data: dict[str, Any], name: str = "churn") -> Path:
    """Write ``data`` as the use case file (block style, keys in their order)."""
    path = use_case_file(configs, name)
    path.write_text(yaml.safe_dump(data, sort_keys=False, width=1000), encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    """1-based line number of the only line of ``path`` containing ``needle``."""
    hits = [i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line]
    assert len(hits) == 1, f"{needle!r} found on lines {hits} of {path}"
    return hits[0]


def dataset(data: dict[str, Any], name: str) -> dict[str, Any]:
    """The dataset mapping called ``name``."""
    found: dict[str, Any] = next(d for d in data["datasets"] if d["name"] == name)
    return found
