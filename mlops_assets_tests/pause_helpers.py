"""Real processes stopped at a named pause point, then killed (SIGKILL) or released.

The code under test calls :func:`mlops_assets.storage.publish.pause_point`; a process started here
with ``MLOPS_TEST_PAUSE_AT=<point>`` writes ``<point>.paused`` when it gets there and waits for
``<point>.go``. Every wait polls with a deadline and fails with what the process printed.
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from mlops_assets.config.loader import project_root
from mlops_assets.storage.publish import PAUSE_AT_ENV, PAUSE_DIR_ENV

REPO_ROOT = project_root()


def wait_for(what: str, condition: Callable[[], bool], seconds: float) -> None:
    """Poll ``condition`` every 50 ms until it holds, or fail saying what never happened."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {seconds:.0f} s")
        time.sleep(0.05)


class PausedProcess:
    """``python -c <code> <args>`` stopped at pause point ``point`` (or not, when None)."""

    def __init__(
        self,
        code: str,
        args: Sequence[str],
        *,
        point: str | None,
        pause_dir: Path,
        env: Mapping[str, str] | None = None,
    ) -> None:
        pause_dir.mkdir(parents=True, exist_ok=True)
        self.point = point
        stem = pause_dir / (point or "none").replace(":", "_").replace("/", "_")
        self.paused_file = stem.with_name(f"{stem.name}.paused")
        self.go_file = stem.with_name(f"{stem.name}.go")
        environ = {**os.environ, **(env or {}), PAUSE_DIR_ENV: str(pause_dir)}
        environ.pop(PAUSE_AT_ENV, None)
        if point is not None:
            environ[PAUSE_AT_ENV] = point
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, *args],
            cwd=REPO_ROOT,
            env=environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait_paused(self, seconds: float = 90) -> int:
        """Wait until the process stands at its pause point; its pid."""

        def there() -> bool:
            if self.proc.poll() is not None:
                out, err = self.proc.communicate()
                raise AssertionError(
                    f"process exited ({self.proc.returncode}) before pause point {self.point}:\n"
                    f"{out[-2000:]}\n{err[-4000:]}"
                )
            return self.paused_file.exists()  # renamed into place whole: the pid is there

        wait_for(f"pause point {self.point}", there, seconds)
        return int(self.paused_file.read_text(encoding="utf-8"))

    def kill(self) -> None:
        """SIGKILL the process and reap it (a reaped process is gone, not a zombie)."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def release(self) -> None:
        self.go_file.write_text("go", encoding="utf-8")

    def finish(self, seconds: float = 90) -> tuple[int, str, str]:
        """Wait for the process to exit; its return code, stdout and stderr."""
        try:
            out, err = self.proc.communicate(timeout=seconds)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"process still running after {seconds:.0f} s") from None
        return self.proc.returncode, out, err

    def stop(self) -> None:
        """Make sure the process is gone (test teardown)."""
        if self.proc.poll() is None:
            self.kill()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
