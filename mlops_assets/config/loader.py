"""Load and validate YAML configuration into Pydantic models, with errors a person can act on.

Layout::

    configs/environments/<env>.yaml        one per environment (MLOPS_ENV, default ``local``)
    configs/use_cases/<name>.yaml          one per use case
    configs/use_cases/<name>.<env>.yaml    optional overlay, deep-merged for that environment
"""

import difflib
import os
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from mlops_assets.config.locations import in_file, line_of, present
from mlops_assets.config.problems import (
    ConfigProblemsError,
    describe_value,
    key_path,
    looks_like_secret_not_name,
    scrub,
)
from mlops_assets.config.substitution import substitute
from mlops_assets.config.yaml_reader import read_yaml
from mlops_assets.errors import ConfigError

__all__ = ["DEFAULT_ENV", "config_dir", "deep_merge", "load_file", "read_yaml", "validate"]

T = TypeVar("T")
DEFAULT_ENV = "local"


def project_root() -> Path:
    """The folder holding ``configs/`` (the repository root in a checkout, else the cwd)."""
    here = Path(__file__).resolve().parents[2]
    return here if (here / "configs").is_dir() else Path.cwd()


def config_dir() -> Path:
    """``MLOPS_CONFIG_DIR`` or ``<project root>/configs``."""
    return Path(os.environ.get("MLOPS_CONFIG_DIR") or project_root() / "configs")


def deep_merge(base: Any, overlay: Any) -> Any:
    """Overlay mappings key by key; any other value in the overlay replaces the base."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        merged = dict(base)
        for key, value in overlay.items():
            merged[key] = deep_merge(base[key], value) if key in base else value
        return merged
    return overlay


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _models_in(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list, dict, tuple):
        args = typing.get_args(annotation)
        if origin is dict:
            args = args[1:]
        return [m for a in args for m in _models_in(a)]
    return []


def _fields_at(root: Any, loc: tuple[Any, ...]) -> list[str]:
    """Field names the model expects at ``loc`` (for did-you-mean)."""
    models = _models_in(root)
    for part in loc:
        if isinstance(part, int):
            continue
        nxt: list[type[BaseModel]] = []
        for model in models:
            field = model.model_fields.get(str(part))
            if field is not None:
                nxt.extend(_models_in(field.annotation))
            else:
                nxt.append(model)  # a discriminator tag such as `aggregate` in the location
        models = nxt or models
    names: list[str] = []
    for model in models:
        for name, field in model.model_fields.items():
            names.append(field.alias or name)
    return sorted(set(names))


def _fix_for(err: Mapping[str, Any], root: Any, loc: tuple[Any, ...]) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        expected = _fields_at(root, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), expected, n=1, cutoff=0.6)
        if close:
            return f"did you mean `{close[0]}`? (allowed keys: {', '.join(expected)})"
        return f"remove it; allowed keys here: {', '.join(expected)}"
    if kind == "missing":
        return f"add `{loc[-1]}`" if loc else "add the missing key"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        tags = err.get("ctx", {}).get("expected_tags")
        return f"set `type` to one of {tags}" if tags else "set a valid `type`"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return "give a value of the expected type (quote strings, no quotes around numbers)"
    return "correct the value as the message says (see configs/schema/*.schema.json)"


@dataclass(frozen=True)
class Overlay:
    """An environment overlay merged over the file: errors in its keys point at it."""

    file: Path
    data: Any
    node: yaml.Node | None


def _shown(value: Any, key: str) -> tuple[str, Any]:
    """How a wrong value is printed, and what goes in the error's context."""
    secret = key.endswith("_env")  # these name variables holding secrets: never echo them
    text = describe_value(value, secret=secret)
    plain = isinstance(value, int | float | bool) or (
        isinstance(value, str) and text == repr(value)
    )
    return text, value if plain and not secret else text


@dataclass(frozen=True)
class _Entry:
    loc: tuple[Any, ...]
    message: str
    fix: str
    value: Any
    missing: bool = False


_UNSET: Any = object()
_ENV_FIX = (
    "write the NAME of the environment variable holding the secret (e.g. DATABRICKS_TOKEN) and "
    "export the secret in that variable; secrets never go in YAML"
)


def _entries(exc: ValidationError, model: Any) -> list[_Entry]:
    """Every error; a validator's ConfigProblemsError gives one entry per problem, at its path."""
    found: list[_Entry] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        cause = err.get("ctx", {}).get("error")
        if isinstance(cause, ConfigProblemsError):
            found.extend(
                _Entry((*loc, *p.loc), scrub(p.message), p.fix, _UNSET) for p in cause.problems
            )
            continue
        value = _UNSET if err["type"] == "missing" else err.get("input")
        message = scrub(err["msg"])
        last = str(next((p for p in reversed(loc) if isinstance(p, str)), ""))
        fix = _fix_for(err, model, loc)
        if last.endswith("_env") and isinstance(value, str):
            fix = _ENV_FIX
            if looks_like_secret_not_name(value) and "secret" not in message:
                message = "looks like a secret value, not a variable name"
        missing = err["type"] == "missing"
        found.append(_Entry(loc, message, fix, value, missing))
    return found


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def _adapter(model: Any) -> TypeAdapter[Any]:
    """One adapter per model: building one costs milliseconds, and configs load at every start,
    sensor tick and step."""
    try:
        if model not in _ADAPTERS:
            _ADAPTERS[model] = TypeAdapter(model)
        return _ADAPTERS[model]
    except TypeError:  # an unhashable type expression: no cache
        return TypeAdapter(model)


def validate(
    data: Any,
    model: type[T] | Any,
    *,
    file: Path,
    node: yaml.Node | None = None,
    overlay: Overlay | None = None,
) -> T:
    """Validate ``data`` against ``model``; raise one ConfigError listing every problem."""
    adapter: TypeAdapter[T] = _adapter(model)
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        problems: list[str] = []
        first: dict[str, object] = {}
        for entry in _entries(exc, model):
            value, fix = entry.value, entry.fix
            written = in_file(data, entry.loc)
            path = key_path(written)
            where_file, where_node = file, node
            if overlay is not None and present(overlay.data, written):
                where_file, where_node = overlay.file, overlay.node
            line = line_of(where_node, written)
            shown, context_value = ("", None) if value is _UNSET else _shown(value, path)
            where = f"{where_file}:{line}" if line else str(where_file)
            got = f" (got {shown})" if shown else ""
            problems.append(f"{where}: {path}: {entry.message}{got}\n    fix: {fix}")
            # Summarise the first problem; a misspelt key beats the "missing" error it causes.
            if not first or (fix.startswith("did you mean") and first["missing"]):
                first = {"file": str(where_file), "key_path": path, "line": line}
                if value is not _UNSET:
                    first["value"] = context_value
                first["fix"], first["missing"] = fix, entry.missing
        raise ConfigError(
            f"invalid configuration in {file} ({len(problems)} problem(s)):\n  "
            + "\n  ".join(problems),
            context={k: v for k, v in first.items() if k not in ("fix", "missing")},
            fix=str(first.get("fix")),
        ) from None


_LOADED: dict[tuple[object, ...], Any] = {}
_LOADED_MAX = 64


def _load_key(
    path: Path, model: type[T] | Any, environ: Mapping[str, str], overlay: Path | None
) -> tuple[object, ...] | None:
    """What a loaded file depends on: the model, both files' bytes and the environment.

    Only immutable (frozen) models are remembered, so the instance can be shared.
    """
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return None
    if not model.model_config.get("frozen"):
        return None
    try:
        extra = overlay.read_bytes() if overlay is not None and overlay.is_file() else None
        return (model, str(path.resolve()), path.read_bytes(), extra, frozenset(environ.items()))
    except OSError:
        return None  # read_yaml reports it


def load_file(
    path: Path, model: type[T] | Any, environ: Mapping[str, str], overlay: Path | None = None
) -> T:
    """Read, substitute, overlay and validate one file.

    A file loaded again unchanged, with the same overlay and environment, is not parsed and
    validated twice (the code location reads each use case for the project and again for its
    component).
    """
    key = _load_key(path, model, environ, overlay)
    if key is not None and key in _LOADED:
        cached: T = _LOADED[key]
        return cached
    result: T = _load_file(path, model, environ, overlay)
    if key is not None:
        if len(_LOADED) >= _LOADED_MAX:
            del _LOADED[next(iter(_LOADED))]
        _LOADED[key] = result
    return result


def _load_file(
    path: Path, model: type[T] | Any, environ: Mapping[str, str], overlay: Path | None
) -> T:
    data, node = read_yaml(path)
    if data is None:
        raise ConfigError(
            f"{path} is empty", context={"file": str(path), "line": 1}, fix="fill it in"
        )
    data = substitute(data, environ, file=str(path), node=node)
    merged_overlay = None
    if overlay is not None and overlay.exists():
        extra, extra_node = read_yaml(overlay)
        extra = substitute(extra or {}, environ, file=str(overlay), node=extra_node)
        merged_overlay = Overlay(overlay, extra, extra_node)
        data = deep_merge(data, extra)
    result: T = validate(data, model, file=path, node=node, overlay=merged_overlay)
    return result
