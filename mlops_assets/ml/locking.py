"""An inter-process file lock (``flock`` on POSIX, ``msvcrt`` on Windows) with a timeout.

The lock is held by an open file description, so it serialises threads and processes alike and
is released by the OS if the holder dies.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mlops_assets.errors import PromotionError


def lock_path(lock_dir: Path, *key_parts: str) -> Path:
    """A lock file under ``lock_dir`` whose name is derived from the key (e.g. registry + model)."""
    digest = hashlib.sha256("\x00".join(key_parts).encode()).hexdigest()[:24]
    return lock_dir / f"mlops-{digest}.lock"


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_UN)


@contextmanager
def file_lock(path: Path, timeout_s: float, poll_s: float = 0.05) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if needed) for the ``with`` block.

    Raises:
        PromotionError: the lock was not acquired within ``timeout_s``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout_s
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                raise PromotionError(
                    f"another promotion held the registry lock for more than {timeout_s:g} s",
                    context={"lock": str(path)},
                    fix="retry later; if no promotion is running, check the process holding "
                    "the lock file",
                )
            time.sleep(poll_s)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)
