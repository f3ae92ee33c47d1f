"""``mlops-assets override``: let one model version score and serve without a passing gate.

The one user-facing way to record the audited override of :mod:`mlops_assets.ml.approval`: who
takes responsibility and why, written to MLflow as a run of its own plus tags on the version.
Batch inference and serving then accept that version as ``@champion``; nothing else changes (no
alias moves: promote it through the gates, or move ``@champion`` deliberately, separately).
"""

import argparse


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = subparsers.add_parser(
        "override",
        help="record an audited override: a model version may score and serve without a "
        "passing gate decision",
    )
    parser.add_argument("--use-case", default=None, help="use case (default: the first one)")
    parser.add_argument("--version", required=True, help="registered model version, e.g. 3")
    parser.add_argument("--by", required=True, help="who takes responsibility (name or e-mail)")
    parser.add_argument("--reason", required=True, help="why the gates are overridden")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from mlops_assets.assets.ml.common import registered_name
    from mlops_assets.config.project import load_project
    from mlops_assets.errors import ConfigError, RegistryError
    from mlops_assets.ml.approval import OverrideRequest, record_override
    from mlops_assets.ml.registry import Registry
    from mlops_assets.resources.factory import build_resources
    from mlops_assets.resources.mlflow import MlflowResource

    try:
        request = OverrideRequest(by=args.by, reason=args.reason)
    except ValidationError as exc:
        problems = "; ".join(f"--{e['loc'][0]}: {e['msg']}" for e in exc.errors())
        raise ConfigError(
            f"the override request is incomplete: {problems}",
            fix="say who takes responsibility (--by) and why, in a sentence (--reason)",
        ) from None
    project = load_project()
    uc = project.use_case(args.use_case) if args.use_case else project.use_cases[0]
    if uc.model is None:
        raise RegistryError(f"use case {uc.name!r} has no model", fix="pick another --use-case")
    mlflow = build_resources(project)["mlflow"]
    assert isinstance(mlflow, MlflowResource)
    registry = Registry(mlflow.settings(uc.name), lock_dir=mlflow.locks)
    name = registered_name(uc)
    recorded = record_override(registry, name, str(args.version), request)
    print(
        f"override recorded for {name} v{args.version}: by {recorded.by} at "
        f"{recorded.at.isoformat()} (MLflow run {recorded.run_id}); it may now score and serve"
    )
    return 0
