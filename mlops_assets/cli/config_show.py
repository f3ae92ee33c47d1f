"""``mlops-assets config show``: the resolved configuration (files, overlays and ``${VAR}``
substitutions applied, defaults filled in) as YAML, with secret-looking values masked."""

import argparse
import re
from typing import Any

SECRET_KEY = re.compile(r"(token|secret|password|passwd|api_key|credential|webhook)", re.I)
"""A key whose value is a secret itself (keys ending in ``_env`` hold a variable's NAME)."""


def masked(value: Any, key: str = "") -> Any:
    """``value`` with every secret (by key name or by its look) replaced by a mask."""
    from mlops_assets.config.problems import looks_like_secret, mask

    if isinstance(value, dict):
        return {k: masked(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v, key) for v in value]
    if isinstance(value, str):
        by_name = bool(SECRET_KEY.search(key)) and not key.endswith("_env") and value != ""
        return mask(value) if by_name or looks_like_secret(value) else value
    return value


def resolved_config(use_case: str | None, env: str | None) -> dict[str, Any]:
    """The environment and the use cases (one, or all) as plain data, masked."""
    from mlops_assets.config.project import load_project

    project = load_project(env=env)
    cases = [project.use_case(use_case)] if use_case else project.use_cases
    data = {
        "environment": {
            "name": project.env_name,
            **project.environment.model_dump(mode="json", by_alias=True),
        },
        "use_cases": [uc.model_dump(mode="json", by_alias=True) for uc in cases],
    }
    result: dict[str, Any] = masked(data)
    return result


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = subparsers.add_parser("config", help="inspect the resolved configuration")
    commands = parser.add_subparsers(dest="config_command", required=True)
    show = commands.add_parser(
        "show",
        help="print the resolved configuration as YAML (secrets masked)",
        description="The configuration as the code location sees it: YAML files, environment "
        "overlays and ${VAR} substitutions applied, defaults filled in, secrets masked.",
    )
    show.add_argument("--use-case", default=None, help="only this use case (default: all)")
    show.add_argument("--env", default=None, help="environment (default: $MLOPS_ENV, else local)")
    show.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import yaml

    text = yaml.safe_dump(
        resolved_config(args.use_case, args.env), sort_keys=False, allow_unicode=True
    )
    print(text, end="")
    return 0
