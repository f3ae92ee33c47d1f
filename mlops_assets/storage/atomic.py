"""Files replaced whole: a reader sees the previous content or the new one, never a torn write.

Every small file the project keeps beside its tables (reference profiles, partition leases, the
serving state with a server's pid, asset state JSON, the Evidently report, landing files written
by the simulator, the local Dagster instance's ``dagster.yaml``) is written the same way: into a
hidden temporary file in the same folder, then renamed over the target (``os.replace`` is atomic
on one filesystem). The temporary name is unique per call, so two writers (processes or threads)
never share one; a failed write removes it and leaves the previous file as it was. Hidden names
(a leading dot) keep half-written landing files away from the landing sensor, which skips them.
"""

import os
import uuid
from collections.abc import Callable
from pathlib import Path

__all__ = ["replace_file", "temporary_sibling", "write_text_atomic"]


def temporary_sibling(path: Path) -> Path:
    """A hidden, unique name next to ``path`` (same folder, so the rename stays atomic)."""
    return path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:12]}.tmp")


def replace_file(path: Path, write: Callable[[Path], object], *, durable: bool = False) -> Path:
    """Write ``path`` whole: ``write`` fills a temporary sibling, which then replaces ``path``.

    ``durable`` also flushes the new file to disk before the rename and the folder after it, so
    the new content survives a power loss (for records that are the only trace of something
    running, such as a model server's pid). The folder is created when missing. Whatever
    ``write`` raises propagates, with the temporary file removed and ``path`` unchanged.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_sibling(path)
    try:
        write(tmp)
        if durable:
            _fsync(tmp, os.O_RDONLY)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        _fsync(path.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    return path


def write_text_atomic(path: Path, text: str, *, durable: bool = False) -> Path:
    """Replace ``path`` with ``text`` (UTF-8) whole; see :func:`replace_file`."""
    return replace_file(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), durable=durable)


def _fsync(path: Path, flags: int) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
