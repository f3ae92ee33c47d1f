"""A real HTTP receiver on 127.0.0.1 for alert tests: records requests, answers as scripted.

Each request takes the next scripted :class:`Reply` (status, delay before answering, headers);
once the script is used up it answers ``status`` at once.
"""

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Reply:
    """One scripted answer."""

    status: int = 200
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Receiver:
    """What the server received, and how it answers."""

    status: int = 200
    body: dict[str, object] = field(default_factory=lambda: {"ok": True, "ts": "1.0"})
    script: list[Reply] = field(default_factory=list)
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    received_at: list[float] = field(default_factory=list)
    port: int = 0

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def next_reply(self) -> Reply:
        return self.script.pop(0) if self.script else Reply(status=self.status)


@contextmanager
def serve() -> Iterator[Receiver]:
    """Run a :class:`Receiver` on a free port of 127.0.0.1 for the duration of the block."""
    state = Receiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            with lock:
                state.received_at.append(time.monotonic())
                state.requests.append((self.path, dict(self.headers), self.rfile.read(length)))
                reply = state.next_reply()
            time.sleep(reply.delay_s)
            payload = json.dumps(state.body).encode()
            try:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a timeout test)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True  # a handler still sleeping (a timeout test) is not waited for
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
