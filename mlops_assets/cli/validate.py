"""``mlops-assets validate``: load every config file and print what it defines."""

import argparse


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = subparsers.add_parser("validate", help="validate configs/ for an environment")
    parser.add_argument("--env", default=None, help="environment (default: $MLOPS_ENV or local)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mlops_assets.config.project import load_project

    project = load_project(env=args.env)
    print(f"environment: {project.env_name} ({project.environment.type})")
    for uc in project.use_cases:
        rules = sum(len(d.all_rules()) for d in uc.datasets)
        print(
            f"use case {uc.name}: {len(uc.datasets)} datasets, {rules} rules, "
            f"{len(uc.gold)} gold tables, {len(uc.feature_tables)} feature tables, "
            f"model: {uc.model.name if uc.model else 'none'}"
        )
    print("configuration is valid")
    return 0
