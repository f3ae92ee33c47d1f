"""``mlops-assets schema``: JSON Schema of the config files, for editor completion and checks."""

import argparse
import json
from pathlib import Path
from typing import Any


def schemas() -> dict[str, dict[str, Any]]:
    """JSON Schemas by file name."""
    from pydantic import TypeAdapter

    from mlops_assets.config.environment import EnvironmentConfig
    from mlops_assets.config.use_case import UseCaseConfig

    return {
        "use_case.schema.json": UseCaseConfig.model_json_schema(),
        "environment.schema.json": TypeAdapter(EnvironmentConfig).json_schema(),
    }


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = subparsers.add_parser("schema", help="write JSON Schemas of the config files")
    parser.add_argument("--out", type=Path, default=Path("configs/schema"), help="output folder")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    args.out.mkdir(parents=True, exist_ok=True)
    for name, schema in schemas().items():
        (args.out / name).write_text(render(schema), encoding="utf-8")
        print(f"wrote {args.out / name}")
    return 0
