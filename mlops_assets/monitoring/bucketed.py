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
  (summation by parts). A column of 10M normal values sorts ~5% of its values; for the others
  the bucket of each value is computed once and read twice: to count the buckets, then to look
  up the bucket's one-byte sign for the signed sum.

Both return ``None`` when they do not apply (a wide integer range; a reference crowded into few
buckets, such as heavy tails or many ties), and the caller sorts as before.
"""

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mlops_assets.monitoring.stattests import Floats

_THREAD = threading.local()
STRIP = 1 << 15
"""Values per strip of the grid pass (256 KiB of float64: stays in the core's cache)."""
COUNTING_MAX_SPAN = 1 << 24
"""Widest integer range sorted by counting (a 128 MiB count array at most)."""
BUCKETED_MIN_ROWS = 200_000
"""Below this many current values a plain sort is as fast: the bucketed route is not tried."""
MAX_BUCKETS = 1 << 21
"""Most grid buckets (a 16 MiB count array): ~5 current values per bucket at 10M rows."""
VALUES_PER_BUCKET = 5
"""Current values per bucket the grid is sized for (at least)."""
BUCKETS_PER_REFERENCE_VALUE = 32
"""Grid buckets per reference value (at least): a reference value rarely shares a bucket."""
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
                position = np.subtract(moved, lo, out=grid[: piece.size])
                position *= scale
                np.clip(position, 0, buckets - 1, out=key[start:end], casting="unsafe")
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


def wasserstein_bucketed(
    current: Floats | Sequence[Floats],
    ref: Floats,
    center: float = 0.0,
    buckets: int | None = None,
    max_crowding: float = MAX_CROWDING,
) -> float | None:
    """First Wasserstein distance of an unsorted current sample and a sorted reference sample.

    The same value as :func:`~mlops_assets.monitoring.stattests.wasserstein_sorted` (scipy's
    definition), to rounding. ``current`` is one array or its chunks (e.g. a Polars column's,
    read without a copy); it is not modified, and its NaN and infinities are left out, as the
    sorted route does. Both samples are moved by ``center`` first (pass a value near the
    data, e.g. the reference median: the blob sums then cancel at the scale of the data's
    spread, not of its offset). ``buckets`` fixes the grid (tests); by default it holds at
    most :data:`VALUES_PER_BUCKET` current values and 1/:data:`BUCKETS_PER_REFERENCE_VALUE`
    reference values per bucket (on average).
    Returns ``None`` when the grid does not suit the reference: more than ``max_crowding`` of
    the reference values share a bucket (see :data:`MAX_CROWDING`; tests raise it to 1 to
    exercise coarse grids, where most values are explicit).
    """
    parts = [current] if isinstance(current, np.ndarray) else list(current)
    m, size = int(ref.size), sum(int(p.size) for p in parts)
    if m == 0 or size == 0:
        return None
    lo, hi = float(ref[0]) - center, float(ref[-1]) - center
    if not hi > lo:
        return None
    wanted = max(size // VALUES_PER_BUCKET, BUCKETS_PER_REFERENCE_VALUE * m, 1024)
    k = buckets or int(min(wanted, MAX_BUCKETS))
    scale = k / (hi - lo)
    ref, ref_key = _centred_keys([ref], center, lo, scale, k, reuse=False)
    ref_count = np.bincount(ref_key, minlength=k)
    dirty = ref_count > 0
    if 1.0 - np.count_nonzero(dirty) / m > max_crowding:
        return None
    cur, key = _centred_keys(parts, center, lo, scale, k, reuse=True)
    n = int(cur.size)
    if n == 0:
        return None
    counts = np.bincount(key, minlength=k)
    # The bucket where the current CDF reaches each reference level r/m (0 < r < m): the
    # first bucket whose cumulative count * m is >= r * n. Sorting it splits the level's
    # stretch into a part below and a part above (or exactly at) the level.
    through = np.cumsum(counts)
    # through * m >= r * n  <=>  through >= ceil(r * n / m)  (integers)
    levels = (np.arange(1, m, dtype=np.int64) * n + (m - 1)) // m
    cross = np.searchsorted(through, levels, side="left")
    dirty[cross[cross < k]] = True
    # The clean buckets between two dirty ones form a run: one blob of current values
    # between two consecutive explicit values. Run j covers buckets [starts[j], ends[j]):
    # before the first dirty bucket, between two, and after the last.
    at_dirty = np.flatnonzero(dirty)
    starts = np.concatenate(([0], at_dirty + 1))
    ends = np.append(at_dirty, k)
    c0 = _counted_before(through, starts)  # current values before each run
    run_n = _counted_before(through, ends) - c0
    ref_dirty = ref_count[at_dirty]  # every reference value lies in a dirty bucket
    r0 = np.concatenate(([0], np.cumsum(ref_dirty)))  # reference values before each run
    above = c0 * m >= r0 * n  # F_cur >= F_ref across the run
    below = (c0 + run_n) * m <= r0 * n  # F_cur <= F_ref across the run
    if not bool(np.all(above | below | (run_n == 0))):
        return None  # cannot happen with a monotone key; never give a wrong value
    run_sign = np.where(above, 1, -1).astype(np.int8)  # |F_ref - F_cur| = sign * (F_cur - F_ref)
    # Each value's part: 0 for the explicit ones (dirty buckets), else its run's sign (a table
    # of one byte per bucket, looked up once per value).
    codes = np.zeros(2 * at_dirty.size + 1, dtype=np.int8)
    codes[0::2] = run_sign
    lengths = np.ones(codes.size, dtype=np.intp)
    lengths[0::2] = ends - starts
    code = np.repeat(codes, lengths).take(key, out=_scratch("code", n, np.int8))
    explicit = np.equal(code, 0, out=_scratch("explicit", n, np.bool_))
    explicit_cur = np.sort(np.compress(explicit, cur))
    # The sum of sign * value over the blobs' values (pairwise summation; not a BLAS dot,
    # whose threads would compete with the other columns' workers). ``cur`` is our own
    # centred copy and is not read again: the products overwrite it.
    signed_sum = float(np.multiply(code, cur, out=cur).sum())
    # Merge the reference into the explicit current values (current first on ties: the
    # order of equal values does not change the integral).
    n_explicit = explicit_cur.size + m
    is_ref = np.zeros(n_explicit, dtype=bool)
    is_ref[np.searchsorted(explicit_cur, ref, side="right") + np.arange(m)] = True
    e = np.empty(n_explicit, dtype=np.float64)
    e[is_ref] = ref
    e[~is_ref] = explicit_cur
    # A run's blob lies in the slot between two explicit values (slot s between e[s-1] and
    # e[s]; slot 0 before e[0], slot `n_explicit` after e[-1]): the explicit values in the
    # dirty buckets before it.
    slot = np.concatenate(([0], np.cumsum(counts[at_dirty] + ref_dirty)))
    blob_n = np.zeros(n_explicit + 1, dtype=np.int64)
    blob_n[slot] = run_n
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
    # The -sign * bs / n terms of all blobs are the one signed sum of the lookup above.
    full = run_n > 0
    at = slot[full]
    span = np.zeros(at.size, dtype=np.float64)
    inner = (at > 0) & (at < n_explicit)
    span[inner] = gap[at[inner] - 1]
    edge = e[np.minimum(at, n_explicit - 1)]
    part = (c0[full] * span + run_n[full] * edge) / n - r0[full] / m * span
    total += float(np.sum(run_sign[full] * part)) - signed_sum / n
    return float(total)
