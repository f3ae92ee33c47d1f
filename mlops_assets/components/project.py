"""The defs folder of the project: load every use-case component, after checking that the
component instances (``mlops_assets/defs/<name>/defs.yaml``) and the use-case YAMLs
(``configs/use_cases/<name>.yaml``) name exactly the same use cases."""

import importlib
import tomllib
import warnings
from pathlib import Path

import dagster as dg
import yaml

from mlops_assets.build import build_environment_definitions
from mlops_assets.components.use_case import (
    TYPE_NAME,
    UseCaseComponent,
    instance_attributes,
    use_case_config_file,
)
from mlops_assets.config.project import ProjectConfig
from mlops_assets.errors import ConfigError
from mlops_assets.resources.factory import BuildOptions

PACKAGE_DIR = Path(__file__).resolve().parents[1]
PROJECT_ROOT = PACKAGE_DIR.parent
DEFS_DIR = PACKAGE_DIR / "defs"
DEFS_MODULE = "mlops_assets.defs"


def scaffold_hint(name: str) -> str:
    return (
        f"run `mlops-assets init {name}` (or `dg scaffold defs {TYPE_NAME} {name}`) to add "
        f"mlops_assets/defs/{name}/defs.yaml"
    )


def component_tree() -> dg.ComponentTree:
    """The project's component tree, as ``dg.ComponentTree.for_project`` finds it from
    pyproject.toml's ``[tool.dg.project]``, but read with the standard library's TOML parser:
    ``for_project`` parses the file twice with tomlkit, ~20 ms of every code-location load
    (and tomlkit's import).
    Installed without its pyproject.toml, the package's own defs module is the tree."""
    pyproject = PROJECT_ROOT / "pyproject.toml"
    settings: dict[str, str] = {}
    if pyproject.is_file():
        with pyproject.open("rb") as handle:
            settings = tomllib.load(handle).get("tool", {}).get("dg", {}).get("project", {})
    return dg.ComponentTree(
        defs_module=importlib.import_module(settings.get("defs_module", DEFS_MODULE)),
        project_root=PROJECT_ROOT,
        code_location_name=settings.get("code_location_name", "mlops_assets"),
    )


def check_agreement(project: ProjectConfig, components: list[UseCaseComponent]) -> None:
    """A ConfigError unless each use-case YAML has exactly one component instance and back."""
    files = {
        (project.config_dir / use_case_config_file(uc.name)).resolve(): uc.name
        for uc in project.use_cases
    }
    claimed: dict[Path, UseCaseComponent] = {}
    for component in components:
        path = component.config_path(project.config_dir)
        if path not in files:
            name = Path(component.config_file).stem
            raise ConfigError(
                f"{component.declared_in} names {component.config_file}, which is not a use case "
                f"of {project.config_dir} (known: {sorted(files.values())})",
                context={"component": component.declared_in, "config_file": component.config_file},
                fix=f"add {project.config_dir / use_case_config_file(name)} (a use-case YAML) or "
                f"delete the folder of {component.declared_in}",
            )
        if path in claimed:
            raise ConfigError(
                f"{component.declared_in} and {claimed[path].declared_in} both name "
                f"{component.config_file}",
                context={"config_file": component.config_file},
                fix="keep one component instance per use case: delete one of the two folders",
            )
        claimed[path] = component
    for path, name in sorted(files.items()):
        if path not in claimed:
            raise ConfigError(
                f"{path} has no component instance in {DEFS_DIR}, so the use case {name!r} "
                "would not be part of the code location",
                context={"file": str(path), "use_case": name},
                fix=scaffold_hint(name),
            )


def load_use_case_definitions(project: ProjectConfig) -> dg.Definitions:
    """Every use case's definitions from the defs folder (no resources: the project binds them).

    Each use-case instance is built on its own, then the tree is attached: building the root of
    the tree would also snapshot the JSON schema of every component type installed (Dagster's
    own included) for the UI's docs tab, which tripled the load time of the code location.
    """
    with warnings.catch_warnings():  # Dagster's notes that its components API is in preview
        warnings.simplefilter("ignore", dg.BetaWarning)
        warnings.simplefilter("ignore", dg.PreviewWarning)
        tree = component_tree()
        components = tree.get_all_components(of_type=UseCaseComponent)
        check_agreement(project, components)
        folders = dict.fromkeys(component.declared_at for component in components)
        return dg.Definitions.merge(
            *(tree.build_defs(folder) for folder in folders), dg.Definitions(component_tree=tree)
        )


def write_instance(name: str, defs_dir: Path = DEFS_DIR) -> Path:
    """Write ``<defs_dir>/<name>/defs.yaml`` for use case ``name`` (what the scaffolder writes)."""
    target = defs_dir / name / "defs.yaml"
    if target.exists():
        raise ConfigError(
            f"{target} already exists",
            context={"file": str(target)},
            fix="edit it, or delete its folder first",
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    body = {"type": TYPE_NAME, "attributes": instance_attributes(name)}
    target.write_text(yaml.safe_dump(body, sort_keys=False), encoding="utf-8")
    return target


def instance_names(defs_dir: Path = DEFS_DIR) -> list[str]:
    """Use cases that have a ``defs.yaml`` folder (without loading anything)."""
    return sorted(p.parent.name for p in defs_dir.glob("*/defs.yaml"))


def build_location_definitions(
    project: ProjectConfig, options: BuildOptions | None = None
) -> dg.Definitions:
    """The whole code location: the use-case components, then the environment's resources and
    executor bound once (``options``: e.g. the headless demo's serving choice)."""
    return dg.Definitions.merge(
        load_use_case_definitions(project), build_environment_definitions(project, options)
    )
