"""The validated project: one environment and every use case under ``configs/``."""

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import Field

from mlops_assets.config.base import StrictModel
from mlops_assets.config.environment import EnvironmentConfig, LocalEnvironment
from mlops_assets.config.loader import DEFAULT_ENV, config_dir, load_file, project_root
from mlops_assets.config.locations import line_of
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.config.yaml_reader import read_yaml
from mlops_assets.errors import ConfigError


class ProjectConfig(StrictModel):
    """What ``definitions.py`` builds the code location from."""

    env_name: str = Field(description="Name of the active environment (MLOPS_ENV).")
    environment: EnvironmentConfig = Field(description="The active environment.")
    use_cases: list[UseCaseConfig] = Field(description="Every use case found.")
    config_dir: Path = Field(description="Folder the configuration was read from.")

    def use_case(self, name: str) -> UseCaseConfig:
        for uc in self.use_cases:
            if uc.name == name:
                return uc
        raise ConfigError(
            f"no use case named {name!r}",
            context={"known": [u.name for u in self.use_cases]},
            fix=f"add configs/use_cases/{name}.yaml or use one of the known names",
        )


def load_project(
    directory: Path | None = None, env: str | None = None, environ: Mapping[str, str] | None = None
) -> ProjectConfig:
    """Load ``configs/`` for environment ``env`` (default ``$MLOPS_ENV`` or ``local``)."""
    environ = os.environ if environ is None else environ
    directory = directory or config_dir()
    env_name = env or environ.get("MLOPS_ENV") or DEFAULT_ENV
    env_file = directory / "environments" / f"{env_name}.yaml"
    if not env_file.exists():
        known = sorted(p.stem for p in (directory / "environments").glob("*.yaml"))
        raise ConfigError(
            f"unknown environment {env_name!r}: {env_file} does not exist",
            context={"MLOPS_ENV": env_name, "known": known},
            fix=f"set MLOPS_ENV to one of {known}",
        )
    environment: EnvironmentConfig = load_file(env_file, EnvironmentConfig, environ)
    if not environment.data_dir.is_absolute():
        base = directory.parent if directory.parent.exists() else project_root()
        environment = environment.model_copy(
            update={"data_dir": (base / environment.data_dir).resolve()}
        )
    use_case_files = sorted(
        p for p in (directory / "use_cases").glob("*.yaml") if "." not in p.stem
    )
    if not use_case_files:
        raise ConfigError(
            f"no use case found in {directory / 'use_cases'}",
            fix="add a use case YAML such as configs/use_cases/churn.yaml",
        )
    use_cases: list[UseCaseConfig] = [
        load_file(p, UseCaseConfig, environ, overlay=p.with_name(f"{p.stem}.{env_name}.yaml"))
        for p in use_case_files
    ]
    for path, uc in zip(use_case_files, use_cases, strict=True):
        if uc.name != path.stem:
            line = line_of(read_yaml(path)[1], ("name",))
            raise ConfigError(
                f"{path}:{line}: name: {uc.name!r} differs from the file name",
                context={"file": str(path), "line": line, "key_path": "name", "value": uc.name},
                fix=f"set `name: {path.stem}` or rename the file to {uc.name}.yaml",
            )
    return ProjectConfig(
        env_name=env_name, environment=environment, use_cases=use_cases, config_dir=directory
    )


def local_environment(project: ProjectConfig) -> LocalEnvironment:
    """The local environment, or a ConfigError when another one is active."""
    if isinstance(project.environment, LocalEnvironment):
        return project.environment
    raise ConfigError(
        f"this operation needs the local environment, not {project.env_name!r}",
        fix="unset MLOPS_ENV or set MLOPS_ENV=local",
    )
