"""Deployment: serve the champion through the environment's serving resource, smoke-tested.

Locally a real ``mlflow models serve`` process; on Databricks a Model Serving endpoint (rolled
back when its smoke test fails). The asset does not know which: ``resources/factory.py`` binds
the implementation of :class:`~mlops_assets.resources.serving.ServingResource`.
"""

from collections.abc import Callable

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
from mlops_assets.resources.serving import DeploymentRequest, EndpointState, ServingResource


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
        description=f"Serves `{name}@champion` through the environment's serving resource "
        "(locally `mlflow models serve` on a free loopback port; on Databricks a Model Serving "
        "endpoint), sends a request built from the model signature and checks the answer; the "
        "previous deployment keeps serving until the new one answered.",
    )
    def _endpoint(
        context: dg.AssetExecutionContext,
        config: DeploymentRunConfig,
        mlflow: MlflowResource,
        serving: ServingResource,
        champion: ChampionState,
    ) -> EndpointState:
        from mlops_assets.ml.registry import Registry

        settings = use_mlflow(mlflow, uc.name)
        version = _version_to_serve(
            champion,
            config,
            lambda: Registry(settings, lock_dir=mlflow.locks).rollback_version(name),
        )
        request = DeploymentRequest(
            use_case=uc.name,
            model_name=name,
            version=version,
            model_uri=f"models:/{name}/{version}",
            deployment_id=context.run_id[:8],
            local=model_cfg.serving,
            mlflow=settings,
            task=model_cfg.task,
        )
        state = serving.deploy(request, context.log)
        n_rows = len(state.smoke_test_predictions)
        context.add_output_metadata(endpoint_metadata(state, state.url or "", n_rows, settings))
        context.add_output_metadata(run_config_metadata(config))
        return state

    return _endpoint


def _version_to_serve(
    champion: ChampionState, config: DeploymentRunConfig, rollback_version: Callable[[], str]
) -> str:
    """The version asked for, else on rollback ``@previous_champion`` (the champion the last
    promotion replaced: the state's ``previous_champion`` is the champion before the last
    promotion *step*, which after a step that kept the champion is the champion itself), else
    the champion."""
    if config.version:
        return config.version
    if config.rollback:
        return rollback_version()
    if champion.champion_version is None:
        raise ServingError(
            f"{champion.model_name} has no @champion yet: nothing to deploy",
            context={"model": champion.model_name},
            fix="run the training job until a model passes the gates",
        )
    return champion.champion_version
