"""``mlops-assets init``: add the component instance (``mlops_assets/defs/<name>/defs.yaml``) of
use cases whose YAML has none, so the code location picks them up; with ``--from-table FILE``,
first scaffold ``configs/use_cases/<name>.yaml`` from a sample table (see
``mlops_assets.scaffold``)."""

import argparse
from pathlib import Path


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = subparsers.add_parser(
        "init",
        help="write mlops_assets/defs/<use_case>/defs.yaml for new use-case YAMLs, or scaffold "
        "a new use case from a sample table (--from-table)",
    )
    parser.add_argument(
        "names",
        nargs="*",
        metavar="USE_CASE",
        help="use cases to add (default: every use-case YAML without an instance)",
    )
    parser.add_argument(
        "--from-table",
        type=Path,
        default=None,
        metavar="FILE",
        help="a CSV or Parquet sample: write a commented configs/use_cases/USE_CASE.yaml from it "
        "(columns, dtypes, keys, starter rules, a gold table, features and a model)",
    )
    parser.add_argument(
        "--label",
        default=None,
        metavar="COL",
        help="with --from-table: the label column (default: guessed, marked for review)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mlops_assets.components.project import instance_names, write_instance
    from mlops_assets.config.project import load_project

    if args.from_table is not None:
        return scaffold(args)
    project = load_project()
    known = [uc.name for uc in project.use_cases]
    present = set(instance_names())
    names = list(args.names) or [name for name in known if name not in present]
    for name in names:
        project.use_case(name)  # a ConfigError naming the known use cases when there is none
        print(f"wrote {write_instance(name)}")
    if not names:
        print("every use case already has a component instance")
    return 0


def scaffold(args: argparse.Namespace) -> int:
    """Write the use-case YAML of ``--from-table``, check it loads, then its instance."""
    import re

    from mlops_assets.components.project import DEFS_DIR, write_instance
    from mlops_assets.config.datasets import NAME_PATTERN
    from mlops_assets.config.loader import config_dir
    from mlops_assets.config.project import load_project
    from mlops_assets.errors import ConfigError
    from mlops_assets.scaffold import REVIEW, profile_table, render_use_case

    if len(args.names) != 1 or not re.match(NAME_PATTERN, args.names[0]):
        raise ConfigError(
            "--from-table needs exactly one new use-case name (lower case, digits, `_`)",
            context={"names": args.names},
            fix="run `mlops-assets init NAME --from-table FILE`",
        )
    name = args.names[0]
    target = config_dir() / "use_cases" / f"{name}.yaml"
    for existing in (target, DEFS_DIR / name / "defs.yaml"):
        if existing.exists():
            raise ConfigError(
                f"{existing} already exists",
                context={"file": str(existing)},
                fix="pick another name, or delete the use case's files first",
            )
    profile = profile_table(args.from_table, label=args.label)
    text = render_use_case(name, profile)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    try:
        load_project().use_case(name)
    except ConfigError:
        target.unlink()  # never leave a project that does not load
        raise
    print(f"wrote {target}")
    print(f"wrote {write_instance(name)}")
    reviews = text.count(REVIEW)
    print(
        f"{reviews} lines are marked `{REVIEW}` (guesses to check). Next: "
        f"`mlops-assets validate`, `mlops-assets simulate --use-case {name} --source "
        f"{args.from_table}`, `mlops-assets demo --use-case {name}`"
    )
    return 0
