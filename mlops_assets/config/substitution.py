"""``${VAR}`` and ``${VAR:-default}`` substitution in YAML string values (``$${`` escapes)."""

import re
from collections.abc import Mapping
from typing import Any

import yaml

from mlops_assets.config.locations import line_of
from mlops_assets.errors import ConfigError

_VAR = re.compile(r"\$\$\{|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")


def substitute(
    value: Any,
    environ: Mapping[str, str],
    *,
    file: str,
    path: tuple[Any, ...] = (),
    node: yaml.Node | None = None,
) -> Any:
    """Return ``value`` with every ``${VAR}`` in its strings replaced from ``environ``.

    ``node`` is the file's node tree: an unset variable's error then names its line.
    """
    if isinstance(value, dict):
        return {
            k: substitute(v, environ, file=file, path=(*path, k), node=node)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [
            substitute(v, environ, file=file, path=(*path, i), node=node)
            for i, v in enumerate(value)
        ]
    if not isinstance(value, str) or "$" not in value:
        return value

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        name, default = match.group("name"), match.group("default")
        if name in environ and environ[name] != "":
            return environ[name]
        if default is not None:
            return default
        key_path = ".".join(str(p) for p in path) or "<root>"
        line = line_of(node, path) if node is not None else None
        where = f"{file}:{line}" if line else file
        raise ConfigError(
            f"{where}: {key_path}: environment variable {name} is not set",
            context={"file": file, "line": line, "key_path": key_path, "variable": name},
            fix=f"export {name}=... or write ${{{name}:-default}} to give a default",
        )

    return _VAR.sub(replace, value)
