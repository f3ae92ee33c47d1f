"""The ``mlops-assets`` command: simulate data, run the demos, validate config, export schemas,
start the UI, add use-case component instances, cross-check ``dg list defs``."""

import argparse
import sys
from collections.abc import Sequence

from mlops_assets.errors import MLOpsError


def build_parser() -> argparse.ArgumentParser:
    from mlops_assets.cli import (
        check_defs,
        demo,
        demo_drift,
        dev,
        docs,
        init,
        schema,
        serve,
        validate,
    )
    from mlops_assets.simulate import cli as simulate_cli

    parser = argparse.ArgumentParser(
        prog="mlops-assets",
        description="Config-driven MLOps lifecycle as Dagster assets (local or Databricks).",
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    simulate_cli.register(subparsers)
    demo.register(subparsers)
    demo_drift.register(subparsers)
    validate.register(subparsers)
    schema.register(subparsers)
    serve.register(subparsers)
    dev.register(subparsers)
    init.register(subparsers)
    check_defs.register(subparsers)
    docs.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; prints typed errors as a message and a fix, without a traceback."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except MLOpsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    raise SystemExit(main())
