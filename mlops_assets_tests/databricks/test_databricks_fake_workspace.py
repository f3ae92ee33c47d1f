"""The fake workspace is only useful if it refuses what Databricks refuses: checked here."""

import io
import time

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import InvalidParameterValue, NotFound, Unauthenticated
from databricks.sdk.service.files import FilesAPI
from databricks.sdk.service.jobs import JobsAPI, RunState, SparkPythonTask, SubmitTask

from mlops_assets.databricks.auth import resolve_credentials, workspace_client
from mlops_assets_tests.databricks.conftest import auth_settings
from mlops_assets_tests.databricks.fake_validation import InvalidRequestError, validate_body
from mlops_assets_tests.databricks.fake_workspace import FakeWorkspace


def files_api(client: WorkspaceClient) -> FilesAPI:
    return FilesAPI(client.api_client)  # type: ignore[no-untyped-call]


def wait_for(client: WorkspaceClient, run_id: int, state: str, timeout_s: float = 60) -> RunState:
    """Poll the run until its life cycle state is ``state`` (fail with the last state seen)."""
    deadline = time.monotonic() + timeout_s
    while True:
        current = client.jobs.get_run(run_id).state
        assert current is not None and current.life_cycle_state is not None
        if current.life_cycle_state.value == state:
            return current
        assert time.monotonic() < deadline, (
            f"run {run_id} not {state} after {timeout_s} s: {current}"
        )
        time.sleep(0.05)


@pytest.fixture
def client(fake: FakeWorkspace, dbx_environ: dict[str, str]) -> WorkspaceClient:
    return workspace_client(resolve_credentials(auth_settings(retry_timeout_s=5)))


def test_unknown_fields_are_refused_at_every_depth(client: WorkspaceClient) -> None:
    for body, where in [
        ({"tasks": [], "bogus": 1}, "unknown field 'bogus'"),
        (
            {"tasks": [{"task_key": "t", "spark_python_task": {"python_file": "x", "nope": 1}}]},
            "nope",
        ),
    ]:
        with pytest.raises(InvalidParameterValue, match=where):
            client.api_client.do("POST", "/api/2.2/jobs/runs/submit", body=body)


def test_validation_is_a_round_trip_through_the_sdk_dataclasses() -> None:
    task = SubmitTask(
        task_key="t", spark_python_task=SparkPythonTask(python_file="/Volumes/a/b/c/x.py")
    )
    validate_body(JobsAPI.submit, {"tasks": [task.as_dict()], "run_name": "r"})
    with pytest.raises(InvalidRequestError, match="must be int"):
        validate_body(JobsAPI.submit, {"tasks": [], "timeout_seconds": "60"})
    with pytest.raises(InvalidRequestError, match=r"invalid field\(s\) \['tasks\[0\]\.run_if'\]"):
        validate_body(JobsAPI.submit, {"tasks": [{"task_key": "t", "run_if": "SOMETIMES"}]})


def test_a_wrong_token_is_unauthenticated(fake: FakeWorkspace) -> None:
    from databricks.sdk.config import Config

    bad = WorkspaceClient(config=Config(host=fake.host, token="dapi-wrong", auth_type="pat"))
    with pytest.raises(Unauthenticated):
        bad.current_user.me()


def test_files_round_trip_and_map_to_the_local_volume_folder(
    fake: FakeWorkspace, client: WorkspaceClient
) -> None:
    files = files_api(client)
    files.create_directory("/Volumes/main/mlops/pipes/tmp/abc")
    files.upload(
        "/Volumes/main/mlops/pipes/tmp/abc/1.json", io.BytesIO(b'{"a": 1}'), overwrite=True
    )
    contents = files.download("/Volumes/main/mlops/pipes/tmp/abc/1.json").contents
    assert contents is not None and contents.read() == b'{"a": 1}'
    local = fake.volumes.local("/Volumes/main/mlops/pipes/tmp/abc/1.json")
    assert local.read_bytes() == b'{"a": 1}'
    assert [e.name for e in files.list_directory_contents("/Volumes/main/mlops/pipes/tmp/abc")] == [
        "1.json"
    ]
    with pytest.raises(NotFound):
        files.download("/Volumes/main/mlops/pipes/tmp/abc/2.json")
    files.delete("/Volumes/main/mlops/pipes/tmp/abc/1.json")
    files.delete_directory("/Volumes/main/mlops/pipes/tmp/abc")
    assert not local.parent.exists()


def test_injected_429_is_retried_after_retry_after(
    fake: FakeWorkspace, client: WorkspaceClient
) -> None:
    fake.inject("GET", r"/scim/v2/Me$", 429, times=2, retry_after=0.3)
    start = time.monotonic()
    assert client.current_user.me().user_name == "fake-user@example.com"
    assert time.monotonic() - start >= 0.5  # two waits honoured
    assert [s for _, p, s in fake.requests if p.endswith("/Me")] == [429, 429, 200]


def test_injected_404_and_503_reach_the_caller_as_the_sdk_errors(
    fake: FakeWorkspace, client: WorkspaceClient
) -> None:
    from databricks.sdk.errors import TemporarilyUnavailable

    fake.inject("GET", r"/scim/v2/Me$", 404, times=1)
    with pytest.raises(NotFound, match="injected 404"):
        client.current_user.me()
    fake.inject("GET", r"/scim/v2/Me$", 503, times=None, retry_after=0.2)
    brief = workspace_client(resolve_credentials(auth_settings(retry_timeout_s=1)))
    with pytest.raises(TimeoutError) as caught:
        brief.current_user.me()
    assert isinstance(caught.value.__cause__, TemporarilyUnavailable)


def test_a_job_runs_a_real_process_and_reports_its_exit(
    fake: FakeWorkspace, client: WorkspaceClient
) -> None:
    files = files_api(client)
    script = "/Volumes/main/mlops/pipes/code/exit.py"
    files.upload(
        script, io.BytesIO(b"import sys\nprint(sys.argv[1])\nsys.exit(int(sys.argv[2]))\n")
    )
    states = {}
    for code in ("0", "3"):
        task = SubmitTask(
            task_key="t",
            existing_cluster_id="cluster-1",
            spark_python_task=SparkPythonTask(
                python_file=script, parameters=["/Volumes/main/x", code]
            ),
        )
        run_id = client.jobs.submit(run_name="exit", tasks=[task]).bind()["run_id"]
        states[code] = wait_for(client, run_id, "TERMINATED")
        run_dir = fake.root / "jobs" / "runs" / str(run_id)
        assert (run_dir / "stdout").read_text().strip() == str(
            fake.volumes.local("/Volumes/main/x")
        )
    results = {code: str(state.result_state) for code, state in states.items()}
    assert results == {"0": "RunResultState.SUCCESS", "3": "RunResultState.FAILED"}
    assert "exit code 3" in (states["3"].state_message or "")


def test_cancel_kills_the_process(fake: FakeWorkspace, client: WorkspaceClient) -> None:
    files = files_api(client)
    script = "/Volumes/main/mlops/pipes/code/sleep.py"
    files.upload(script, io.BytesIO(b"import time\ntime.sleep(120)\n"))
    task = SubmitTask(
        task_key="t", existing_cluster_id="c", spark_python_task=SparkPythonTask(python_file=script)
    )
    run_id = client.jobs.submit(tasks=[task]).bind()["run_id"]
    wait_for(client, run_id, "RUNNING", timeout_s=30)
    client.jobs.cancel_run(run_id)
    state = wait_for(client, run_id, "TERMINATED", timeout_s=30)
    assert state.result_state is not None and state.result_state.value == "CANCELED"


def test_unsupported_calls_are_404_not_silently_accepted(client: WorkspaceClient) -> None:
    with pytest.raises(NotFound, match="no API"):
        client.api_client.do("GET", "/api/2.1/clusters/list")
