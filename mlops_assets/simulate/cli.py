"""`mlops-assets simulate`: write daily landing files for every dataset of a use case.

The project's CLI mounts this with `register(subparsers)`; the subcommand's handler is stored as
`args.func` (it is `run`). `python -m mlops_assets.simulate` runs it alone.
"""

import argparse
import datetime as dt
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mlops_assets.errors import ConfigError, MLOpsError
from mlops_assets.simulate.config import (
    CategoricalDrift,
    NumericDrift,
    SimulationConfig,
)
from mlops_assets.simulate.runner import SimulationSummary, simulate
from mlops_assets.storage.lakehouse import LocalLakehouse

DATA_DIR_ENV = "MLOPS_DATA_DIR"
DEFAULT_DATA_DIR = Path(".mlops_data")
DRIFT_HELP = (
    "[DATASET.]COLUMN:FROM_DAY:multiply=1.3[,add=5] (numeric; shift=DAYS for dates) or "
    "[DATASET.]COLUMN:FROM_DAY:to_value=VALUE,fraction=0.5 (remap); repeatable"
)
_DRIFT_FIX = (
    "write --drift as COLUMN:FROM_DAY:multiply=1.3 (or add=/shift=..., comma-separated) or "
    "COLUMN:FROM_DAY:to_value=VALUE,fraction=0.5; prefix DATASET. when several datasets have it"
)


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add the `simulate` subcommand (handler in `args.func`) to `subparsers`."""
    defaults = SimulationConfig()
    parser = subparsers.add_parser(
        "simulate",
        help="write simulated daily landing files for every dataset of a use case",
        description="Write daily landing files under <data-dir>/landing/<use-case>/ for every "
        "dataset the use case declares (labels delayed), sampled from a source table with noise "
        "or synthesized from the declared schema, with drift, bad rows and duplicates.",
    )
    add = parser.add_argument
    add("--use-case", default=defaults.use_case, help="use case (configs/use_cases/NAME.yaml)")
    add("--config-dir", type=Path, default=None, help="configs folder ($MLOPS_CONFIG_DIR)")
    add("--days", type=int, default=defaults.days, help="number of days")
    add("--rows-per-day", type=int, default=defaults.rows_per_day, help="observations per day")
    add("--start-date", default=None, help="first day, YYYY-MM-DD (default: the use case's)")
    add("--seed", type=int, default=defaults.seed, help="random seed (same seed, same files)")
    add("--format", choices=("csv", "parquet"), default=None, help="default: as declared")
    add(
        "--label-delay-days",
        type=int,
        default=defaults.label_delay_days,
        help="labels of day d land with day d + this",
    )
    add("--drift", action="append", default=[], metavar="SPEC", help=DRIFT_HELP)
    for flag, value, what in (
        ("--bad-row-rate", defaults.bad_row_rate, "broken rows"),
        ("--duplicate-rate", defaults.duplicate_rate, "re-sent rows"),
    ):
        add(
            flag,
            action="append",
            default=[],
            metavar="[DATASET=]RATE",
            help=f"share of {what} (default {value}, labels 0); repeatable",
        )
    add(
        "--source",
        default=None,
        help="a .csv/.parquet file, a shipped table (wa_churn, ames) or 'synthetic'; "
        "default: the use case's shipped table (churn, housing), else synthetic",
    )
    add(
        "--map",
        action="append",
        default=[],
        metavar="SOURCE=DECLARED",
        help="source column feeding a declared column of another name; repeatable",
    )
    add("--entity-column", default=None, help="declared entity id column (default: inferred)")
    add("--timestamp-column", default=None, help="declared event-time column (default: inferred)")
    add(
        "--replay-order",
        default=None,
        metavar="COL[,COL]",
        help="replay the source in this order: day d samples the d-th slice",
    )
    add("--entities", type=int, default=defaults.entities, help="entities of a synthetic source")
    add("--noise", type=float, default=defaults.noise, help="numeric jitter (share of std)")
    add(
        "--resample-rate",
        type=float,
        default=defaults.resample_rate,
        help="share of categorical values redrawn from their column's distribution",
    )
    add(
        "--data-dir",
        type=Path,
        default=None,
        help=f"root data directory (default: ${DATA_DIR_ENV}, else {DEFAULT_DATA_DIR})",
    )
    parser.set_defaults(func=run)


def parse_drift(spec: str) -> NumericDrift | CategoricalDrift:
    """Parse one --drift SPEC (its column is checked against the use case later)."""
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
    model = CategoricalDrift if kind == "categorical" else NumericDrift
    try:
        return model.model_validate({"column": column, "from_day": from_day, **options})
    except ValidationError as exc:
        raise ConfigError(
            f"invalid {kind} --drift spec",
            context={"spec": spec, "errors": _errors(exc)},
            fix=_DRIFT_FIX,
        ) from exc


def _pairs(values: list[str], flag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip() or not rest.strip():
            raise ConfigError(f"malformed {flag} {value!r}", fix=f"write {flag} NAME=VALUE")
        out[key.strip()] = rest.strip()
    return out


def _rates(values: list[str], flag: str) -> tuple[str | None, dict[str, str]]:
    """The last plain RATE, and DATASET=RATE pairs."""
    plain = [v for v in values if "=" not in v]
    return (plain[-1] if plain else None), _pairs([v for v in values if "=" in v], flag)


def config_from_args(args: argparse.Namespace) -> SimulationConfig:
    """Build the SimulationConfig of parsed arguments; raises ConfigError with a fix."""
    drift = [parse_drift(spec) for spec in args.drift]
    try:
        start = dt.date.fromisoformat(args.start_date) if args.start_date else None
    except ValueError as exc:
        raise ConfigError(
            "--start-date is not a date", context={"value": args.start_date}, fix="use YYYY-MM-DD"
        ) from exc
    bad, bad_per_dataset = _rates(args.bad_row_rate, "--bad-row-rate")
    dup, dup_per_dataset = _rates(args.duplicate_rate, "--duplicate-rate")
    fields: dict[str, Any] = {
        "days": args.days,
        "rows_per_day": args.rows_per_day,
        "seed": args.seed,
        "file_format": args.format,
        "label_delay_days": args.label_delay_days,
        "drift": drift,
        "dataset_bad_row_rates": bad_per_dataset,
        "dataset_duplicate_rates": dup_per_dataset,
        "use_case": args.use_case,
        "source": args.source,
        "column_map": _pairs(args.map, "--map"),
        "entity_column": args.entity_column,
        "timestamp_column": args.timestamp_column,
        "replay_order": [c.strip() for c in (args.replay_order or "").split(",") if c.strip()],
        "entities": args.entities,
        "noise": args.noise,
        "resample_rate": args.resample_rate,
    }
    if start is not None:
        fields["start_date"] = start
    if bad is not None:
        fields["bad_row_rate"] = bad
    if dup is not None:
        fields["duplicate_rate"] = dup
    try:
        return SimulationConfig.model_validate(fields)
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
    """A short text table: one line per day (observations and labels), then totals."""
    lines = [f"{'date':<10}  {'rows':>10}  {'bad':>7}  {'dups':>7}  {'labels':>10}  drifted"]
    for day in summary.days:
        lines.append(
            f"{day.date.isoformat():<10}  {day.rows_written:>10,}  {day.bad_rows:>7,}  "
            f"{day.duplicates:>7,}  {day.label_rows:>10,}  {','.join(day.drifted_columns) or '-'}"
        )
    root = LocalLakehouse(summary.data_dir).landing_root() / summary.config.use_case
    lines.append(
        f"{len(summary.files_written)} files, {summary.rows_written:,} rows in "
        f"{summary.seconds:.2f} s ({summary.rows_per_second:,.0f} rows/s) under {root}"
    )
    totals: dict[str, int] = {}
    for day in summary.days:
        for name, written in day.datasets.items():
            totals[name] = totals.get(name, 0) + written.rows_written
    datasets = ", ".join(f"{name} {rows:,}" for name, rows in totals.items())
    lines.append(f"source: {summary.source}; rows per dataset: {datasets}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run the simulation for parsed `args` and print its summary.

    Returns 0 on success, 2 on a ConfigError, 1 on another MLOpsError (message on stderr).
    """
    from mlops_assets.config.project import load_project

    try:
        config = config_from_args(args)
        use_case = load_project(directory=args.config_dir).use_case(config.use_case)
        if args.start_date is None:  # the use case's first partition
            config = config.model_copy(update={"start_date": use_case.start_date})
        summary = simulate(config, resolve_data_dir(args.data_dir), use_case)
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
