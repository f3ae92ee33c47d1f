"""A compiled kernel for the two passes of the bucketed Wasserstein distance, built on first use.

:func:`~mlops_assets.monitoring.bucketed.wasserstein_bucketed` passes over every current value
twice: to key and count it, then to sort it out (an explicit value, or a signed term of the
blobs' sum). In NumPy each pass is several whole-array operations over 80 MB arrays (~60 and
~50 ms for a 10M column on the 2-core reference machine); in ``grid_kernel.c`` each is one loop
(~27 and ~18 ms, the refinement's included), and the whole distance takes ~85 ms instead of
~180 ms.

The C file ships with the package and is compiled on the first drift that needs it, by the
machine's C compiler (``$CC``, else ``cc``, ``gcc`` or ``clang``), into a cache directory
(``$MLOPS_NATIVE_CACHE``, else ``$XDG_CACHE_HOME/mlops_assets``, else ``~/.cache/mlops_assets``)
under a name that hashes the source, the flags, the compiler and the CPU, so a shared home
directory never loads a library built for another machine. Compiling takes ~0.2 s, once;
loading it, ~1 ms. Before it is used, the loaded kernel keys and counts a small sample and must
give NumPy's buckets to the bit.

Without a compiler, or with ``MLOPS_NATIVE_KERNELS=0``, :func:`grid_kernel` returns ``None``
and the distance is computed by the NumPy passes: the same buckets, the same explicit values,
the same distance (the signed sum is added in another order: a difference of ~1e-15 relative).
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import logging
import os
import platform
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

SOURCE = Path(__file__).with_name("grid_kernel.c")
NATIVE_ENV = "MLOPS_NATIVE_KERNELS"
"""Set to ``0`` to never build or load the kernel (the NumPy passes then serve)."""
CACHE_ENV = "MLOPS_NATIVE_CACHE"
"""Directory for the compiled kernel (default: ``$XDG_CACHE_HOME/mlops_assets``)."""
BASE_FLAGS = ("-O3", "-shared", "-fPIC", "-ffp-contract=off", "-fno-fast-math", "-fno-math-errno")
"""No ``-ffast-math`` and no contraction into fused multiply-adds: NumPy's rounding, to the bit."""
TUNED_FLAGS = ("-march=native",)
"""Tried first (the keys' loop in AVX: ~20 ms a 10M column against ~37 ms); dropped if refused."""
COMPILE_TIMEOUT_S = 60.0

_LOG = logging.getLogger(__name__)
_LOADING = threading.Lock()
"""One build and load per process, even when several drift workers ask at once."""
_F64 = np.ctypeslib.ndpointer(np.float64, ndim=1, flags="C_CONTIGUOUS")
_F64_OUT = np.ctypeslib.ndpointer(np.float64, ndim=1, flags=("C_CONTIGUOUS", "WRITEABLE"))
_I32 = np.ctypeslib.ndpointer(np.int32, ndim=1, flags="C_CONTIGUOUS")
_I32_OUT = np.ctypeslib.ndpointer(np.int32, ndim=1, flags=("C_CONTIGUOUS", "WRITEABLE"))
_I8 = np.ctypeslib.ndpointer(np.int8, ndim=1, flags="C_CONTIGUOUS")
_I64 = np.ctypeslib.ndpointer(np.int64, ndim=1, flags="C_CONTIGUOUS")
_PTRS = np.ctypeslib.ndpointer(np.uintp, ndim=1, flags="C_CONTIGUOUS")


class GridKernel:
    """The loaded library's passes. Each call hands the GIL back while it runs; a column is
    passed as its chunks in one call (a Parquet column read by Polars is one chunk per row
    group: 81 in the drift benchmark's file)."""

    def __init__(self, library: ctypes.CDLL) -> None:
        self._count = library.mlops_grid_count
        self._count.restype = ctypes.c_int64
        self._count.argtypes = [
            *(_PTRS, _I64, ctypes.c_int64, ctypes.c_double, ctypes.c_double, ctypes.c_double),
            *(ctypes.c_int64, _I32_OUT, _I32_OUT),
        ]
        self._split = library.mlops_grid_split
        self._split.restype = ctypes.c_int64
        self._split.argtypes = [
            *(_PTRS, _I64, ctypes.c_int64, _I32, ctypes.c_double, _I8, _F64_OUT, _F64_OUT)
        ]
        self._refine = library.mlops_grid_refine
        self._refine.restype = ctypes.c_int64
        self._refine.argtypes = [
            *(_F64, ctypes.c_int64, ctypes.c_double, ctypes.c_double, ctypes.c_int64),
            *(ctypes.c_int64, _I32, ctypes.c_int64, _I32_OUT, _I32_OUT),
        ]

    def count(
        self,
        chunks: Sequence[NDArray[np.float64]],
        center: float,
        lo: float,
        scale: float,
        key: NDArray[np.int32],
        counts: NDArray[np.int32],
    ) -> int:
        """Key each value of the chunks on the grid of ``counts.size`` buckets into ``key``
        (-1 for NaN and infinities) and add it to ``counts``; how many were not finite."""
        pointers, lengths = _chunk_table(chunks, key.size)
        k = counts.size
        if k >= 2**31:
            raise ValueError(f"{k} buckets: the kernel's keys are 32-bit")
        return int(self._count(pointers, lengths, lengths.size, center, lo, scale, k, key, counts))

    def split(
        self,
        chunks: Sequence[NDArray[np.float64]],
        key: NDArray[np.int32],
        center: float,
        code: NDArray[np.int8],
        out: NDArray[np.float64],
        sums: NDArray[np.float64],
    ) -> int:
        """The explicit values (those whose key's ``code`` is 0), minus ``center``, into
        ``out`` in their order; the others' ``code * (value - center)`` added into ``sums``
        (the sum, its compensation). ``code`` covers every key (the grid :meth:`count` keyed
        on). Returns how many values went to ``out``."""
        pointers, lengths = _chunk_table(chunks, key.size)
        if out.size < key.size or sums.size != 2:
            raise ValueError("split needs room for every value in out, and two sums")
        return int(self._split(pointers, lengths, lengths.size, key, center, code, out, sums))

    def refine(
        self,
        values: NDArray[np.float64],
        lo: float,
        scale: float,
        fine_buckets: int,
        shift: int,
        rank: NDArray[np.int32],
        cell: NDArray[np.int32],
        counts: NDArray[np.int32],
    ) -> bool:
        """Key each (finite) value on the grid of ``fine_buckets``, ``2**shift`` per coarse
        bucket, into its refinement cell ``rank[fine >> shift] * (2**shift + 1) + fine %
        2**shift - 2**shift``, counted into ``counts``. ``False`` if a value lands in a coarse
        bucket whose rank is 0 (the refinement then declines)."""
        if cell.size != values.size or rank.size << shift != fine_buckets:
            raise ValueError("refine needs a cell per value and a rank per coarse bucket")
        width = (1 << shift) + 1
        args = (values, values.size, lo, scale, fine_buckets, shift, rank, width, cell, counts)
        return int(self._refine(*args)) == 0


def _chunk_table(
    chunks: Sequence[NDArray[np.float64]], total: int
) -> tuple[NDArray[np.uintp], NDArray[np.int64]]:
    """The chunks' addresses and lengths, after checking that the library may read them."""
    for chunk in chunks:
        flags = chunk.flags
        if (
            chunk.dtype != np.float64
            or chunk.ndim != 1
            or not (flags.c_contiguous and flags.aligned)
        ):
            raise ValueError("the kernel reads one-dimensional contiguous aligned float64 chunks")
    lengths = np.array([chunk.size for chunk in chunks], dtype=np.int64)
    if int(lengths.sum()) != total:
        raise ValueError(f"{total} keys for {int(lengths.sum())} values")
    return np.array([chunk.ctypes.data for chunk in chunks], dtype=np.uintp), lengths


def enabled() -> bool:
    """Whether the kernel may be built and loaded (``MLOPS_NATIVE_KERNELS`` is not ``0``)."""
    return os.environ.get(NATIVE_ENV, "1").strip().lower() not in {"0", "false", "no", "off"}


@functools.cache
def grid_kernel() -> GridKernel | None:
    """The compiled kernel, built and cached on first use; ``None`` where it cannot be (no
    compiler, a failed build or self-check, or ``MLOPS_NATIVE_KERNELS=0``): the caller then
    runs the NumPy passes. Once per process."""
    if not enabled():
        return None
    with _LOADING:
        try:
            try:
                return _load(build())
            except (AttributeError, OSError, RuntimeError, ValueError):
                # A cached library that does not load or check (truncated, corrupt): build again
                Path(build()).unlink(missing_ok=True)
                return _load(build())
        # AttributeError: a library without one of the kernel's symbols
        except (AttributeError, OSError, RuntimeError, subprocess.SubprocessError, ValueError) as e:
            _LOG.warning("The drift's compiled kernel is not used (NumPy serves): %s", e)
            return None


def _load(path: Path) -> GridKernel:
    """The library at ``path``, loaded and checked against NumPy."""
    kernel = GridKernel(ctypes.CDLL(str(path)))
    _self_check(kernel)
    return kernel


def cache_dir() -> Path:
    """Where the compiled kernel is kept (see the module's docstring)."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mlops_assets"


def compiler() -> str | None:
    """The C compiler: ``$CC`` if set, else the first of ``cc``, ``gcc`` and ``clang``."""
    wanted = os.environ.get("CC")
    if wanted:
        return shutil.which(wanted) or None
    return next((found for c in ("cc", "gcc", "clang") if (found := shutil.which(c))), None)


def build(directory: Path | None = None) -> Path:
    """The compiled kernel's path, compiling it first if this machine has not yet.

    Raises ``RuntimeError`` without a compiler or when every set of flags is refused. The build
    writes a temporary file and renames it into place: processes that build at once each load
    a whole library.
    """
    cc = compiler()
    if cc is None:
        raise RuntimeError("no C compiler (set CC, or install cc, gcc or clang)")
    directory = directory or cache_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    source = SOURCE.read_bytes()
    errors: list[str] = []
    for flags in ((*BASE_FLAGS, *TUNED_FLAGS), BASE_FLAGS):
        target = directory / f"grid_kernel-{_fingerprint(source, cc, flags)}.so"
        if target.exists():
            return target
        handle, scratch = tempfile.mkstemp(suffix=".so", dir=directory)
        os.close(handle)
        try:
            done = subprocess.run(
                [cc, *flags, "-o", scratch, str(SOURCE)],
                capture_output=True,
                text=True,
                timeout=COMPILE_TIMEOUT_S,
                check=False,
            )
            if done.returncode == 0:
                Path(scratch).replace(target)
                _LOG.info("Compiled the drift's kernel: %s", target)
                return target
            errors.append(f"{cc} {' '.join(flags)}: {done.stderr.strip()[-500:]}")
        finally:
            Path(scratch).unlink(missing_ok=True)
    raise RuntimeError("the C compiler refused the kernel: " + " | ".join(errors))


def _fingerprint(source: bytes, cc: str, flags: tuple[str, ...]) -> str:
    """A hash of what the library depends on: source, flags, compiler, machine and CPU."""
    digest = hashlib.sha256(source)
    version = subprocess.run(
        [cc, "--version"], capture_output=True, text=True, timeout=COMPILE_TIMEOUT_S, check=False
    ).stdout
    for part in (cc, version, " ".join(flags), platform.machine(), _cpu_identity()):
        digest.update(b"\0" + part.encode())
    return digest.hexdigest()[:20]


def _cpu_identity() -> str:
    """The CPU's model and feature flags (Linux), else what ``platform`` knows of it."""
    try:
        info = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return platform.processor()
    lines = info.splitlines()
    wanted = ("model name", "flags", "Features", "CPU part")
    return "\n".join(next((x for x in lines if x.startswith(w)), "") for w in wanted)


def _self_check(kernel: GridKernel) -> None:
    """The kernel's buckets, counts and split of a small sample must be NumPy's."""
    rng = np.random.default_rng(0)
    values = np.concatenate((rng.normal(0.0, 3.0, 4_093), [np.nan, np.inf, -np.inf, 12.0]))
    center, lo, scale, k = 0.25, -4.0, 100.0, 800
    key = np.empty(values.size, dtype=np.int32)
    counts = np.zeros(k, dtype=np.int32)
    bad = kernel.count([values[:1_000], values[1_000:]], center, lo, scale, key, counts)
    finite = np.isfinite(values)
    with np.errstate(invalid="ignore"):
        position = np.clip(((values - center) - lo) * scale, 0, k - 1)
    expected = np.where(finite, position, -1).astype(np.int32)
    code = rng.integers(-1, 2, size=k).astype(np.int8)
    out, sums = np.empty(values.size), np.zeros(2)
    taken = kernel.split([values[:2_500], values[2_500:]], key, center, code, out, sums)
    codes = np.where(finite, code.take(np.maximum(expected, 0)), 2)
    centred = values - center
    explicit = centred[codes == 0]
    signed = float(np.sum(codes[(codes != 0) & finite] * centred[(codes != 0) & finite]))
    if not (
        bad == 3
        and np.array_equal(key, expected)
        and np.array_equal(counts, np.bincount(expected[finite], minlength=k))
        and np.array_equal(out[:taken], explicit)
        and abs(sums[0] + sums[1] - signed) <= 1e-9 * max(1.0, abs(signed))
    ):
        raise RuntimeError("the compiled kernel's self-check differs from NumPy")
