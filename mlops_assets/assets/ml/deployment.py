"""Deployment: serve the champion with a real ``mlflow models serve`` process, smoke-tested."""

import contextlib
import os
import signal

import dagster as dg

from mlops_assets.assets.keys import asset_key, group, tables
from mlops_assets.assets.ml.common import model_config, registered_name, use_mlflow
from mlops_assets.assets.ml.metadata import endpoint_metadata
from mlops_assets.assets.ml.serving_run_config import DeploymentRunConfig
from mlops_assets.assets.run_config import run_config_metadata
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.errors import ServingError
from mlops_assets.ml.decisions import ChampionState
from mlops_assets.resources.mlflow import MlflowResource
from mlops_assets.resources.serving import EndpointState, ServingResource


def build_deployment_asset(uc: UseCaseConfig) -> dg.AssetsDefinition:
    """``[uc, serving, endpoint]``, downstream of the champion: never deployed before one exists."""
    model_cfg = model_config(uc)
    refs = tables(uc)
    name = registered_name(uc)

    @dg.asset(
        key=asset_key(refs.endpoint),
        ins={"champion": dg.AssetIn(key=asset_key(refs.champion))},
        group_name=group(uc.name, "serving"),
        io_manager_key="state_io",
        kinds={"mlflow"},
        owners=uc.owners or None,
        description=f"Serves `{name}@champion` on a free loopback port (`mlflow models serve`), "
        "sends a request built from the model signature and checks the answer; the previous "
        "endpoint is stopped only after the new one answered.",
    )
    def _endpoint(
        context: dg.AssetExecutionContext,
        config: DeploymentRunConfig,
        mlflow: MlflowResource,
        serving: ServingResource,
        champion: ChampionState,
    ) -> EndpointState:
        from mlops_assets.ml.serving import smoke_test, start_server, stop_server

        version = _version_to_serve(champion, config)
        uri = f"models:/{name}/{version}"
        log_path = serving.log_path(name, version, context.run_id[:8])
        settings = use_mlflow(mlflow, uc.name)
        handle = start_server(uri, model_cfg.serving, settings=settings, log_path=log_path)
        try:
            result = smoke_test(handle)
        except Exception:
            stop_server(handle)
            raise
        previous = serving.read_state(name)
        # The state file is the only record of a running server: once it is overwritten, a
        # previous endpoint left running would be orphaned, whatever keep_running says now.
        if previous is not None and previous.running and previous.pid is not None:
            _stop_pid(previous.pid)
        if not serving.keep_running:
            stop_server(handle)
        state = EndpointState(
            model_name=name,
            model_version=version,
            model_uri=uri,
            url=handle.url if serving.keep_running else None,
            pid=handle.pid if serving.keep_running else None,
            running=serving.keep_running,
            smoke_test_latency_ms=result.latency_ms,
            smoke_test_predictions=[_positive(p) for p in result.predictions],
            log_path=str(log_path),
        )
        serving.write_state(state)
        context.add_output_metadata(endpoint_metadata(state, handle.url, result.n_rows))
        context.add_output_metadata(run_config_metadata(config))
        return state

    return _endpoint


def _version_to_serve(champion: ChampionState, config: DeploymentRunConfig) -> str:
    if config.version:
        return config.version
    if config.rollback:
        if champion.previous_champion is None:
            raise ServingError(
                f"{champion.model_name}: no previous champion to roll back to",
                context={"model": champion.model_name, "champion": champion.champion_version},
                fix="serve a given `version` instead of `rollback`",
            )
        return champion.previous_champion
    if champion.champion_version is None:
        raise ServingError(
            f"{champion.model_name} has no @champion yet: nothing to deploy",
            context={"model": champion.model_name},
            fix="run the training job until a model passes the gates",
        )
    return champion.champion_version


def _positive(prediction: object) -> float:
    """A classifier's P(positive) (the last of ``[P(0), P(1)]``) or a regressor's value."""
    if isinstance(prediction, list | tuple):
        return float(prediction[-1])
    return float(prediction)  # type: ignore[arg-type]


def _stop_pid(pid: int) -> None:
    """Stop a previously deployed server's process group (it may already be gone)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
