"""Small helpers for the server processes this package starts: ports, logs, process groups."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def log_tail(path: Path, lines: int = 40) -> str:
    """The last lines of a log file (empty if it cannot be read)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def http_status(url: str, timeout_s: float) -> int:
    """The HTTP status of a GET (0 when nothing answers)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError):
        return 0


_RESET_AND_EXEC = (
    "import os, signal, sys\n"
    "for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGTERM):\n"
    "    signal.signal(sig, signal.SIG_DFL)\n"
    "signal.pthread_sigmask(signal.SIG_SETMASK, set())\n"
    "os.execvp(sys.argv[1], sys.argv[1:])\n"
)


def with_default_signals(command: Sequence[str]) -> list[str]:
    """``command`` started with SIGINT, SIGQUIT, SIGHUP and SIGTERM at their defaults, none blocked.

    A child inherits ignored signals across ``exec``: started from a background shell, ``nohup``
    or a CI agent, a server would ignore the SIGTERM that stops it and be killed only after the
    timeout. A small exec wrapper resets them (``preexec_fn`` is unsafe in a process with
    threads); it replaces itself with the command, so the started PID is the command's.
    """
    if not command:
        raise ValueError("with_default_signals needs a command to run")
    return [sys.executable, "-c", _RESET_AND_EXEC, *command]


def group_alive(pgid: int) -> bool:
    """Whether a process of group ``pgid`` is still running.

    Zombies do not count: a member killed with its parent is reparented to PID 1, and a
    container's PID 1 may never reap it, so the group would look alive forever.
    """
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a process of the group exists but is not ours to signal
        return True
    proc = Path("/proc")
    if not proc.is_dir():  # no procfs: a signal-able group is alive
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        state, _ppid, group = stat[stat.rfind(")") + 2 :].split()[:3]  # after "(command)"
        if int(group) == pgid and state != "Z":
            return True
    return False


def terminate_group(
    pid: int, process: subprocess.Popen[bytes] | None, timeout_s: float = 20.0
) -> None:
    """SIGTERM the process group led by ``pid``; SIGKILL it if it outlives ``timeout_s``.

    ``process`` (when this process started it) is reaped so the group can empty.
    """
    if sys.platform == "win32":  # no process groups: terminate the direct child
        if process is not None and process.poll() is None:
            process.terminate()
            process.wait(timeout=timeout_s)
        return
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None:
            process.poll()
        if not group_alive(pid):
            return
        time.sleep(0.1)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    if process is not None:
        process.wait(timeout=5)
