"""The ``mlops-assets`` command: simulate data, run the demos, validate and show config, export
schemas and docs, start the UI, serve a model, add use-case component instances, cross-check
``dg list defs``.

Quiet by default: a failure prints one root-cause line (typed errors add their fix); the full
traceback, and Dagster's own error logs in the demos, only with ``--verbose``.
"""

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from importlib import metadata

from mlops_assets.errors import MLOpsError

VERBOSE_ENV = "MLOPS_VERBOSE"
"""Set (to 1) by ``--verbose`` so the commands (and the processes they start) log in full."""


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's default in its help, unless there is none worth showing (None, False)
    or the help already says it."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if (
            "default" in text
            or action.default in (None, False, argparse.SUPPRESS)
            or action.default == []
            or not action.option_strings
        ):
            return text
        return f"{text} (default: %(default)s)"


def version() -> str:
    try:
        return metadata.version("mlops-assets")
    except metadata.PackageNotFoundError:  # run from a source tree that is not installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    from mlops_assets.cli import (
        check_defs,
        config_show,
        demo,
        demo_drift,
        dev,
        docs,
        init,
        override,
        schema,
        serve,
        validate,
    )
    from mlops_assets.simulate import cli as simulate_cli

    parser = argparse.ArgumentParser(
        prog="mlops-assets",
        description="Config-driven MLOps lifecycle as Dagster assets (local or Databricks).",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="full tracebacks and Dagster's error logs (default: one root-cause line)",
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in (
        simulate_cli,
        demo,
        demo_drift,
        validate,
        config_show,
        schema,
        serve,
        override,
        dev,
        init,
        check_defs,
        docs,
    ):
        module.register(subparsers)
    _format_all(parser)
    return parser


def _format_all(parser: argparse.ArgumentParser) -> None:
    """Defaults in the help of every (sub)command."""
    parser.formatter_class = HelpFormatter
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _format_all(sub)


def root_cause(exc: BaseException) -> BaseException:
    """The innermost cause (or context) of ``exc``."""
    seen = {id(exc)}
    while (nxt := exc.__cause__ or exc.__context__) is not None and id(nxt) not in seen:
        seen.add(id(nxt))
        exc = nxt
    return exc


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: typed errors print their message and fix; anything else one root-cause
    line; ``--verbose`` adds the traceback."""
    args = build_parser().parse_args(argv)
    if args.verbose:
        os.environ[VERBOSE_ENV] = "1"
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except MLOpsError as exc:
        if args.verbose:
            traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        if args.verbose:
            traceback.print_exc()
        cause = root_cause(exc)
        line = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
        print(f"error: {type(cause).__name__}: {line}", file=sys.stderr)
        if not args.verbose:
            print("  (run with --verbose for the full traceback)", file=sys.stderr)
        return 1
    return code


def verbose() -> bool:
    """Whether ``--verbose`` was given (or ``$MLOPS_VERBOSE`` is set)."""
    return os.environ.get(VERBOSE_ENV, "") not in ("", "0")


if __name__ == "__main__":
    raise SystemExit(main())
