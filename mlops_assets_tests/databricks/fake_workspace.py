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
import json
import re
import secrets
import shutil
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from databricks.sdk.service.jobs import JobsAPI, Run
from databricks.sdk.service.serving import ServingEndpointsAPI

from mlops_assets_tests.databricks.fake_jobs import JobRunner, VolumeMapper, run_json
from mlops_assets_tests.databricks.fake_serving import ServingEndpoints, ServingFaultError
from mlops_assets_tests.databricks.fake_validation import (
    InvalidRequestError,
    check_response,
    validate_body,
)

Handler = Callable[["Request"], "Reply"]


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw: bytes
    match: re.Match[str]

    def json(self) -> Any:
        try:
            return json.loads(self.raw or b"{}")
        except json.JSONDecodeError as exc:
            raise InvalidRequestError(f"malformed JSON: {exc}") from exc


@dataclass
class Reply:
    status: int = 200
    payload: Any = None
    raw: bytes | None = None
    headers: dict[str, str] | None = None


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    status: int
    remaining: int | None  # None: forever
    retry_after: float | None
    error_code: str


def error(status: int, code: str, message: str) -> Reply:
    return Reply(status, {"error_code": code, "message": message})


class FakeWorkspace:
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
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status)
        self.issued_tokens: set[str] = set()
        self._faults: list[Fault] = []
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._routes: list[tuple[str, re.Pattern[str], Handler, bool]] = []
        self._register_routes()

    # ---------------------------------------------------------------- lifecycle
    @property
    def host(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> "FakeWorkspace":
        workspace = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                workspace._dispatch(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.jobs.stop_all(lambda p: p.wait(timeout=20))
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # ---------------------------------------------------------------- faults
    def inject(
        self,
        method: str,
        path: str,
        status: int,
        *,
        times: int | None = 1,
        retry_after: float | None = None,
        error_code: str | None = None,
    ) -> None:
        """Answer the next ``times`` (None: every) matching request with ``status``."""
        codes = {
            404: "RESOURCE_DOES_NOT_EXIST",
            429: "REQUEST_LIMIT_EXCEEDED",
            503: "TEMPORARILY_UNAVAILABLE",
            500: "INTERNAL_ERROR",
        }
        with self._lock:
            self._faults.append(
                Fault(
                    method,
                    re.compile(path),
                    status,
                    times,
                    retry_after,
                    error_code or codes.get(status, "BAD_REQUEST"),
                )
            )

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _fault_for(self, method: str, path: str) -> Reply | None:
        with self._lock:
            for fault in self._faults:
                if fault.method == method and fault.path.search(path) and fault.remaining != 0:
                    if fault.remaining is not None:
                        fault.remaining -= 1
                    headers = (
                        {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after else None
                    )
                    reply = error(fault.status, fault.error_code, f"injected {fault.status}")
                    reply.headers = headers
                    return reply
        return None

    # ---------------------------------------------------------------- HTTP plumbing
    def _dispatch(self, handler: BaseHTTPRequestHandler) -> None:
        parsed = urllib.parse.urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        query = dict(urllib.parse.parse_qsl(parsed.query))
        headers = {k.lower(): v for k, v in handler.headers.items()}
        method, path = handler.command, urllib.parse.unquote(parsed.path)
        reply = self._fault_for(method, path) or self._route(method, path, query, headers, raw)
        with self._lock:
            self.requests.append((method, path, reply.status))
        body = (
            reply.raw
            if reply.raw is not None
            else (b"" if reply.payload is None else json.dumps(reply.payload).encode())
        )
        handler.send_response(reply.status)
        content_type = "application/octet-stream" if reply.raw is not None else "application/json"
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        for key, value in (reply.headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        if method != "HEAD":
            handler.wfile.write(body)

    def _route(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], raw: bytes
    ) -> Reply:
        for verb, pattern, fn, needs_auth in self._routes:
            match = pattern.fullmatch(path)
            if verb != method or match is None:
                continue
            if needs_auth and not self._authorized(headers.get("authorization", "")):
                return error(401, "UNAUTHENTICATED", "invalid or missing access token")
            try:
                return fn(Request(method, path, query, headers, raw, match))
            except InvalidRequestError as exc:
                return error(400, "INVALID_PARAMETER_VALUE", str(exc))
            except KeyError as exc:
                return error(404, "RESOURCE_DOES_NOT_EXIST", f"{exc.args[0]} does not exist")
            except ServingFaultError as exc:
                return error(exc.status, exc.error_code, exc.message)
        return error(404, "ENDPOINT_NOT_FOUND", f"no API {method} {path} in the fake")

    def _authorized(self, header: str) -> bool:
        if not header.startswith("Bearer "):
            return False
        presented = header.removeprefix("Bearer ")
        return (
            self.token is not None and presented == self.token
        ) or presented in self.issued_tokens

    def _register_routes(self) -> None:
        def add(method: str, pattern: str, fn: Handler, needs_auth: bool = True) -> None:
            self._routes.append((method, re.compile(pattern), fn, needs_auth))

        add("GET", r"/oidc/\.well-known/oauth-authorization-server", self._oidc, needs_auth=False)
        add("POST", r"/oidc/v1/token", self._oauth_token, needs_auth=False)
        add("GET", r"/api/2\.0/preview/scim/v2/Me", self._me)
        add("POST", r"/api/2\.2/jobs/runs/submit", self._submit)
        add("GET", r"/api/2\.2/jobs/runs/get", self._get_run)
        add("POST", r"/api/2\.2/jobs/runs/cancel", self._cancel_run)
        for verb, fn in (
            ("PUT", self._put_file),
            ("GET", self._get_file),
            ("HEAD", self._head_file),
            ("DELETE", self._delete_file),
        ):
            add(verb, r"/api/2\.0/fs/files(?P<path>/Volumes/.+)", fn)
        for verb, fn in (
            ("PUT", self._mkdir),
            ("GET", self._list_dir),
            ("HEAD", self._head_dir),
            ("DELETE", self._rmdir),
        ):
            add(verb, r"/api/2\.0/fs/directories(?P<path>/Volumes/.+?)/?", fn)
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

    # ---------------------------------------------------------------- files (Volumes)
    def _local(self, request: Request) -> Path:
        return self.volumes.local(request.match["path"])

    def _put_file(self, request: Request) -> Reply:
        path = self._local(request)
        if path.exists() and request.query.get("overwrite", "true").lower() == "false":
            return error(409, "ALREADY_EXISTS", f"{request.match['path']} exists")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        tmp.write_bytes(request.raw)
        tmp.replace(path)
        return Reply(204)

    def _get_file(self, request: Request) -> Reply:
        path = self._local(request)
        if not path.is_file():
            return error(404, "NOT_FOUND", f"file {request.match['path']} does not exist")
        return Reply(raw=path.read_bytes())

    def _head_file(self, request: Request) -> Reply:
        return Reply(200 if self._local(request).is_file() else 404)

    def _delete_file(self, request: Request) -> Reply:
        path = self._local(request)
        if not path.is_file():
            return error(404, "NOT_FOUND", f"file {request.match['path']} does not exist")
        path.unlink()
        return Reply(204)

    def _mkdir(self, request: Request) -> Reply:
        self._local(request).mkdir(parents=True, exist_ok=True)
        return Reply(204)

    def _list_dir(self, request: Request) -> Reply:
        path = self._local(request)
        if not path.is_dir():
            return error(404, "NOT_FOUND", f"directory {request.match['path']} does not exist")
        base = request.match["path"].rstrip("/")
        contents = [
            {
                "name": p.name,
                "path": f"{base}/{p.name}",
                "is_directory": p.is_dir(),
                **({} if p.is_dir() else {"file_size": p.stat().st_size}),
            }
            for p in sorted(path.iterdir())
            if not p.name.startswith(".")
        ]
        return Reply(payload={"contents": contents})

    def _head_dir(self, request: Request) -> Reply:
        return Reply(200 if self._local(request).is_dir() else 404)

    def _rmdir(self, request: Request) -> Reply:
        path = self._local(request)
        if not path.is_dir():
            return error(404, "NOT_FOUND", f"directory {request.match['path']} does not exist")
        if any(path.iterdir()):
            return error(400, "DIRECTORY_NOT_EMPTY", f"{request.match['path']} is not empty")
        shutil.rmtree(path)
        return Reply(204)

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
