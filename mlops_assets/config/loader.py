"""Load and validate YAML configuration into Pydantic models, with errors a person can act on.

Layout::

    configs/environments/<env>.yaml        one per environment (MLOPS_ENV, default ``local``)
    configs/use_cases/<name>.yaml          one per use case
    configs/use_cases/<name>.<env>.yaml    optional overlay, deep-merged for that environment
"""

import difflib
import os
import re
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from mlops_assets.config.substitution import substitute
from mlops_assets.errors import ConfigError

T = TypeVar("T")
DEFAULT_ENV = "local"


def project_root() -> Path:
    """The folder holding ``configs/`` (the repository root in a checkout, else the cwd)."""
    here = Path(__file__).resolve().parents[2]
    return here if (here / "configs").is_dir() else Path.cwd()


def config_dir() -> Path:
    """``MLOPS_CONFIG_DIR`` or ``<project root>/configs``."""
    return Path(os.environ.get("MLOPS_CONFIG_DIR") or project_root() / "configs")


class _Yaml12Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """YAML 1.2 booleans: only true/false, so `on:`, `yes` and `No` stay strings.

    LibYAML's parser when PyYAML has it (the code location loads configs at every start, sensor
    tick and step); the resolvers below are Python either way.
    """


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """Parse a YAML file, returning the data and its node tree (for line numbers)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(
            f"configuration file not found: {path}",
            context={"file": str(path)},
            fix="create it, or point MLOPS_CONFIG_DIR at the folder holding configs",
        ) from exc
    try:
        loader = _Yaml12Loader(text)
        try:  # parse once: the node tree gives line numbers, the data is built from it
            node: yaml.Node | None = loader.get_single_node()
            return (loader.construct_document(node) if node is not None else None), node
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        start, context = getattr(exc, "context_mark", None), getattr(exc, "context", None)
        if start is not None and context and (mark is None or start.line != mark.line):
            where += f" ({context} started at line {start.line + 1})"  # e.g. an unclosed [
        raise ConfigError(
            f"{path}:{where} is not valid YAML: {getattr(exc, 'problem', exc)}",
            context={"file": str(path), "line": mark.line + 1 if mark else None},
            fix="check indentation and quoting; strings with ':' or '#' need quotes",
        ) from exc


def deep_merge(base: Any, overlay: Any) -> Any:
    """Overlay mappings key by key; any other value in the overlay replaces the base."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        merged = dict(base)
        for key, value in overlay.items():
            merged[key] = deep_merge(base[key], value) if key in base else value
        return merged
    return overlay


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = [v for k, v in node.value if getattr(k, "value", None) == str(part)]
            key = [k for k, _ in node.value if getattr(k, "value", None) == str(part)]
            if not match:
                break
            line = key[0].start_mark.line + 1
            node = match[0]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


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


def _in_file(data: Any, loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """``loc`` as written in the file: without the union tags Pydantic inserts
    (``rules.0.not_null.column`` becomes ``rules.0.column``), ending at a string rule."""
    kept: list[Any] = []
    for i, part in enumerate(loc):
        if not isinstance(data, dict | list) and kept:
            break  # inside a value written as a string (a string rule): the path ends there
        is_last = i == len(loc) - 1
        if isinstance(data, dict) and isinstance(part, str) and part not in data and not is_last:
            continue  # a union tag, not a key of the file
        kept.append(part)
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            data = None
    return tuple(kept)


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


def validate(data: Any, model: type[T] | Any, *, file: Path, node: yaml.Node | None = None) -> T:
    """Validate ``data`` against ``model``; raise one ConfigError listing every problem."""
    adapter: TypeAdapter[T] = TypeAdapter(model)
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        problems: list[str] = []
        first: dict[str, object] = {}
        for err in exc.errors():
            loc = tuple(err["loc"])
            written = _in_file(data, loc)
            key_path = ".".join(str(p) for p in written) or "<root>"
            line = _line_of(node, written)
            missing = err["type"] == "missing"
            value = None if missing else err.get("input")
            shown = "" if missing else f" (got {value!r:.80})"
            fix = _fix_for(err, model, loc)
            where = f"{file}:{line}" if line else str(file)
            problems.append(f"{where}: {key_path}: {err['msg']}{shown}\n    fix: {fix}")
            # Summarise the first problem; a misspelt key beats the "missing" error it causes.
            if not first or (fix.startswith("did you mean") and first["missing"]):
                first = {"file": str(file), "key_path": key_path, "line": line}
                if not missing:
                    first["value"] = value
                first["fix"], first["missing"] = fix, missing
        raise ConfigError(
            f"invalid configuration in {file} ({len(problems)} problem(s)):\n  "
            + "\n  ".join(problems),
            context={k: v for k, v in first.items() if k not in ("fix", "missing")},
            fix=str(first.get("fix")),
        ) from None


def load_file(
    path: Path, model: type[T] | Any, environ: Mapping[str, str], overlay: Path | None = None
) -> T:
    """Read, substitute, overlay and validate one file."""
    data, node = read_yaml(path)
    if data is None:
        raise ConfigError(f"{path} is empty", context={"file": str(path)}, fix="fill it in")
    data = substitute(data, environ, file=str(path))
    if overlay is not None and overlay.exists():
        extra, _ = read_yaml(overlay)
        data = deep_merge(data, substitute(extra or {}, environ, file=str(overlay)))
    result: T = validate(data, model, file=path, node=node)
    return result
