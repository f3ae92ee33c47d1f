"""Optional dependencies, imported lazily with an actionable install hint."""

import importlib
from functools import cache
from importlib import metadata
from types import ModuleType

from mlops_assets.errors import ConfigError

_EXTRAS = {"lightgbm": "boosting", "xgboost": "boosting"}


def import_optional(module: str) -> ModuleType:
    """Import an optional package, or raise ConfigError saying which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        extra = _EXTRAS.get(module.split(".")[0])
        fix = (
            f"install the optional extra: `uv sync --extra {extra}` "
            f"(or `pip install 'mlops-assets[{extra}]'`)"
            if extra
            else f"install the package that provides {module!r}"
        )
        raise ConfigError(
            f"the model flavour needs {module!r}, which is not installed",
            context={"module": module, "cause": str(exc)},
            fix=fix,
        ) from exc


@cache
def _providers() -> dict[str, list[str]]:
    """Top-level module -> distributions providing it (scans every installed distribution:
    ~0.4 s, so once per process rather than once per pinned module)."""
    return dict(metadata.packages_distributions())


@cache
def distribution_pin(module: str) -> str | None:
    """A ``dist==version`` pin for the distribution providing an importable top-level module.

    ``xgboost`` is provided by ``xgboost`` or ``xgboost-cpu``; this finds whichever is installed.
    Returns None when the module is not installed as a distribution.
    """
    top = module.split(".")[0]
    names = _providers().get(top, [])
    for name in names:
        try:
            return f"{name}=={metadata.version(name)}"
        except metadata.PackageNotFoundError:
            continue
    return None
