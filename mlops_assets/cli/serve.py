"""``mlops-assets serve``: serve a use case's ``@champion`` locally until Ctrl-C."""

import argparse


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = subparsers.add_parser("serve", help="serve the champion model on a local port")
    parser.add_argument("--use-case", default=None, help="use case (default: the first one)")
    parser.add_argument("--alias", default="champion", help="model alias to serve")
    parser.add_argument("--version", default=None, help="serve this version instead of an alias")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind")
    parser.add_argument("--port", type=int, default=5001, help="port (0: a free one)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mlops_assets.assets.ml.common import registered_name
    from mlops_assets.config.project import load_project, local_environment
    from mlops_assets.errors import RegistryError
    from mlops_assets.ml.registry import Registry
    from mlops_assets.ml.serving import serve_forever
    from mlops_assets.resources.factory import build_resources
    from mlops_assets.resources.mlflow import MlflowResource

    project = load_project()
    local_environment(project)
    uc = project.use_case(args.use_case) if args.use_case else project.use_cases[0]
    if uc.model is None:
        raise RegistryError(f"use case {uc.name!r} has no model", fix="pick another --use-case")
    mlflow = build_resources(project)["mlflow"]
    assert isinstance(mlflow, MlflowResource)
    settings = mlflow.settings(uc.name)
    name = registered_name(uc)
    if args.version:
        uri = f"models:/{name}/{args.version}"
    else:
        found = Registry(settings, lock_dir=mlflow.locks).alias_version(name, args.alias)
        if found is None:
            raise RegistryError(
                f"{name} has no @{args.alias} version",
                fix="run `make demo` (or the training job) first",
            )
        uri = f"models:/{name}/{found.version}"
    port = args.port or None
    print(f"serving {uri} on http://{args.host}:{port or '<free port>'}/invocations (Ctrl-C stops)")
    return serve_forever(uri, args.host, port, settings=settings)
