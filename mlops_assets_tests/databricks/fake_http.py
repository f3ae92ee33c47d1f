"""The HTTP plumbing of the fake workspace: routes, bearer auth hook, fault injection.

A :class:`LoopbackServer` listens on a free port of 127.0.0.1 (threaded, HTTP/1.1 keep-alive as
the SDK's ``requests`` session expects), dispatches to regex routes, turns handler exceptions into
Databricks-shaped errors (``{"error_code": ..., "message": ...}``) and records every request.
"""

import json
import re
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from mlops_assets_tests.databricks.fake_validation import InvalidRequestError

Handler = Callable[["Request"], "Reply"]
_CODES = {
    404: "RESOURCE_DOES_NOT_EXIST",
    429: "REQUEST_LIMIT_EXCEEDED",
    503: "TEMPORARILY_UNAVAILABLE",
    500: "INTERNAL_ERROR",
}


class HttpError(Exception):
    """Raised by a handler: answered as ``status`` with a Databricks error body."""

    def __init__(self, status: int, error_code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error_code, self.message = status, error_code, message


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


class LoopbackServer:
    """Routes, faults and the request log; subclasses register routes and decide auth."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status)
        self._faults: list[Fault] = []
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._routes: list[tuple[str, re.Pattern[str], Handler, bool]] = []

    def add_route(self, method: str, pattern: str, fn: Handler, needs_auth: bool = True) -> None:
        self._routes.append((method, re.compile(pattern), fn, needs_auth))

    def authorized(self, header: str) -> bool:
        """Whether an ``Authorization`` header value is accepted (subclasses decide)."""
        return False

    def on_stop(self) -> None:
        """Release what the subclass started (called by :meth:`stop`)."""

    # ---------------------------------------------------------------- lifecycle
    @property
    def host(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> Self:
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
        self.on_stop()
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
        with self._lock:
            self._faults.append(
                Fault(
                    method,
                    re.compile(path),
                    status,
                    times,
                    retry_after,
                    error_code or _CODES.get(status, "BAD_REQUEST"),
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
            if needs_auth and not self.authorized(headers.get("authorization", "")):
                return error(401, "UNAUTHENTICATED", "invalid or missing access token")
            try:
                return fn(Request(method, path, query, headers, raw, match))
            except InvalidRequestError as exc:
                return error(400, "INVALID_PARAMETER_VALUE", str(exc))
            except KeyError as exc:
                return error(404, "RESOURCE_DOES_NOT_EXIST", f"{exc.args[0]} does not exist")
            except HttpError as exc:
                return error(exc.status, exc.error_code, exc.message)
        return error(404, "ENDPOINT_NOT_FOUND", f"no API {method} {path} in the fake")
