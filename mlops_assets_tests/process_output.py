"""Read a child process's output line by line with a deadline.

``select()`` on ``proc.stdout`` followed by ``readline()`` can hang: one ``readline`` pulls every
line that has arrived into Python's buffer, and ``select`` then reports the descriptor idle while
lines wait in that buffer. A reader thread moves each line into a queue instead.
"""

import queue
import subprocess
import threading
import time

import pytest


class OutputLines:
    """Lines of ``proc.stdout`` (text mode), read on a daemon thread as they arrive."""

    def __init__(self, proc: "subprocess.Popen[str]") -> None:
        assert proc.stdout is not None, "start the process with stdout=subprocess.PIPE"
        self._proc = proc
        self._lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        stream = proc.stdout

        def pump() -> None:
            for line in stream:
                self._lines.put(line)
            self._lines.put(None)  # end of output

        threading.Thread(target=pump, daemon=True).start()

    def line(self, seconds: float) -> str:
        """The next line (without its newline); fails at the deadline or at end of output."""
        try:
            got = self._lines.get(timeout=seconds)
        except queue.Empty:
            pytest.fail(f"no output within {seconds:.0f}s; so far:\n{''.join(self.seen)}")
        if got is None:
            pytest.fail(f"the process exited ({self._proc.poll()}):\n{''.join(self.seen)}")
        self.seen.append(got)
        return got.rstrip("\n")

    def until(self, marker: str, seconds: float) -> str:
        """Everything up to and including the first line containing ``marker``."""
        deadline = time.monotonic() + seconds
        start = len(self.seen)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"no {marker!r} within {seconds:.0f}s:\n{''.join(self.seen)}")
            if marker in self.line(left):
                return "".join(self.seen[start:])

    def rest(self, seconds: float) -> str:
        """Everything after what was read, up to the end of output (the process has exited)."""
        deadline = time.monotonic() + seconds
        start = len(self.seen)
        while True:
            try:
                got = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"output did not end within {seconds:.0f}s:\n{''.join(self.seen)}")
            if got is None:
                return "".join(self.seen[start:])
            self.seen.append(got)
