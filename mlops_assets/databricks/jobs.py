"""Databricks job specs for Pipes steps, built from the typed compute configuration.

* :func:`volume_path`: ``/Volumes/<catalog>/<schema>/<volume>`` holding the Pipes context and
  messages (Unity Catalog Volumes, not DBFS) and the uploaded entry script;
* :func:`upload_entry_script`: puts :mod:`mlops_assets.databricks.pipes_entry` in the volume under
  a content-hashed name (re-uploading the same code is a no-op for running jobs);
* :func:`submit_spec`: the ``SubmitTask`` and ``jobs.submit`` arguments for serverless compute, a
  new job cluster (optionally under a cluster policy) or an existing cluster;
* :func:`pipes_client`: the matching dagster-databricks Pipes client with Volumes transport and
  the configured poll intervals.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_assets.config.databricks import (
    ExistingClusterCompute,
    NewClusterCompute,
    PipesSettings,
    ServerlessCompute,
)

if TYPE_CHECKING:
    from dagster_databricks.pipes import BasePipesDatabricksClient
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.service.compute import Library
    from databricks.sdk.service.jobs import SubmitTask

    from mlops_assets.config.environment import DatabricksEnvironment

ENTRY_SCRIPT = Path(__file__).with_name("pipes_entry.py")
ENVIRONMENT_KEY = "mlops_assets"
TASK_KEY = "mlops_step"


def volume_path(env: DatabricksEnvironment) -> str:
    """The Pipes volume of the environment (``compute: pipes`` required)."""
    if env.pipes is None:
        raise ValueError("the environment has no pipes settings")
    return f"/Volumes/{env.catalog}/{env.schema_name}/{env.pipes.volume}"


def entry_script_path(volume: str, source: bytes) -> str:
    """Where the entry script with this content lives in the volume."""
    digest = hashlib.sha256(source).hexdigest()[:12]
    return f"{volume.rstrip('/')}/code/pipes_entry-{digest}.py"


def upload_entry_script(client: WorkspaceClient, volume: str) -> str:
    """Upload the entry script (Files API) and return its ``/Volumes/...`` path."""
    from databricks.sdk.service.files import FilesAPI

    source = ENTRY_SCRIPT.read_bytes()
    path = entry_script_path(volume, source)
    files = FilesAPI(client.api_client)  # type: ignore[no-untyped-call]
    files.create_directory(path.rsplit("/", 1)[0])
    files.upload(path, io.BytesIO(source), overwrite=True)
    return path


def _libraries(requirements: list[str]) -> list[Library]:
    from databricks.sdk.service.compute import Library, PythonPyPiLibrary

    return [
        Library(whl=r) if r.endswith(".whl") else Library(pypi=PythonPyPiLibrary(package=r))
        for r in requirements
    ]


def submit_spec(
    settings: PipesSettings, python_file: str, run_name: str
) -> tuple[SubmitTask, dict[str, Any]]:
    """The task and the extra ``jobs.submit`` arguments for the configured compute."""
    from databricks.sdk.service.compute import ClusterSpec, Environment
    from databricks.sdk.service.jobs import JobEnvironment, SparkPythonTask, SubmitTask

    python_task = SparkPythonTask(
        python_file=python_file,
        parameters=["--message-interval", f"{settings.message_interval_s:g}"],
    )
    submit_args: dict[str, Any] = {"run_name": run_name, "timeout_seconds": settings.timeout_s}
    compute = settings.compute
    if isinstance(compute, ServerlessCompute):
        task = SubmitTask(
            task_key=TASK_KEY, spark_python_task=python_task, environment_key=ENVIRONMENT_KEY
        )
        spec = Environment(client=compute.environment_version, dependencies=compute.dependencies)
        submit_args["environments"] = [JobEnvironment(environment_key=ENVIRONMENT_KEY, spec=spec)]
    elif isinstance(compute, NewClusterCompute):
        cluster = ClusterSpec(
            spark_version=compute.spark_version,
            node_type_id=compute.node_type_id,
            num_workers=compute.num_workers,
            policy_id=compute.policy_id,
            apply_policy_default_values=True if compute.policy_id else None,
        )
        task = SubmitTask(
            task_key=TASK_KEY,
            spark_python_task=python_task,
            new_cluster=cluster,
            libraries=_libraries(compute.libraries) or None,
        )
    else:
        assert isinstance(compute, ExistingClusterCompute)
        task = SubmitTask(
            task_key=TASK_KEY,
            spark_python_task=python_task,
            existing_cluster_id=compute.cluster_id,
            libraries=_libraries(compute.libraries) or None,
        )
    return task, submit_args


def pipes_client(
    client: WorkspaceClient, settings: PipesSettings, volume: str
) -> BasePipesDatabricksClient:
    """The Pipes client for the compute: serverless, or classic with Volumes transport."""
    from dagster_databricks.pipes import (
        PipesDatabricksClient,
        PipesDatabricksServerlessClient,
        PipesUnityCatalogVolumesContextInjector,
        PipesUnityCatalogVolumesMessageReader,
    )

    injector = PipesUnityCatalogVolumesContextInjector(client=client, volume_path=volume)
    reader = PipesUnityCatalogVolumesMessageReader(
        client=client, volume_path=volume, interval=settings.message_interval_s
    )
    if isinstance(settings.compute, ServerlessCompute):
        return PipesDatabricksServerlessClient(
            client=client,
            volume_path=volume,
            context_injector=injector,
            message_reader=reader,
            poll_interval_seconds=settings.poll_interval_s,
        )
    return PipesDatabricksClient(
        client=client,
        context_injector=injector,
        message_reader=reader,
        poll_interval_seconds=settings.poll_interval_s,
    )
