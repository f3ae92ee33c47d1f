"""A fake Databricks workspace on loopback: exactly the REST calls our code makes.

* auth: PAT bearer tokens, and OAuth M2M (``/oidc/.well-known/...`` + ``/oidc/v1/token`` with the
  client id/secret as HTTP Basic) issuing short-lived bearer tokens; anything else is a 401;
* jobs: ``runs/submit``, ``runs/get``, ``runs/cancel`` (see :mod:`fake_jobs`: real processes);
* files: the Files API for Volumes (``/api/2.0/fs/files``, ``/api/2.0/fs/directories``) over a
  local folder, which is also what job processes see as ``/Volumes``;
* serving: endpoint get / create / update-config / delete and invocations (:mod:`fake_serving`);
* ``/api/2.0/preview/scim/v2/Me`` (who is calling).

Every JSON body is validated against databricks-sdk's method signature and dataclasses (400 with
the unknown field otherwise). Faults can be injected per method + path: 429 with ``Retry-After``,
503, 404, ... for a number of requests or forever.
"""

import base64
import secrets
import urllib.parse
from pathlib import Path

from databricks.sdk.service.jobs import JobsAPI, Run
from databricks.sdk.service.serving import ServingEndpointsAPI

from mlops_assets_tests.databricks.fake_files import VolumeFiles
from mlops_assets_tests.databricks.fake_http import LoopbackServer, Reply, Request, error
from mlops_assets_tests.databricks.fake_jobs import JobRunner, VolumeMapper, run_json
from mlops_assets_tests.databricks.fake_serving import ServingEndpoints
from mlops_assets_tests.databricks.fake_validation import check_response, validate_body


class FakeWorkspace(LoopbackServer):
    """Start with :meth:`start` (a free port on 127.0.0.1), stop with :meth:`stop`."""

    def __init__(
        self,
        root: Path,
        *,
        token: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        user: str = "fake-user@example.com",
    ) -> None:
        self.root = root
        self.token = token
        self.client_id, self.client_secret = client_id, client_secret
        self.user = user
        self.volumes = VolumeMapper(root / "fs")
        self.job_env: dict[str, str] = {}
        self.jobs = JobRunner(root / "jobs", self.volumes, self.job_env)
        self.serving = ServingEndpoints()
        self.issued_tokens: set[str] = set()
        super().__init__()
        self._register_routes()
        VolumeFiles(self.volumes).register(self)

    def on_stop(self) -> None:
        self.jobs.stop_all(lambda p: p.wait(timeout=20))

    def authorized(self, header: str) -> bool:
        if not header.startswith("Bearer "):
            return False
        presented = header.removeprefix("Bearer ")
        return (
            self.token is not None and presented == self.token
        ) or presented in self.issued_tokens

    def _register_routes(self) -> None:
        add = self.add_route
        add("GET", r"/oidc/\.well-known/oauth-authorization-server", self._oidc, needs_auth=False)
        add("POST", r"/oidc/v1/token", self._oauth_token, needs_auth=False)
        add("GET", r"/api/2\.0/preview/scim/v2/Me", self._me)
        add("POST", r"/api/2\.2/jobs/runs/submit", self._submit)
        add("GET", r"/api/2\.2/jobs/runs/get", self._get_run)
        add("POST", r"/api/2\.2/jobs/runs/cancel", self._cancel_run)
        add("POST", r"/api/2\.0/serving-endpoints", self._create_endpoint)
        add("GET", r"/api/2\.0/serving-endpoints/(?P<name>[^/]+)", self._get_endpoint)
        add("DELETE", r"/api/2\.0/serving-endpoints/(?P<name>[^/]+)", self._delete_endpoint)
        add("PUT", r"/api/2\.0/serving-endpoints/(?P<name>[^/]+)/config", self._update_config)
        add("POST", r"/serving-endpoints/(?P<name>[^/]+)/invocations", self._invoke)
        add(
            "POST",
            r"/serving-endpoints/(?P<name>[^/]+)/served-models/(?P<served>[^/]+)/invocations",
            self._invoke,
        )

    # ---------------------------------------------------------------- auth
    def _oidc(self, request: Request) -> Reply:
        return Reply(
            payload={
                "authorization_endpoint": f"{self.host}/oidc/v1/authorize",
                "token_endpoint": f"{self.host}/oidc/v1/token",
            }
        )

    def _oauth_token(self, request: Request) -> Reply:
        expected = f"{self.client_id}:{self.client_secret}".encode()
        basic = request.headers.get("authorization", "").removeprefix("Basic ")
        form = dict(urllib.parse.parse_qsl(request.raw.decode()))
        if self.client_id is None or base64.b64decode(basic or "=") != expected:
            return Reply(401, {"error": "invalid_client", "error_description": "bad client"})
        if form.get("grant_type") != "client_credentials" or form.get("scope") != "all-apis":
            return Reply(400, {"error": "invalid_request", "error_description": "bad grant"})
        token = f"oauth-{secrets.token_hex(16)}"
        with self._lock:
            self.issued_tokens.add(token)
        return Reply(payload={"access_token": token, "token_type": "Bearer", "expires_in": 3600})

    def _me(self, request: Request) -> Reply:
        return Reply(payload={"id": "1", "userName": self.user, "active": True})

    # ---------------------------------------------------------------- jobs
    def _submit(self, request: Request) -> Reply:
        body = request.json()
        validate_body(JobsAPI.submit, body)
        run = self.jobs.submit(body)
        return Reply(payload={"run_id": run.run_id})

    def _get_run(self, request: Request) -> Reply:
        run = self.jobs.get(int(request.query["run_id"]))
        return Reply(payload=check_response(Run, run_json(run, self.host)))

    def _cancel_run(self, request: Request) -> Reply:
        body = request.json()
        validate_body(JobsAPI.cancel_run, body)
        self.jobs.cancel(int(body["run_id"]))
        return Reply(payload={})

    # ---------------------------------------------------------------- serving
    def _create_endpoint(self, request: Request) -> Reply:
        body = request.json()
        validate_body(ServingEndpointsAPI.create, body)
        with self._lock:
            try:
                return Reply(payload=self.serving.create(body))
            except FileExistsError:
                return error(400, "RESOURCE_ALREADY_EXISTS", f"endpoint {body['name']} exists")

    def _get_endpoint(self, request: Request) -> Reply:
        with self._lock:
            return Reply(payload=self.serving.get(request.match["name"]))

    def _delete_endpoint(self, request: Request) -> Reply:
        with self._lock:
            self.serving.delete(request.match["name"])
        return Reply(payload={})

    def _update_config(self, request: Request) -> Reply:
        body = request.json()
        validate_body(ServingEndpointsAPI.update_config, body, path_params=("name",))
        with self._lock:
            try:
                return Reply(payload=self.serving.update_config(request.match["name"], body))
            except BlockingIOError:
                return error(409, "RESOURCE_CONFLICT", "an update is already in progress")

    def _invoke(self, request: Request) -> Reply:
        body = request.json()
        validate_body(ServingEndpointsAPI.query, body, path_params=("name",))
        name = request.match["name"]
        served = request.match.groupdict().get("served")
        with self._lock:
            entity = self.serving.pick_entity(name, served)
            self.serving.invocations.append((name, entity["name"], entity["entity_version"]))
        return Reply(
            payload=self.serving.answer(entity, body), headers={"served-model-name": entity["name"]}
        )
