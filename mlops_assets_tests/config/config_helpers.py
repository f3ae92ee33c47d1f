"""Helpers of the config tests: read, change and rewrite use-case YAML in a copied configs/."""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlops_assets.config.loader import read_yaml
from mlops_assets.config.project import load_project
from mlops_assets.errors import ConfigError

# One problem of a ConfigError listing several: "<file>:<line>: <key path>: <message>" + fix.
_PROBLEM = re.compile(r"^  (?P<file>/\S+?):(?P<line>\d+): (?P<path>\S+): (?P<message>.*)$")


@dataclass(frozen=True)
class Reported:
    """One problem as the user reads it."""

    file: str
    line: int
    key_path: str
    message: str
    fix: str


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
    path.write_text(dump_yaml(data), encoding="utf-8")
    return path


def dump_yaml(data: Any) -> str:
    """``data`` as block-style YAML, keys in their order (LibYAML's emitter when available)."""
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    text: str = yaml.dump(data, Dumper=dumper, sort_keys=False, width=1000)
    return text


def line_of(path: Path, needle: str) -> int:
    """1-based line number of the only line of ``path`` containing ``needle``."""
    hits = [i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line]
    assert len(hits) == 1, f"{needle!r} found on lines {hits} of {path}"
    return hits[0]


def dataset(data: dict[str, Any], name: str) -> dict[str, Any]:
    """The dataset mapping called ``name``."""
    found: dict[str, Any] = next(d for d in data["datasets"] if d["name"] == name)
    return found


def environ_for(data_dir: Path, **extra: str) -> dict[str, str]:
    """An environment with MLOPS_DATA_DIR at ``data_dir`` plus ``extra``."""
    return {"MLOPS_DATA_DIR": str(data_dir), **extra}


def load_error(configs: Path, data_dir: Path, env: str | None = None) -> ConfigError:
    """The ConfigError that loading ``configs`` must raise."""
    with pytest.raises(ConfigError) as info:
        load_project(configs, env=env, environ=environ_for(data_dir))
    return info.value


def reported(err: ConfigError) -> list[Reported]:
    """Every problem listed in ``err``'s message."""
    lines = err.message.splitlines()
    found = []
    for i, text in enumerate(lines):
        match = _PROBLEM.match(text)
        if match is not None:
            fix = lines[i + 1].strip().removeprefix("fix: ") if i + 1 < len(lines) else ""
            found.append(
                Reported(match["file"], int(match["line"]), match["path"], match["message"], fix)
            )
    return found


def only_problem(err: ConfigError) -> Reported:
    """The single problem of ``err`` (fails when there are several)."""
    problems = reported(err)
    assert len(problems) == 1, err.message
    return problems[0]
