"""The ONE remote entry point of our Databricks jobs (`python pipes_entry.py`).

Dagster (``DatabricksPipesResource.run``) uploads this file to the Pipes volume and submits it as a
``spark_python_task``; the cluster or serverless environment must have ``mlops_assets`` installed
(the project wheel, see docs/databricks.md). It:

1. opens Dagster Pipes with the Unity Catalog Volumes context loader and message writer (the
   bootstrap parameters arrive as CLI arguments on serverless / existing clusters and as
   environment variables on a new job cluster: both are understood);
2. reads the step name and its request from the Pipes extras and validates the request;
3. runs the step (:mod:`mlops_assets.databricks.steps`), streaming its log records to Dagster;
4. reports the step's metadata as the asset materialization (exceptions are reported by Pipes).
"""

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Any

PIPES_CONTEXT_ARG = "--dagster-pipes-context"
LOGGER_NAME = "mlops_assets.pipes"


class _PipesHandler(logging.Handler):
    """Forwards the steps' log records to the Dagster run's log."""

    def __init__(self, pipes_log: logging.Logger) -> None:
        super().__init__(logging.INFO)
        self.pipes_log = pipes_log

    def emit(self, record: logging.LogRecord) -> None:
        self.pipes_log.log(record.levelno, self.format(record))


def pipes_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """Step metadata as Pipes expects it: mappings and lists become typed JSON values."""
    return {
        key: {"raw_value": value, "type": "json"} if isinstance(value, dict | list) else value
        for key, value in metadata.items()
    }


def main(argv: Sequence[str] | None = None) -> int:
    from dagster_pipes import (
        PipesCliArgsParamsLoader,
        PipesEnvVarParamsLoader,
        PipesParamsLoader,
        PipesUnityCatalogVolumesContextLoader,
        PipesUnityCatalogVolumesMessageWriter,
        open_dagster_pipes,
    )

    args = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--message-interval", type=float, default=10.0)
    options, _ = parser.parse_known_args(args)
    # Serverless and existing clusters pass CLI arguments; a new job cluster, spark_env_vars.
    kind = PipesCliArgsParamsLoader if PIPES_CONTEXT_ARG in args else PipesEnvVarParamsLoader
    loader: PipesParamsLoader = kind()
    if not loader.is_dagster_pipes_process():
        print("pipes_entry: no Dagster Pipes parameters; start it from Dagster", file=sys.stderr)
        return 2
    with open_dagster_pipes(
        params_loader=loader,
        context_loader=PipesUnityCatalogVolumesContextLoader(),
        message_writer=PipesUnityCatalogVolumesMessageWriter(interval=options.message_interval),
    ) as pipes:
        from mlops_assets.databricks.steps import STEPS, StepContext

        step = str(pipes.get_extra("step"))
        if step not in STEPS:
            raise ValueError(f"unknown step {step!r}; known: {sorted(STEPS)}")
        request_model, run = STEPS[step]
        request = request_model.model_validate(pipes.get_extra("request"))
        context = StepContext(
            run_id=pipes.run_id,
            asset_key=pipes.asset_key if pipes.is_asset_step else step,
            partition_key=pipes.partition_key if pipes.is_partition_step else None,
        )
        log = logging.getLogger(LOGGER_NAME)
        log.setLevel(logging.INFO)
        log.addHandler(_PipesHandler(pipes.log))
        pipes.log.info(f"step {step} started")
        metadata = pipes_metadata(run(request, context, log))
        if pipes.is_asset_step:
            pipes.report_asset_materialization(metadata=metadata)
        else:
            pipes.report_custom_message(metadata)
        pipes.log.info(f"step {step} finished")
    return 0


if __name__ == "__main__":
    sys.exit(main())
