"""Model Serving against the fake workspace, answering with the REAL registered models."""

import time
from pathlib import Path

import pytest

from mlops_assets.config.databricks import ServingSettings
from mlops_assets.databricks.auth import resolve_credentials, workspace_client
from mlops_assets.databricks.endpoint_config import endpoint_name
from mlops_assets.databricks.serving import EndpointDeployer
from mlops_assets.databricks.smoke import SmokeRequest, prediction_problem, smoke_request
from mlops_assets.errors import ServingError
from mlops_assets.ml.model_store import ModelVersionInfo
from mlops_assets.ml.tracking import MlflowSettings
from mlops_assets_tests.databricks.conftest import MODEL, auth_settings
from mlops_assets_tests.databricks.fake_workspace import FakeWorkspace

ENDPOINT = "mlops-churn-churn_model"


def deployer(retry_timeout_s: float = 30.0, **overrides: object) -> EndpointDeployer:
    settings = ServingSettings.model_validate(
        {"ready_timeout_s": 20, "poll_interval_s": 0.05, "smoke_rows": 4, **overrides}
    )
    credentials = resolve_credentials(auth_settings(retry_timeout_s=retry_timeout_s))
    return EndpointDeployer(workspace_client(credentials), settings, credentials)


@pytest.fixture
def serving_fake(
    fake: FakeWorkspace, dbx_environ: dict[str, str], uc_store: MlflowSettings
) -> FakeWorkspace:
    from mlops_assets.ml.tracking import configure

    fake.serving.registry_uri = uc_store.tracking_uri
    configure(uc_store)  # the deployer reads the MLmodel through this process's MLflow
    return fake


def request_for(version: ModelVersionInfo) -> SmokeRequest:
    return smoke_request(version.model_uri, 4)


def served_versions(fake: FakeWorkspace) -> list[tuple[str, str]]:
    config = fake.serving.endpoints[ENDPOINT].config
    assert config is not None
    return sorted(
        (e["entity_version"], str(r["traffic_percentage"]))
        for e in config["served_entities"]
        for r in config["traffic_config"]["routes"]
        if r["served_model_name"] == e["name"]
    )


def test_endpoint_name_is_what_databricks_accepts() -> None:
    assert endpoint_name("mlops", "churn", "churn_model") == ENDPOINT
    assert endpoint_name("p", "use case/ä", "m" * 80) == f"p-use-case-{'m' * 80}"[:63]


def test_smoke_request_comes_from_the_input_example_in_signature_order(
    served_models: list[ModelVersionInfo], uc_store: MlflowSettings, tmp_path: Path
) -> None:
    import mlflow

    # another store selected in this process first: the request is read from the one given
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'other.db'}")
    mlflow.set_registry_uri(f"sqlite:///{tmp_path / 'other.db'}")
    request = smoke_request(served_models[0].model_uri, 4, uc_store)
    assert request.source == "input_example"
    assert request.columns == [
        "tenure_months",
        "monthly_charges",
        "support_calls",
        "contract",
        "region",
    ]
    assert len(request.data) == 4 and all(len(row) == 5 for row in request.data)


def test_prediction_problems_are_explained() -> None:
    assert prediction_problem([[0.2, 0.8], [0.9, 0.1]], 2) is None
    assert prediction_problem([0.5], 2) == "expected 2 predictions, got 1"
    assert "dict" in (prediction_problem({"x": 1}, 1) or "")
    assert "finite" in (prediction_problem([float("nan")], 1) or "")
    assert "widths" in (prediction_problem([[0.1, 0.9], 0.3], 2) or "")


def test_deploy_creates_the_endpoint_then_updates_it_to_the_next_champion(
    serving_fake: FakeWorkspace, served_models: list[ModelVersionInfo]
) -> None:
    v1, v2 = served_models
    first = deployer().deploy(ENDPOINT, MODEL, v1.version, request_for(v1))
    assert (first.created, first.changed, first.served_entity) == (
        True,
        True,
        f"churn_model-{v1.version}",
    )
    assert first.traffic == {f"churn_model-{v1.version}": 100}
    assert first.smoke.n_rows == 4 and all(abs(sum(p) - 1) < 1e-6 for p in first.smoke.predictions)
    assert served_versions(serving_fake) == [(v1.version, "100")]

    second = deployer().deploy(ENDPOINT, MODEL, v2.version, request_for(v2))
    assert (second.created, second.changed) == (False, True)
    assert served_versions(serving_fake) == [(v2.version, "100")]
    assert serving_fake.serving.invocations[-1] == (
        ENDPOINT,
        f"churn_model-{v2.version}",
        v2.version,
    )

    again = deployer().deploy(ENDPOINT, MODEL, v2.version, request_for(v2))
    assert (again.created, again.changed) == (False, False)  # nothing to update, still smoke-tested


def test_a_canary_keeps_the_stable_version_and_smoke_tests_the_new_one(
    serving_fake: FakeWorkspace, served_models: list[ModelVersionInfo]
) -> None:
    v1, v2 = served_models
    deployer().deploy(ENDPOINT, MODEL, v1.version, request_for(v1))
    canary = deployer(traffic_percent=20).deploy(ENDPOINT, MODEL, v2.version, request_for(v2))
    assert served_versions(serving_fake) == sorted([(v1.version, "80"), (v2.version, "20")])
    assert canary.smoke.served_entity == f"churn_model-{v2.version}"
    assert serving_fake.serving.invocations[-1][2] == v2.version  # the new entity was queried


@pytest.mark.parametrize("answer", ["http_500", "wrong_shape"])
def test_a_failed_smoke_test_rolls_back_to_the_previous_config(
    serving_fake: FakeWorkspace, served_models: list[ModelVersionInfo], answer: str
) -> None:
    v1, v2 = served_models
    deployer().deploy(ENDPOINT, MODEL, v1.version, request_for(v1))
    serving_fake.serving.answers[(MODEL, v2.version)] = answer  # type: ignore[assignment]
    with pytest.raises(ServingError) as caught:
        deployer().deploy(ENDPOINT, MODEL, v2.version, request_for(v2))
    assert "rolled back to its previous config" in caught.value.message
    assert caught.value.context["rolled_back"] is True
    assert served_versions(serving_fake) == [(v1.version, "100")]
    history = [
        c["served_entities"][0]["entity_version"]
        for c in serving_fake.serving.endpoints[ENDPOINT].history
    ]
    assert history == [v1.version, v2.version, v1.version]


def test_a_new_endpoint_that_fails_its_smoke_test_is_deleted(
    serving_fake: FakeWorkspace, served_models: list[ModelVersionInfo]
) -> None:
    v1 = served_models[0]
    serving_fake.serving.answers[(MODEL, v1.version)] = "http_500"
    with pytest.raises(ServingError, match="was deleted") as caught:
        deployer().deploy(ENDPOINT, MODEL, v1.version, request_for(v1))
    assert "HTTP" in caught.value.message or "INTERNAL_ERROR" in str(caught.value.context)
    assert ENDPOINT not in serving_fake.serving.endpoints


def test_an_update_that_fails_keeps_the_previous_config(
    serving_fake: FakeWorkspace, served_models: list[ModelVersionInfo]
) -> None:
    v1, v2 = served_models
    deployer().deploy(ENDPOINT, MODEL, v1.version, request_for(v1))
    serving_fake.serving.failing_versions.add((MODEL, v2.version))
    with pytest.raises(ServingError, match="UPDATE_FAILED") as caught:
        deployer().deploy(ENDPOINT, MODEL, v2.version, request_for(v2))
    assert caught.value.fix and "build logs" in caught.value.fix
    assert served_versions(serving_fake) == [(v1.version, "100")]


def test_an_update_that_never_lands_times_out(
    serving_fake: FakeWorkspace, served_models: list[ModelVersionInfo]
) -> None:
    v1 = served_models[0]
    serving_fake.serving.polls_to_ready = 10_000
    with pytest.raises(ServingError, match="still updating") as caught:
        deployer(ready_timeout_s=0.5).deploy(ENDPOINT, MODEL, v1.version, request_for(v1))
    assert "ready_timeout_s" in (caught.value.fix or "")


def test_a_rate_limit_that_never_ends_gives_a_clear_error_fast(
    serving_fake: FakeWorkspace, served_models: list[ModelVersionInfo]
) -> None:
    v1 = served_models[0]
    serving_fake.inject("GET", r"^/api/2\.0/serving-endpoints/", 429, times=None, retry_after=0.5)
    start = time.monotonic()
    with pytest.raises(ServingError) as caught:
        deployer(retry_timeout_s=1).deploy(ENDPOINT, MODEL, v1.version, request_for(v1))
    elapsed = time.monotonic() - start
    assert elapsed < 15, f"the retry budget of 1 s took {elapsed:.1f} s to run out"
    error = caught.value
    assert "gave up after the retry budget" in error.message
    assert "RequestLimitExceeded" in error.message  # the 429 behind the SDK's TimeoutError
    assert error.context["endpoint"] == ENDPOINT and error.context["retry_timeout_s"] == 1
    assert error.fix and "retry_timeout_s" in error.fix
    statuses = {
        s for m, p, s in serving_fake.requests if p.startswith("/api/2.0/serving-endpoints/")
    }
    assert statuses == {429}


def test_a_transient_503_is_retried_and_the_deployment_succeeds(
    serving_fake: FakeWorkspace, served_models: list[ModelVersionInfo]
) -> None:
    v1 = served_models[0]
    serving_fake.inject("POST", r"^/api/2\.0/serving-endpoints$", 503, times=1, retry_after=0.2)
    result = deployer().deploy(ENDPOINT, MODEL, v1.version, request_for(v1))
    assert result.created
    posts = [
        s for m, p, s in serving_fake.requests if m == "POST" and p == "/api/2.0/serving-endpoints"
    ]
    assert posts == [503, 200]


def test_an_endpoint_that_never_worked_cannot_be_rolled_back_and_says_so(
    serving_fake: FakeWorkspace, served_models: list[ModelVersionInfo]
) -> None:
    v1, v2 = served_models
    serving_fake.serving.failing_versions.add((MODEL, v1.version))
    with pytest.raises(ServingError, match="UPDATE_FAILED"):
        deployer().deploy(ENDPOINT, MODEL, v1.version, request_for(v1))
    assert serving_fake.serving.endpoints[ENDPOINT].config is None  # exists, serves nothing
    serving_fake.serving.answers[(MODEL, v2.version)] = "http_500"
    with pytest.raises(ServingError, match="rolling back ALSO failed") as caught:
        deployer().deploy(ENDPOINT, MODEL, v2.version, request_for(v2))
    assert "no working config to restore" in caught.value.message
    assert caught.value.context["rolled_back"] is False
    assert caught.value.fix and "by hand" in caught.value.fix
