"""Which estimator classes a config may name, checked without importing them.

Training imports the class named by ``flavor.estimator``: the config must not be a way to run
arbitrary code (``estimator: os.system``). Only three families are allowed, by module prefix --
scikit-learn (``sklearn.``), LightGBM (``lightgbm.``) and XGBoost (``xgboost.``) -- plus the
classes a use case lists in ``model.allowed_estimators`` (its own code), and the name must be a
class name.

:func:`locate_problem` then finds the module's source and reads (never runs) it, so a misspelt
module or class fails at load with a did-you-mean, and loading a config still imports no
scikit-learn. :func:`import_estimator_class` is the run-time counterpart that imports the class
and checks it is an estimator of its family.
"""

import ast
import difflib
import importlib
import importlib.util
import pkgutil
import re
from functools import lru_cache
from importlib.machinery import ModuleSpec, PathFinder
from pathlib import Path
from typing import Any

from mlops_assets.errors import ConfigError

FAMILIES = {"sklearn": "scikit-learn", "lightgbm": "LightGBM", "xgboost": "XGBoost"}
"""Allowed estimator families: top-level package -> name."""
OPTIONAL_FAMILIES = ("lightgbm", "xgboost")
"""Families installed with an extra: a missing package is reported by training, not here."""
ALLOW_FIX = (
    "use a scikit-learn, LightGBM or XGBoost estimator, or list your own estimator class under "
    "`model.allowed_estimators`"
)
"""The fix of an estimator outside the allowed families."""
DOTTED_CLASS = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\.[A-Z][A-Za-z0-9_]*$"
"""An import path ending in a class name (capitalised)."""


def family_problem(path: str, allowed: list[str]) -> str | None:
    """Why ``path`` may not be used as an estimator, or None when it may."""
    if path not in allowed and path.split(".")[0] not in FAMILIES:
        families = ", ".join(f"{name} (`{prefix}.`)" for prefix, name in FAMILIES.items())
        return (
            f"estimator {path!r} is not in an allowed family ({families}) and is not listed "
            "in `allowed_estimators`"
        )
    if not re.match(DOTTED_CLASS, path):
        return (
            f"estimator {path!r} does not name a class (a dotted import path ending in a "
            "capitalised class name, e.g. sklearn.ensemble.RandomForestClassifier)"
        )
    return None


def _spec(module: str) -> tuple[ModuleSpec | None, ModuleSpec | None]:
    """(spec of ``module``, spec of its parent package), found without importing anything."""
    parts = module.split(".")
    spec = PathFinder.find_spec(parts[0])
    if spec is None:
        try:  # a finder installed by an editable install; a top-level lookup runs no code
            spec = importlib.util.find_spec(parts[0])
        except (ImportError, ValueError):
            spec = None
    parent = None
    for i in range(1, len(parts)):
        if spec is None or not spec.submodule_search_locations:
            return None, parent
        parent = spec
        spec = PathFinder.find_spec(".".join(parts[: i + 1]), list(spec.submodule_search_locations))
    return spec, parent


def _names(body: list[ast.stmt]) -> set[str] | None:
    """Names a module body binds (None when it cannot be told without running it)."""
    names: set[str] = set()
    for stmt in body:
        if isinstance(stmt, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            if stmt.name == "__getattr__":
                return None  # lazy attributes
            names.add(stmt.name)
        elif isinstance(stmt, ast.Import | ast.ImportFrom):
            for alias in stmt.names:
                if alias.name == "*":
                    return None
                names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(stmt, ast.Assign | ast.AnnAssign):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(stmt, ast.If | ast.Try | ast.With):
            nested = [*stmt.body, *getattr(stmt, "orelse", []), *getattr(stmt, "finalbody", [])]
            for handler in getattr(stmt, "handlers", []):
                nested.extend(handler.body)
            inner = _names(nested)
            if inner is None:
                return None
            names |= inner
    return names


@lru_cache(maxsize=64)
def locate_problem(path: str) -> tuple[str, str] | None:
    """(message, fix) when the module or class of ``path`` does not exist, else None.

    Only source files are read; a module that is not plain Python, or that creates attributes
    lazily, is given the benefit of the doubt (training imports it and says what is wrong).
    """
    module, _, cls = path.rpartition(".")
    spec, parent = _spec(module)
    if spec is None:
        if module.split(".")[0] in OPTIONAL_FAMILIES and parent is None:
            return None  # the extra is not installed: training says how to install it
        siblings: list[str] = []
        if parent is not None and parent.submodule_search_locations:
            found = pkgutil.iter_modules(list(parent.submodule_search_locations))
            siblings = [f"{parent.name}.{m.name}" for m in found if not m.name.startswith("_")]
        close = difflib.get_close_matches(module, siblings, n=1, cutoff=0.6)
        hint = f"did you mean `{close[0]}.{cls}`?" if close else "check the import path"
        return f"module `{module}` of estimator {path!r} cannot be found", hint
    if spec.origin is None or not spec.origin.endswith(".py"):
        return None
    try:
        names = _names(ast.parse(Path(spec.origin).read_text(encoding="utf-8")).body)
    except (OSError, SyntaxError, ValueError):
        return None
    if names is None or cls in names:
        return None
    classes = sorted(n for n in names if n[:1].isupper())
    close = difflib.get_close_matches(cls, classes, n=1, cutoff=0.6)
    hint = f"did you mean `{module}.{close[0]}`?" if close else "check the class name"
    return f"module `{module}` has no class `{cls}` (estimator {path!r})", hint


def import_estimator_class(path: str, allowed: list[str]) -> type[Any]:
    """Import the estimator class at ``path`` once it is allowed (run time, not config load).

    Raises:
        ConfigError: the path is outside the allowed families, or is not an estimator class.
    """
    problem = family_problem(path, allowed)
    if problem is not None:
        raise ConfigError(problem, context={"estimator": path}, fix=ALLOW_FIX)
    module, _, name = path.rpartition(".")
    cls = getattr(importlib.import_module(module), name, None)
    estimator = isinstance(cls, type) and callable(getattr(cls, "fit", None))
    if estimator and path.startswith("sklearn."):
        from sklearn.base import BaseEstimator

        estimator = isinstance(cls, type) and issubclass(cls, BaseEstimator)
    if not estimator or not isinstance(cls, type):
        raise ConfigError(
            f"{path!r} is not an estimator class",
            context={"estimator": path},
            fix="name a scikit-learn compatible estimator class (with `fit`)",
        )
    return cls
