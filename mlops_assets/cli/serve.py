"""``mlops-assets serve``: serve a use case's ``@champion`` locally until Ctrl-C or SIGTERM.

The model server (``mlflow models serve`` and its gunicorn/uvicorn workers) runs in a process
group of its own; this command prints an example request and its labelled answer, then waits.
One SIGINT or SIGTERM stops the whole group (SIGTERM, then SIGKILL after a timeout).
"""

import argparse
import json
import signal
import time
from types import FrameType
from typing import TYPE_CHECKING, Any

from mlops_assets.config.use_case import UseCaseConfig

if TYPE_CHECKING:
    from mlops_assets.ml.serving import ServingHandle

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve the champion model on a local port",
        description="Serve a registered model version with `mlflow models serve`, print an "
        "example request with its labelled answer, and run until Ctrl-C or SIGTERM.",
    )
    parser.add_argument("--use-case", default=None, help="use case (default: the first one)")
    parser.add_argument("--alias", default="champion", help="model alias to serve")
    parser.add_argument("--version", default=None, help="serve this version instead of an alias")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind")
    parser.add_argument("--port", type=int, default=5001, help="port (0: a free one)")
    parser.set_defaults(func=run)


def label_predictions(
    uc: UseCaseConfig, predictions: list[Any], classes: list[str] | None = None
) -> list[str]:
    """One readable line per answered row: class probabilities named after the label.

    ``classes``: a multiclass model's labels in the order of its probabilities (stored with the
    model); the row then names its predicted class. Without them, classes are numbered.
    """
    model = uc.model
    label = model.label if model is not None else "prediction"
    lines = []
    for i, row in enumerate(predictions, start=1):
        if model is not None and model.task == "binary" and isinstance(row, list):
            positive = model.positive_label or "1"
            lines.append(f"row {i}: P({label}={positive}) = {float(row[-1]):.3f}")
        elif isinstance(row, list) and classes is not None and len(classes) == len(row):
            values = [float(p) for p in row]
            best = max(range(len(values)), key=values.__getitem__)
            probs = ", ".join(f"P({c}) = {p:.3f}" for c, p in zip(classes, values, strict=True))
            lines.append(f"row {i}: predicted {label} = {classes[best]} ({probs})")
        elif isinstance(row, list):
            probs = ", ".join(f"P(class {k}) = {float(p):.3f}" for k, p in enumerate(row))
            lines.append(f"row {i}: {probs}")
        else:
            lines.append(f"row {i}: predicted {label} = {row}")
    return lines


def example_body(model_uri: str, rows: int = 2) -> str:
    """A ``dataframe_split`` request body from the model's logged input example."""
    from mlflow.models import Model

    frame: Any = Model.load(model_uri).load_input_example(model_uri)
    if frame is None:
        return '{"dataframe_split": {"columns": [], "data": []}}'
    split = json.loads(frame.head(rows).to_json(orient="split", index=False))
    return json.dumps({"dataframe_split": split})


def curl_example(url: str, body: str) -> str:
    return (
        f"curl -s -X POST {url}/invocations -H 'Content-Type: application/json' \\\n"
        f"     -d '{body}'"
    )


def run(args: argparse.Namespace) -> int:
    from mlops_assets.assets.ml.common import registered_name
    from mlops_assets.config.ml import ServingConfig
    from mlops_assets.config.project import load_project, local_environment
    from mlops_assets.errors import RegistryError
    from mlops_assets.ml.registry import Registry
    from mlops_assets.ml.serving import start_server, stop_server
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
    import mlflow as mlflow_lib  # this process reads the model's input example too

    mlflow_lib.set_tracking_uri(settings.tracking_uri)
    mlflow_lib.set_registry_uri(settings.effective_registry_uri)
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

    # A stop signal while the server starts is held until it answers (so it can be stopped);
    # afterwards SIGTERM and SIGHUP interrupt like Ctrl-C, and the server's group is stopped.
    pending: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        pending.append(signum)

    previous = {sig: signal.signal(sig, hold) for sig in STOP_SIGNALS}
    try:
        print(f"starting the model server for {uri} ...", flush=True)
        handle = start_server(
            uri, ServingConfig(host=args.host, port=args.port or None), settings=settings
        )
        try:
            for sig in STOP_SIGNALS:
                signal.signal(sig, signal.default_int_handler)
            if pending:
                raise KeyboardInterrupt
            return _answer_until_stopped(uc, handle)
        except KeyboardInterrupt:
            return 0
        finally:
            stop_server(handle)
            print("stopped: the model server and its workers are gone", flush=True)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _classes(model_uri: str) -> list[str] | None:
    """A multiclass model's class labels, from the metadata stored with it (None otherwise)."""
    import mlflow

    from mlops_assets.ml.model_store import METADATA_KEY

    section = (mlflow.models.get_model_info(model_uri).metadata or {}).get(METADATA_KEY) or {}
    classes = section.get("classes")
    return [str(c) for c in classes] if isinstance(classes, list) else None


def _answer_until_stopped(uc: UseCaseConfig, handle: "ServingHandle") -> int:
    """Print the example request and its labelled answer, then wait for a stop signal."""
    import polars as pl

    from mlops_assets.ml.serving import smoke_test

    body = example_body(handle.model_uri)
    rows = json.loads(body)["dataframe_split"]
    example = pl.DataFrame(rows["data"], schema=rows["columns"], orient="row")
    answer = smoke_test(handle, example=example if example.height else None)
    print(f"serving {handle.model_uri} on {handle.url}/invocations (log: {handle.log_path})")
    print("\nexample request:\n" + curl_example(handle.url, body))
    print(f"\nanswer ({answer.latency_ms:.0f} ms):")
    for line in label_predictions(uc, answer.predictions, _classes(handle.model_uri)):
        print(f"  {line}")
    print("\nCtrl-C or SIGTERM stops the server.", flush=True)
    while handle.process is None or handle.process.poll() is None:
        time.sleep(0.5)
    code = int(handle.process.returncode)
    print(f"the model server exited with code {code}; log: {handle.log_path}")
    return code or 1
