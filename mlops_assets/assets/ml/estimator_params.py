"""The constructor parameters of an estimator class, read from its source (never imported).

Run configuration lists each estimator parameter with its default so the launchpad can show and
type-check it. Importing scikit-learn at definition time would slow every code-location load, so
the class's ``__init__`` is found by reading (``ast``) the module that defines it, following
re-exports such as ``sklearn.ensemble`` -> ``sklearn.ensemble._hist_gradient_boosting...``.
Only parameters whose default is a literal scalar are returned; anything else is unknown.
"""

import ast
import re
from functools import lru_cache
from importlib.machinery import PathFinder
from pathlib import Path

Scalar = bool | int | float | str
_MAX_HOPS = 4
_TOP_LEVEL = re.compile(r"^(?![\s#)\]}]|$)", re.MULTILINE)
"""The start of the next top-level statement (not indented, not a comment or a closing bracket)."""


def _module_source(module: str) -> tuple[Path, bool] | None:
    """(source file, is package) of ``module``, found without importing anything."""
    parts = module.split(".")
    spec = PathFinder.find_spec(parts[0])
    for i in range(1, len(parts)):
        if spec is None or not spec.submodule_search_locations:
            return None
        spec = PathFinder.find_spec(".".join(parts[: i + 1]), list(spec.submodule_search_locations))
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin), bool(spec.submodule_search_locations)


def _literal(node: ast.expr | None) -> Scalar | None:
    if node is None:
        return None
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, bool | int | float | str) else None


def _init_defaults(cls: ast.ClassDef) -> dict[str, Scalar] | None:
    for stmt in cls.body:
        if isinstance(stmt, ast.FunctionDef) and stmt.name == "__init__":
            args = stmt.args
            out: dict[str, Scalar] = {}
            positional = args.args[len(args.args) - len(args.defaults) :]
            pairs: list[tuple[ast.arg, ast.expr | None]] = [
                *zip(positional, args.defaults, strict=True),
                *zip(args.kwonlyargs, args.kw_defaults, strict=True),
            ]
            for arg, default in pairs:
                value = _literal(default)
                if value is not None:
                    out[arg.arg] = value
            return out
    return None


def _class_block(source: str, name: str) -> ast.ClassDef | None:
    """The top-level ``class name`` of ``source``, parsing only its lines (the modules that
    define estimators run to thousands of lines; parsing one class is ~10x cheaper)."""
    match = re.search(rf"^class {re.escape(name)}\b", source, re.MULTILINE)
    if match is None:
        return None
    end = _TOP_LEVEL.search(source, match.end())
    try:
        tree = ast.parse(source[match.start() : end.start() if end else len(source)])
    except (SyntaxError, ValueError):
        return None  # e.g. a class header the block cut short: parse the whole module
    first = tree.body[0] if tree.body else None
    return first if isinstance(first, ast.ClassDef) and first.name == name else None


def _find(module: str, name: str, hops: int) -> dict[str, Scalar]:
    found = _module_source(module)
    if found is None or hops > _MAX_HOPS:
        return {}
    path, is_package = found
    try:
        source = path.read_text(encoding="utf-8")
        block = _class_block(source, name)
        if block is not None:
            return _init_defaults(block) or {}
        tree = ast.parse(source)
    except (OSError, SyntaxError, ValueError):
        return {}
    for stmt in tree.body:
        if isinstance(stmt, ast.ClassDef) and stmt.name == name:
            return _init_defaults(stmt) or {}
        if isinstance(stmt, ast.ImportFrom) and any(
            (a.asname or a.name) == name for a in stmt.names
        ):
            original = next(a.name for a in stmt.names if (a.asname or a.name) == name)
            base = module.split(".")
            if stmt.level:
                base = base[: len(base) - stmt.level + (1 if is_package else 0)]
                target = ".".join([*base, *([stmt.module] if stmt.module else [])])
            else:
                target = stmt.module or ""
            return _find(target, original, hops + 1)
    return {}


@lru_cache(maxsize=32)
def estimator_defaults(path: str) -> dict[str, Scalar]:
    """Literal defaults of the constructor of the class at import path ``path`` (may be empty)."""
    module, _, name = path.rpartition(".")
    return _find(module, name, 0) if module else {}
