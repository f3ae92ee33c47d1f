"""``mlops-assets init``: add the component instance (``mlops_assets/defs/<name>/defs.yaml``) of
use cases whose YAML has none, so the code location picks them up."""

import argparse


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = subparsers.add_parser(
        "init", help="write mlops_assets/defs/<use_case>/defs.yaml for new use-case YAMLs"
    )
    parser.add_argument(
        "names",
        nargs="*",
        metavar="USE_CASE",
        help="use cases to add (default: every use-case YAML without an instance)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mlops_assets.components.project import instance_names, write_instance
    from mlops_assets.config.project import load_project

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
