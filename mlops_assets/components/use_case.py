"""A use case as a Dagster Component: one ``defs/<use_case>/defs.yaml`` per use-case YAML.

The component is thin on purpose. Its only attribute names the use-case YAML (relative to the
config folder, ``$MLOPS_CONFIG_DIR`` or ``configs/``); ``build_defs`` loads that file through the
project's own loader (line-numbered did-you-mean errors, ``${VAR:-default}`` substitution, the
``<name>.<env>.yaml`` overlay of ``$MLOPS_ENV``) and returns the use case's assets, checks, jobs,
schedules and sensors. Resources and the executor are bound once, for every use case, in
``mlops_assets/definitions.py``.
"""

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Self

import dagster as dg
from pydantic import Field, PrivateAttr

from mlops_assets.config.loader import DEFAULT_ENV, config_dir, load_file
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.errors import ConfigError

TYPE_NAME = "mlops_assets.components.UseCaseComponent"
USE_CASES_SUBDIR = "use_cases"


def use_case_config_file(name: str) -> str:
    """The ``config_file`` attribute of use case ``name``: ``use_cases/<name>.yaml``."""
    return f"{USE_CASES_SUBDIR}/{name}.yaml"


def instance_attributes(name: str) -> dict[str, Any]:
    """What ``defs/<name>/defs.yaml`` holds under ``attributes``."""
    return {"config_file": use_case_config_file(name)}


def load_use_case_file(
    path: Path, environ: Mapping[str, str] | None = None, env_name: str | None = None
) -> UseCaseConfig:
    """One use-case YAML with its environment overlay, as ``load_project`` reads it."""
    environ = os.environ if environ is None else environ
    env_name = env_name or environ.get("MLOPS_ENV") or DEFAULT_ENV
    overlay = path.with_name(f"{path.stem}.{env_name}.yaml")
    uc: UseCaseConfig = load_file(path, UseCaseConfig, environ, overlay=overlay)
    if uc.name != path.stem:
        raise ConfigError(
            f"{path}: name {uc.name!r} differs from the file name",
            context={"file": str(path), "key_path": "name", "value": uc.name},
            fix=f"set `name: {path.stem}` or rename the file to {uc.name}.yaml",
        )
    return uc


class UseCaseScaffolder(dg.Scaffolder):
    """``dg scaffold defs mlops_assets.components.UseCaseComponent <name>`` writes a defs.yaml
    naming ``use_cases/<name>.yaml``."""

    def scaffold(self, request: dg.ScaffoldRequest[Any]) -> None:
        name = request.target_path.name
        dg.scaffold_component(request, instance_attributes(name))
        expected = config_dir() / use_case_config_file(name)
        if not expected.exists():
            print(
                f"note: {expected} does not exist yet; the code location will not load until it "
                f"does (e.g. copy configs/use_cases/churn.yaml and set `name: {name}`)",
                file=sys.stderr,
            )


@dg.scaffold_with(UseCaseScaffolder)
class UseCaseComponent(dg.Component, dg.Model, dg.Resolvable):
    """A config-driven ML use case: medallion tables, features, model lifecycle and monitoring.

    Everything is described by the use-case YAML named by ``config_file``; this component only
    turns it into Dagster definitions (resources come from the project, not from here).
    """

    config_file: Annotated[
        str,
        # A plain path, not a template: resolving templates imports Jinja at every load (~16 ms);
        # the YAML it names has its own ${VAR} substitution.
        dg.Resolver.passthrough(),
    ] = Field(
        description="The use-case YAML, relative to the config folder ($MLOPS_CONFIG_DIR or "
        "configs/), e.g. `use_cases/churn.yaml`. Its `<name>.<env>.yaml` overlay applies."
    )
    _declared_at: Path | None = PrivateAttr(default=None)

    @classmethod
    def load(cls, attributes: Any, context: dg.ComponentLoadContext) -> Self:
        component = super().load(attributes, context)
        folder = getattr(context.component_loc, "file_path", None)  # a defs folder, if any
        if isinstance(folder, Path) and (folder / "defs.yaml").is_file():
            component._declared_at = folder
        return component

    @property
    def declared_at(self) -> Path:
        """The folder of the defs.yaml declaring this instance."""
        if self._declared_at is None:
            raise ConfigError(
                f"this {TYPE_NAME} was not loaded from a defs folder",
                fix="declare use cases in mlops_assets/defs/<name>/defs.yaml",
            )
        return self._declared_at

    @property
    def declared_in(self) -> str:
        """The defs.yaml declaring this instance (for error messages)."""
        at = self._declared_at
        return str(at / "defs.yaml") if at else f"{TYPE_NAME}(config_file={self.config_file!r})"

    def config_path(self, directory: Path | None = None) -> Path:
        """``config_file`` resolved against the config folder."""
        return ((directory or config_dir()) / self.config_file).resolve()

    def use_case(self, directory: Path | None = None) -> UseCaseConfig:
        """Load and validate the use-case YAML (a ConfigError names the file, line and fix)."""
        path = self.config_path(directory)
        if not path.is_file():
            name = Path(self.config_file).stem
            raise ConfigError(
                f"{self.declared_in} names {self.config_file}, which does not exist in "
                f"{directory or config_dir()}",
                context={"component": self.declared_in, "config_file": self.config_file},
                fix=f"add configs/{use_case_config_file(name)} or delete the folder of "
                f"{self.declared_in}",
            )
        return load_use_case_file(path)

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        from mlops_assets.build import build_use_case_definitions

        return build_use_case_definitions(self.use_case())
