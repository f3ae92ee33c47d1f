"""Start a command as a terminal or a cluster would: default signal dispositions, nothing blocked.

A process inherits ignored signals across ``exec`` (and its blocked mask). A test runner started
from a background shell, ``nohup`` or a CI agent can ignore SIGINT, SIGQUIT, SIGHUP or SIGTERM,
and GNU make keeps such a signal ignored (it never forwards it). A test that stops a command with
a signal starts it through :func:`with_default_signals` so the stop exercises the command, not
whatever the runner inherited. The reset happens in a small exec wrapper, not in ``preexec_fn``,
which is unsafe in a process with threads (pytest-xdist workers and the fake servers have them).
"""

import sys
from collections.abc import Sequence

_RESET_AND_EXEC = (
    "import os, signal, sys\n"
    "for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGTERM):\n"
    "    signal.signal(sig, signal.SIG_DFL)\n"
    "signal.pthread_sigmask(signal.SIG_SETMASK, set())\n"
    "os.execvp(sys.argv[1], sys.argv[1:])\n"
)


def with_default_signals(command: Sequence[str]) -> list[str]:
    """``command`` run with SIGINT, SIGQUIT, SIGHUP and SIGTERM at their defaults, none blocked.

    The wrapper replaces itself with the command (same PID), so signalling the started
    process signals the command.
    """
    if not command:
        raise ValueError("with_default_signals needs a command to run")
    return [sys.executable, "-c", _RESET_AND_EXEC, *command]
