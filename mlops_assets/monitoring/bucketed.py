"""Exact drift statistics of a large current column without sorting all of it.

Sorting 10M floats costs ~0.7 s of CPU on the 2-core reference machine, most of a column's
drift cost. Two exact routes avoid the full sort:

- :func:`integer_counts`: an integer column whose values span a small range is counted (one
  ``bincount`` per chunk). Its Wasserstein distance follows from the distinct values
  (:func:`wasserstein_atoms`); for the other statistics :func:`counting_sorted` expands the
  counts into the same sorted array a sort gives, so they give the same value to the bit.
- :func:`wasserstein_bucketed`: the first Wasserstein distance from per-bucket counts and one
  signed sum. The current values are spread over a fine uniform grid of buckets (a monotone
  key: a larger value never lands in a smaller bucket) and counted. Only the buckets that hold
  a reference value, and the one bucket per reference level where the current CDF crosses it,
  are sorted; between those explicit values the other buckets form *blobs* whose current CDF
  stays on one side of the reference CDF, so their part of the integral of |F_ref - F_cur|
  follows from their counts and the sum of their values, each taken with the sign of its side
  (summation by parts). The bucket of each value is computed once and read twice: to count
  the buckets, then to look up the bucket's one-byte sign for the signed sum. On the default
  grid of 2**20 buckets the explicit buckets hold ~9% of 10M normal values and ~18% of
  lognormal ones; instead of sorting them all, each explicit bucket is split into
  :data:`REFINE` cells of a finer grid (the same position times a power of two, so still
  monotone) and the method runs once more on those cells: only the values in the finer
  explicit cells are sorted (~0.8% and ~1.4%).

The two passes of :func:`wasserstein_bucketed` over the current values (key and count; look up
each value's code, keep the explicit ones and add the signed sum), and the same two passes of
its refinement, run in a compiled kernel where the machine can build one (:mod:`.native`: one
loop per pass, ~85 ms a 10M column against ~180 ms for the NumPy passes on the reference
machine); NumPy runs them otherwise, with the same buckets and explicit values.

Both return ``None`` when they do not apply (a wide integer range; a reference crowded into few
buckets, such as heavy tails or many ties), and the caller sorts as before.
"""

import math
import threading
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from mlops_assets.monitoring.native import GridKernel, grid_kernel
from mlops_assets.monitoring.stattests import Floats

_THREAD = threading.local()
STRIP = 1 << 16
"""Values per strip of the grid pass (512 KiB of float64: stays in the core's L2 cache).

Twice the values per call of 2**15, so half the calls (each hands the GIL back and forth
between the drift's workers). The drift benchmark's 10M x 50 from Parquet: 3.18 -> 3.09 s
(medians of 8 alternating runs, 7 faster); 2**17 and 2**18 were no faster."""
COUNTING_MAX_SPAN = 1 << 24
"""Widest integer range sorted by counting (a 128 MiB count array at most)."""
BUCKETED_MIN_ROWS = 200_000
"""Below this many current values a plain sort is as fast: the bucketed route is not tried."""
MAX_BUCKETS = 1 << 20
"""Most grid buckets (an 8 MiB count array): ~10 current values per bucket at 10M rows.

Counting into a smaller array is faster (it stays in the shared cache); the fuller explicit
buckets this leaves are refined (:data:`REFINE`), not sorted. 2**21 buckets took ~5% more
CPU over the 27 float columns of the drift benchmark (eight alternating pairs)."""
VALUES_PER_BUCKET = 10
"""Current values per bucket the grid is sized for (at least)."""
BUCKETS_PER_REFERENCE_VALUE = 32
"""Grid buckets per reference value (at least): a reference value rarely shares a bucket."""
REFINE = 16
"""Finer cells per dirty bucket (a power of two): ~1-2 current values per cell at 10M rows."""
REFINE_MIN_VALUES = 1 << 15
"""Fewest values in the dirty buckets for which splitting them is cheaper than sorting them."""
MAX_CROWDING = 0.25
"""Largest share of reference values that may share a bucket with another reference value.

A crowded reference (heavy tails squeezed into a few buckets of a uniform grid, or many ties)
would make most of the current values explicit: sorting them all is then just as cheap."""


def integer_counts(
    values: NDArray[np.integer] | Sequence[NDArray[np.integer]],
) -> tuple[Floats, NDArray[np.int64]] | None:
    """The distinct integers (ascending, as float64) and their counts, by counting.

    ``values`` is one array or its chunks (read without a copy: each chunk is counted on its
    own). ``None`` when there is no value, when the values span more than
    ``max(2 * size, 65536)`` (or :data:`COUNTING_MAX_SPAN`) integers, where counting would cost
    more than sorting, or when they reach 2**53 in magnitude (a float64 no longer holds every
    integer there).
    """
    parts = [p for p in ([values] if isinstance(values, np.ndarray) else values) if p.size]
    size = sum(int(p.size) for p in parts)
    if size == 0:
        return None
    lo, hi = min(int(p.min()) for p in parts), max(int(p.max()) for p in parts)
    span = hi - lo
    if span >= min(max(2 * size, 1 << 16), COUNTING_MAX_SPAN) or max(-lo, hi) >= 2**53:
        return None
    counts = np.zeros(span + 1, dtype=np.int64)
    for part in parts:
        counts += np.bincount(part.astype(np.int64, copy=False) - lo, minlength=span + 1)
    present = np.flatnonzero(counts)
    return (present + lo).astype(np.float64), counts[present]


def counting_sorted(
    values: NDArray[np.integer] | Sequence[NDArray[np.integer]],
) -> Floats | None:
    """The integers sorted by counting, as float64 (as ``np.sort(values.astype(float))``).

    ``None`` where :func:`integer_counts` declines.
    """
    atoms = integer_counts(values)
    return None if atoms is None else np.repeat(*atoms)


def wasserstein_atoms(values: Floats, counts: NDArray[np.int64], ref: Floats) -> float:
    """First Wasserstein distance of a current sample given as distinct values and counts.

    scipy's definition (the integral of |F_ref - F_cur| between consecutive distinct values of
    both samples) in O(distinct values + reference) work; ``values`` ascending, ``ref`` sorted.
    """
    points = np.union1d(values, ref)
    cur_le = np.concatenate(([0], np.cumsum(counts)))[np.searchsorted(values, points, "right")]
    ref_le = np.searchsorted(ref, points, side="right")
    gaps = np.diff(points)
    diff = np.abs(ref_le[:-1] / ref.size - cur_le[:-1] / cur_le[-1])
    return float(np.sum(diff * gaps))


def _scratch(name: str, size: int, dtype: type[np.generic]) -> NDArray[Any]:
    """A reusable array of this thread (``size`` values, contents undefined).

    A fresh 80 MB array costs up to ~0.2 s of page faults on first touch, more than the
    arithmetic done in it; :func:`~mlops_assets.monitoring.statistics.compute_drift` runs the
    columns on short-lived worker threads, so the arrays go with them.
    """
    arrays: dict[str, NDArray[Any]] = _THREAD.__dict__.setdefault("arrays", {})
    array = arrays.get(name)
    if array is None or array.size < size or array.dtype != dtype:
        array = arrays[name] = np.empty(size, dtype=dtype)
    return array[:size]


def _bucket(
    moved: Floats, lo: float, scale: float, buckets: int, *, out: NDArray[np.intp], scratch: Floats
) -> None:
    """The grid bucket of each (centred) value into ``out``: ``(value - lo) * scale``, clipped
    to the grid and truncated. Monotone in the value (each step rounds monotonely); every grid
    of one distance, the refined one too, keys its values through here."""
    position = np.subtract(moved, lo, out=scratch)
    position *= scale
    np.clip(position, 0, buckets - 1, out=out, casting="unsafe")


def _centred_keys(
    parts: list[Floats], center: float, lo: float, scale: float, buckets: int, *, reuse: bool
) -> tuple[Floats, NDArray[np.intp]]:
    """The finite values minus ``center``, and the bucket of each on the grid.

    The bucket is monotone in the value (each step rounds monotonely), and the same function
    serves both samples. Strips of :data:`STRIP` values keep the intermediate in cache, so each
    value is read once and written twice. ``reuse``: return this thread's scratch arrays.
    """
    size = sum(int(p.size) for p in parts)
    if reuse:
        centred, key = _scratch("centred", size, np.float64), _scratch("key", size, np.intp)
    else:
        centred, key = np.empty(size, dtype=np.float64), np.empty(size, dtype=np.intp)
    grid = np.empty(min(size, STRIP), dtype=np.float64)
    start, finite = 0, True
    with np.errstate(invalid="ignore"):  # NaN gets a meaningless bucket, then is dropped
        for part in parts:
            for offset in range(0, part.size, STRIP):
                piece = part[offset : offset + STRIP]
                end = start + piece.size
                moved = np.subtract(piece, center, out=centred[start:end])
                _bucket(moved, lo, scale, buckets, out=key[start:end], scratch=grid[: piece.size])
                finite = finite and bool(np.isfinite(piece).all())
                start = end
    if finite:
        return centred, key
    keep = np.concatenate([np.isfinite(p) for p in parts])
    return centred[keep], key[keep]


def _counted_before(through: NDArray[np.int64], at: NDArray[np.intp]) -> NDArray[np.int64]:
    """Current values in the buckets before each of ``at`` (``through``: cumulative counts)."""
    before = np.zeros(at.size, dtype=np.int64)
    inside = at > 0
    before[inside] = through[at[inside] - 1]
    return before


class _Runs(NamedTuple):
    """The explicit cells of a grid and the runs of clean cells between them.

    A cell is *dirty* (its values are explicit, sorted) when it holds a reference value or the
    current CDF reaches a reference level r/m in it. Run ``j`` covers cells
    ``[starts[j], ends[j])``: before the first dirty cell, between two, and after the last.
    """

    at_dirty: NDArray[np.intp]
    """The dirty cells, ascending."""
    dirty_n: NDArray[np.int64]
    """Current values in each dirty cell."""
    dirty_ref: NDArray[np.int64]
    """Reference values in each dirty cell (every reference value lies in one)."""
    c0: NDArray[np.int64]
    """Current values before each run."""
    run_n: NDArray[np.int64]
    """Current values in each run."""
    r0: NDArray[np.int64]
    """Reference values before each run."""
    run_sign: NDArray[np.int8]
    """+1 where F_cur >= F_ref across the run, else -1: |F_ref - F_cur| = sign * (F_cur - F_ref)."""

    def cell_codes(self, cells: int) -> NDArray[np.int8]:
        """Per cell: 0 for a dirty one, else the sign of its run (a one-byte lookup table)."""
        codes = np.zeros(2 * self.at_dirty.size + 1, dtype=np.int8)
        codes[0::2] = self.run_sign
        lengths = np.ones(codes.size, dtype=np.intp)
        lengths[0::2] = np.diff(self.at_dirty, prepend=-1, append=cells) - 1
        return np.repeat(codes, lengths)


def _runs(counts: NDArray[np.int64], ref_count: NDArray[np.int64], n: int) -> _Runs | None:
    """The dirty cells and runs of a grid, from its current and reference counts per cell.

    ``None`` when a run would hold current values on both sides of the reference CDF (cannot
    happen with a monotone key; never give a wrong value).
    """
    cells, m = int(counts.size), int(ref_count.sum())
    dirty = ref_count > 0
    # The cell where the current CDF reaches each reference level r/m (0 < r < m): the first
    # cell whose cumulative count * m is >= r * n. Sorting it splits the level's stretch into
    # a part below and a part above (or exactly at) the level.
    through = np.cumsum(counts)
    # through * m >= r * n  <=>  through >= ceil(r * n / m)  (integers)
    levels = (np.arange(1, m, dtype=np.int64) * n + (m - 1)) // m
    cross = np.searchsorted(through, levels, side="left")
    dirty[cross[cross < cells]] = True
    at_dirty = np.flatnonzero(dirty)
    starts = np.concatenate(([0], at_dirty + 1))
    ends = np.append(at_dirty, cells)
    c0 = _counted_before(through, starts)
    run_n = _counted_before(through, ends) - c0
    dirty_ref = ref_count[at_dirty]
    r0 = np.concatenate(([0], np.cumsum(dirty_ref)))
    above = c0 * m >= r0 * n  # F_cur >= F_ref across the run
    below = (c0 + run_n) * m <= r0 * n  # F_cur <= F_ref across the run
    if not bool(np.all(above | below | (run_n == 0))):
        return None
    run_sign = np.where(above, 1, -1).astype(np.int8)
    return _Runs(at_dirty, counts[at_dirty], dirty_ref, c0, run_n, r0, run_sign)


def _integral(runs: _Runs, explicit: Floats, signed_sum: float, ref: Floats, n: int) -> float:
    """The integral of |F_ref - F_cur| from a grid's runs and its explicit values.

    ``explicit``: the current values in the dirty cells, sorted; ``signed_sum``: the sum of
    every other current value times its run's sign; ``ref``: the reference, sorted (moved by
    the same centre as the current values).
    """
    m = int(ref.size)
    # Merge the reference into the explicit current values (current first on ties: the
    # order of equal values does not change the integral).
    n_explicit = explicit.size + m
    is_ref = np.zeros(n_explicit, dtype=bool)
    is_ref[np.searchsorted(explicit, ref, side="right") + np.arange(m)] = True
    e = np.empty(n_explicit, dtype=np.float64)
    e[is_ref] = ref
    e[~is_ref] = explicit
    # A run's blob lies in the slot between two explicit values (slot s between e[s-1] and
    # e[s]; slot 0 before e[0], slot `n_explicit` after e[-1]): the explicit values in the
    # dirty cells before it.
    slot = np.concatenate(([0], np.cumsum(runs.dirty_n + runs.dirty_ref)))
    blob_n = np.zeros(n_explicit + 1, dtype=np.int64)
    blob_n[slot] = runs.run_n
    # Gaps without a blob: F_cur and F_ref are constant across them.
    r_le = np.cumsum(is_ref[:-1])  # reference values <= e[i]
    c_le = np.cumsum(~is_ref[:-1]) + np.cumsum(blob_n[: n_explicit - 1])  # current values
    gap = np.diff(e)
    plain = np.abs(r_le / m - c_le / n) * gap
    total = float(np.sum(plain[blob_n[1:n_explicit] == 0]))
    # A blob of bn values summing to bs after c0 current and r0 reference values, in a gap
    # (e_s-1, e_s): the integral of F_cur across it is (c0 * gap + bn * e_s - bs) / n, and
    # |F_ref - F_cur| = sign * (F_cur - F_ref). Before e[0] F_ref = 0 <= F_cur, and after
    # e[-1] F_ref = 1 >= F_cur: the gap is then 0 and e_s the outer explicit value.
    # The -sign * bs / n terms of all blobs are the one signed sum of the caller.
    full = runs.run_n > 0
    at = slot[full]
    span = np.zeros(at.size, dtype=np.float64)
    inner = (at > 0) & (at < n_explicit)
    span[inner] = gap[at[inner] - 1]
    edge = e[np.minimum(at, n_explicit - 1)]
    c0, run_n, r0 = runs.c0[full], runs.run_n[full], runs.r0[full]
    part = (c0 * span + run_n * edge) / n - r0 / m * span
    total += float(np.sum(runs.run_sign[full] * part)) - signed_sum / n
    return float(total)


def _refined(
    inside: Floats,
    ref: Floats,
    runs: _Runs,
    signed_sum: float,
    grid: tuple[float, float, int],
    sub: int,
    n: int,
    kernel: GridKernel | None = None,
) -> float | None:
    """The integral with every dirty bucket split into ``sub`` cells of a finer grid.

    ``inside``: the current values in the dirty buckets (unsorted; overwritten); ``grid``: the
    coarse grid (``lo``, ``scale``, buckets); ``signed_sum``: the other values' signed sum.
    The fine key of a value is the coarse position times ``sub`` (a power of two: exact), so
    ``fine >> log2(sub)`` is the value's coarse bucket, and the finer grid is monotone too.
    The cells of this grid are the coarse runs (one cell each) and the fine cells of the dirty
    buckets between them; its dirty cells (a reference value or a CDF crossing) hold far fewer
    values than the dirty buckets did, and only those are sorted. ``None`` if a value's fine
    key lands outside a dirty bucket or a coarse run's sign changes (neither can happen:
    never give a wrong value). ``kernel``: key, count and split the current values in the
    compiled kernel (the same cells, the same explicit values; the sum in another order).
    """
    lo, scale, buckets = grid
    shift = sub.bit_length() - 1
    rank = np.zeros(buckets, dtype=np.intp)  # 1 + the rank of each dirty bucket, 0 elsewhere
    rank[runs.at_dirty] = np.arange(1, runs.at_dirty.size + 1)
    width = sub + 1  # a run's cell and the dirty bucket's fine cells after it

    def cells(values: Floats) -> NDArray[np.intp] | None:
        # The coarse key on a grid ``sub`` times finer: (value - lo) * (scale * sub) rounds to
        # the coarse position times ``sub`` (a power of two: exact)
        fine = np.empty(values.size, dtype=np.intp)
        _bucket(values, lo, scale * sub, buckets * sub, out=fine, scratch=np.empty(values.size))
        where = rank.take(fine >> shift)
        if not bool(where.all()):
            return None
        where *= width
        where += (fine & (sub - 1)) - sub
        return where  # (rank + 1) * width + s - sub = rank * width + 1 + s

    ref_cell = cells(ref)
    if ref_cell is None:
        return None
    size = runs.at_dirty.size * width + 1
    if buckets * sub >= 2**31 or size >= 2**31:
        kernel = None  # the kernel's cells are 32-bit
    if kernel is not None:
        cur_cell = _scratch("cell32", inside.size, np.int32)
        counted = np.zeros(size, dtype=np.int32)
        fine_buckets, rank32 = buckets * sub, rank.astype(np.int32)
        if not kernel.refine(
            inside, lo, scale * sub, fine_buckets, shift, rank32, cur_cell, counted
        ):
            return None
        counts = counted.astype(np.int64)
    else:
        numpy_cell = cells(inside)
        if numpy_cell is None:
            return None
        cur_cell, counts = numpy_cell, np.bincount(numpy_cell, minlength=size)
    counts[0::width] = runs.run_n
    fine_runs = _runs(counts, np.bincount(ref_cell, minlength=size), n)
    if fine_runs is None:
        return None
    codes = fine_runs.cell_codes(size)
    held = runs.run_n > 0
    if not np.array_equal(codes[0::width][held], runs.run_sign[held]):
        return None
    if kernel is not None:
        # The values are centred already: ``value - 0.0`` is the value, to the bit
        out, sums = _scratch("fine_explicit", inside.size, np.float64), np.array([signed_sum, 0.0])
        taken = kernel.split([inside], cur_cell, 0.0, codes, out, sums)
        explicit, signed_sum = np.sort(out[:taken]), float(sums[0] + sums[1])
    else:
        code = codes.take(cur_cell)
        explicit = np.sort(inside[code == 0])
        signed_sum += float(np.multiply(code, inside, out=inside).sum())
    return _integral(fine_runs, explicit, signed_sum, ref, n)


def wasserstein_bucketed(
    current: Floats | Sequence[Floats],
    ref: Floats,
    center: float = 0.0,
    buckets: int | None = None,
    max_crowding: float = MAX_CROWDING,
    refine: int | None = None,
) -> float | None:
    """First Wasserstein distance of an unsorted current sample and a sorted reference sample.

    The same value as :func:`~mlops_assets.monitoring.stattests.wasserstein_sorted` (scipy's
    definition), to rounding. ``current`` is one array or its chunks (e.g. a Polars column's,
    read without a copy); it is not modified, and its NaN and infinities are left out, as the
    sorted route does. Both samples are moved by ``center`` first (pass a value near the
    data, e.g. the reference median: the blob sums then cancel at the scale of the data's
    spread, not of its offset). ``buckets`` fixes the grid (tests); by default it holds at
    most :data:`VALUES_PER_BUCKET` current values and 1/:data:`BUCKETS_PER_REFERENCE_VALUE`
    reference values per bucket (on average). ``refine``: split each dirty bucket into this
    many finer cells (a power of two; 1: never) before sorting what is left; by default
    :data:`REFINE` when the dirty buckets hold at least :data:`REFINE_MIN_VALUES` values.
    Returns ``None`` when the grid does not suit the reference: more than ``max_crowding`` of
    the reference values share a bucket (see :data:`MAX_CROWDING`; tests raise it to 1 to
    exercise coarse grids, where most values are explicit).
    """
    if refine is not None and (refine < 1 or refine & (refine - 1)):
        raise ValueError(f"refine must be a power of two, got {refine}")
    raw = [current] if isinstance(current, np.ndarray) else list(current)
    parts = [np.asarray(p, dtype=np.float64) for p in raw]  # float64 arithmetic on both routes
    m, size = int(ref.size), sum(int(p.size) for p in parts)
    if m == 0 or size == 0:
        return None
    lo, hi = float(ref[0]) - center, float(ref[-1]) - center
    if not hi > lo:
        return None
    wanted = max(size // VALUES_PER_BUCKET, BUCKETS_PER_REFERENCE_VALUE * m, 1024)
    k = buckets or int(min(wanted, MAX_BUCKETS))
    scale = k / (hi - lo)
    if not math.isfinite(scale):
        return None  # a reference spanning only subnormal values: the caller sorts
    ref, ref_key = _centred_keys([ref], center, lo, scale, k, reuse=False)
    ref_count = np.bincount(ref_key, minlength=k)
    if 1.0 - np.count_nonzero(ref_count) / m > max_crowding:
        return None
    kernel = grid_kernel() if size < 2**31 and k < 2**31 else None  # int32 keys and counts
    passed = (
        _numpy_passes(parts, center, (lo, scale, k), ref_count)
        if kernel is None
        else _native_passes(kernel, parts, center, (lo, scale, k), ref_count)
    )
    if passed is None:
        return None
    runs, inside, signed_sum, n = passed
    sub = refine or (REFINE if inside.size >= REFINE_MIN_VALUES else 1)
    if sub > 1:
        refined = _refined(inside, ref, runs, signed_sum, (lo, scale, k), sub, n, kernel)
        if refined is not None:
            return refined
    return _integral(runs, np.sort(inside), signed_sum, ref, n)


class _Passed(NamedTuple):
    """What the two passes over the current values leave for the integral."""

    runs: _Runs
    inside: Floats
    """The explicit values (in the dirty buckets), centred, unsorted: this thread's scratch."""
    signed_sum: float
    """The sum of every other (centred) value times its run's sign."""
    n: int
    """The finite current values."""


def _numpy_passes(
    parts: list[Floats], center: float, grid: tuple[float, float, int], ref_count: NDArray[np.int64]
) -> _Passed | None:
    """Both passes in NumPy: key and count every value, then look up each one's bucket code."""
    lo, scale, k = grid
    cur, key = _centred_keys(parts, center, lo, scale, k, reuse=True)
    n = int(cur.size)
    if n == 0:
        return None
    runs = _runs(np.bincount(key, minlength=k), ref_count, n)
    if runs is None:
        return None
    # Each value's part: 0 for the explicit ones (dirty buckets), else its run's sign (a table
    # of one byte per bucket, looked up once per value).
    code = runs.cell_codes(k).take(key, out=_scratch("code", n, np.int8))
    explicit = np.equal(code, 0, out=_scratch("explicit", n, np.bool_))
    inside = np.compress(explicit, cur)
    # The sum of sign * value over the blobs' values (pairwise summation; not a BLAS dot,
    # whose threads would compete with the other columns' workers). ``cur`` is our own
    # centred copy and is not read again: the products overwrite it.
    signed_sum = float(np.multiply(code, cur, out=cur).sum())
    return _Passed(runs, inside, signed_sum, n)


def _native_passes(
    kernel: GridKernel,
    parts: list[Floats],
    center: float,
    grid: tuple[float, float, int],
    ref_count: NDArray[np.int64],
) -> _Passed | None:
    """Both passes in the compiled kernel (:mod:`.native`): one loop each, over all chunks.

    The same buckets as :func:`_numpy_passes` (the same float operations, to the bit), the
    same explicit values in the same order; only the signed sum is added in another order.
    """
    lo, scale, k = grid
    chunks = [np.ascontiguousarray(p, dtype=np.float64) for p in parts]
    size = sum(int(c.size) for c in chunks)
    key = _scratch("key32", size, np.int32)
    counts = np.zeros(k, dtype=np.int32)
    bad = kernel.count(chunks, center, lo, scale, key, counts)
    n = size - bad
    if n == 0:
        return None
    runs = _runs(counts.astype(np.int64), ref_count, n)
    if runs is None:
        return None
    code = runs.cell_codes(k)
    out, sums = _scratch("inside", size, np.float64), np.zeros(2)
    taken = kernel.split(chunks, key, center, code, out, sums)
    return _Passed(runs, out[:taken], float(sums[0] + sums[1]), n)
