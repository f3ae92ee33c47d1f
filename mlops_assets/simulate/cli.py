"""`mlops-assets simulate`: write daily landing files from the command line.

The project's CLI mounts this with `register(subparsers)`; the subcommand's handler is stored as
`args.func` (it is `run`). `python -m mlops_assets.simulate` runs it alone.
"""

import argparse
import datetime as dt
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from mlops_assets.errors import ConfigError, MLOpsError
from mlops_assets.simulate.config import (
    CategoricalDrift,
    NumericDrift,
    SimulationConfig,
)
from mlops_assets.simulate.runner import SimulationSummary, simulate

DATA_DIR_ENV = "MLOPS_DATA_DIR"
DEFAULT_DATA_DIR = Path(".mlops_data")
DRIFT_HELP = (
    "COLUMN:FROM_DAY:multiply=1.3[,add=5] (numeric shift) or "
    "COLUMN:FROM_DAY:to_value=Month-to-month,fraction=0.5 (categorical remap); repeatable"
)
_DRIFT_FIX = (
    "write --drift as COLUMN:FROM_DAY:multiply=1.3 (or add=..., or both comma-separated) or "
    "COLUMN:FROM_DAY:to_value=VALUE,fraction=0.5"
)


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add the `simulate` subcommand (handler in `args.func`) to `subparsers`."""
    defaults = SimulationConfig()
    parser = subparsers.add_parser(
        "simulate",
        help="write simulated daily landing files (customers + delayed churn labels)",
        description="Sample the shipped wa_churn table into daily landing files under "
        "<data-dir>/landing/<use-case>/, with noise, drift, bad rows and duplicates.",
    )
    parser.add_argument("--days", type=int, default=defaults.days, help="number of days")
    parser.add_argument("--rows-per-day", type=int, default=defaults.rows_per_day)
    parser.add_argument(
        "--start-date", default=defaults.start_date.isoformat(), help="first day, YYYY-MM-DD"
    )
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--format", choices=("csv", "parquet"), default=defaults.file_format)
    parser.add_argument("--label-delay-days", type=int, default=defaults.label_delay_days)
    parser.add_argument("--drift", action="append", default=[], metavar="SPEC", help=DRIFT_HELP)
    parser.add_argument("--bad-row-rate", type=float, default=defaults.bad_row_rate)
    parser.add_argument("--duplicate-rate", type=float, default=defaults.duplicate_rate)
    parser.add_argument("--use-case", default=defaults.use_case)
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help=f"root data directory (default: ${DATA_DIR_ENV}, else {DEFAULT_DATA_DIR})",
    )
    parser.set_defaults(func=run)


def parse_drift(spec: str) -> NumericDrift | CategoricalDrift:
    """Parse one --drift SPEC; raises ConfigError saying how to write it."""
    parts = spec.split(":", 2)
    if len(parts) != 3 or not all(parts):
        raise ConfigError("malformed --drift spec", context={"spec": spec}, fix=_DRIFT_FIX)
    column, from_day, body = parts
    options: dict[str, str] = {}
    for item in body.split(","):
        key, sep, value = item.partition("=")
        if not sep or not value or key.strip() in options:
            raise ConfigError("malformed --drift option", context={"spec": spec}, fix=_DRIFT_FIX)
        options[key.strip()] = value.strip()
    kind = "categorical" if "to_value" in options or "fraction" in options else "numeric"
    try:
        if kind == "numeric":
            return NumericDrift.model_validate({"column": column, "from_day": from_day, **options})
        return CategoricalDrift.model_validate({"column": column, "from_day": from_day, **options})
    except ValidationError as exc:
        raise ConfigError(
            f"invalid {kind} --drift spec",
            context={"spec": spec, "errors": _errors(exc)},
            fix=_DRIFT_FIX,
        ) from exc


def config_from_args(args: argparse.Namespace) -> SimulationConfig:
    """Build the SimulationConfig of parsed arguments; raises ConfigError with a fix."""
    drift = [parse_drift(spec) for spec in args.drift]
    try:
        start = dt.date.fromisoformat(args.start_date)
    except ValueError as exc:
        raise ConfigError(
            "--start-date is not a date", context={"value": args.start_date}, fix="use YYYY-MM-DD"
        ) from exc
    try:
        return SimulationConfig(
            start_date=start,
            days=args.days,
            rows_per_day=args.rows_per_day,
            seed=args.seed,
            file_format=args.format,
            label_delay_days=args.label_delay_days,
            drift=drift,
            bad_row_rate=args.bad_row_rate,
            duplicate_rate=args.duplicate_rate,
            use_case=args.use_case,
        )
    except ValidationError as exc:
        raise ConfigError(
            "invalid simulate options",
            context={"errors": _errors(exc)},
            fix="see `mlops-assets simulate --help` for the allowed values",
        ) from exc


def resolve_data_dir(value: Path | None) -> Path:
    """--data-dir if given, else $MLOPS_DATA_DIR, else ./.mlops_data."""
    if value is not None:
        return value
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env) if env else DEFAULT_DATA_DIR


def format_summary(summary: SimulationSummary) -> str:
    """A short text table: one line per day, then totals."""
    lines = [f"{'date':<10}  {'rows':>10}  {'bad':>7}  {'dups':>7}  {'labels':>10}  drifted"]
    for day in summary.days:
        lines.append(
            f"{day.date.isoformat():<10}  {day.rows_written:>10,}  {day.bad_rows:>7,}  "
            f"{day.duplicates:>7,}  {day.label_rows:>10,}  {','.join(day.drifted_columns) or '-'}"
        )
    root = summary.data_dir / "landing" / summary.config.use_case
    lines.append(
        f"{len(summary.files_written)} files, {summary.rows_written:,} customer rows in "
        f"{summary.seconds:.2f} s ({summary.rows_per_second:,.0f} rows/s) under {root}"
    )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run the simulation for parsed `args` and print its summary.

    Returns 0 on success, 2 on a ConfigError, 1 on another MLOpsError (message on stderr).
    """
    try:
        summary = simulate(config_from_args(args), resolve_data_dir(args.data_dir))
    except MLOpsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, ConfigError) else 1
    print(format_summary(summary))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry point: `python -m mlops_assets.simulate simulate ...`."""
    parser = argparse.ArgumentParser(prog="mlops-assets")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


def _errors(exc: ValidationError) -> list[str]:
    messages = []
    for error in exc.errors():
        message = str(error["msg"]).removeprefix("Value error, ")
        where = ".".join(map(str, error["loc"]))
        messages.append(f"{where}: {message}" if where else message)
    return messages
