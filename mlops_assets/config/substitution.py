"""``${VAR}`` and ``${VAR:-default}`` substitution in YAML string values (``$${`` escapes)."""

import re
from collections.abc import Mapping
from typing import Any

from mlops_assets.errors import ConfigError

_VAR = re.compile(r"\$\$\{|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")


def substitute(
    value: Any, environ: Mapping[str, str], *, file: str, path: tuple[Any, ...] = ()
) -> Any:
    """Return ``value`` with every ``${VAR}`` in its strings replaced from ``environ``."""
    if isinstance(value, dict):
        return {k: substitute(v, environ, file=file, path=(*path, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, environ, file=file, path=(*path, i)) for i, v in enumerate(value)]
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
        raise ConfigError(
            f"{file}: {key_path}: environment variable {name} is not set",
            context={"file": file, "key_path": key_path, "variable": name},
            fix=f"export {name}=... or write ${{{name}:-default}} to give a default",
        )

    return _VAR.sub(replace, value)
