"""The sort-free kernels against scipy and numpy, and the drift route that uses them.

Every test runs twice: with the grid's two passes in the compiled kernel (:mod:`.native`;
skipped on a machine without a C compiler) and in NumPy.
"""

from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl
import pytest
from numpy.typing import NDArray
from scipy import stats

from mlops_assets.config.monitoring import DriftConfig
from mlops_assets.monitoring import bucketed, native
from mlops_assets.monitoring.bucketed import (
    BUCKETED_MIN_ROWS,
    counting_sorted,
    integer_counts,
    wasserstein_atoms,
    wasserstein_bucketed,
)
from mlops_assets.monitoring.columns import column_drift
from mlops_assets.monitoring.profile import NumericProfile, build_profile

Sampler = Callable[[np.random.Generator, int], NDArray[np.float64]]
SHAPES: dict[str, tuple[Sampler, Sampler]] = {
    "normal shifted": (lambda r, k: r.normal(0.0, 1.0, k), lambda r, k: r.normal(0.15, 1.1, k)),
    "lognormal": (lambda r, k: r.lognormal(0.0, 0.5, k), lambda r, k: r.lognormal(0.05, 0.5, k)),
    "uniform same": (lambda r, k: r.uniform(-3, 3, k), lambda r, k: r.uniform(-3, 3, k)),
    "bimodal vs one mode": (
        lambda r, k: np.concatenate((r.normal(-2, 0.5, k // 2), r.normal(2, 0.5, k - k // 2))),
        lambda r, k: r.normal(-2, 0.5, k),
    ),
    "epoch seconds": (
        lambda r, k: 1.7e9 + r.uniform(0, 86_400, k),
        lambda r, k: 1.7e9 + r.uniform(3_600, 90_000, k),
    ),
}


@pytest.fixture(autouse=True, params=["compiled", "numpy"])
def grid_passes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Where the grid's two passes over the current values run."""
    if request.param == "numpy":
        monkeypatch.setattr(bucketed, "grid_kernel", lambda: None)
    elif native.grid_kernel() is None:
        pytest.skip("no C compiler here: the compiled passes cannot be built")
    return str(request.param)


@pytest.fixture
def refinements(monkeypatch: pytest.MonkeyPatch) -> list[float | None]:
    """What every refinement of the dirty buckets returned (the real function, recorded)."""
    seen: list[float | None] = []
    real = bucketed._refined

    def recorded(*args: Any) -> float | None:
        seen.append(real(*args))
        return seen[-1]

    monkeypatch.setattr(bucketed, "_refined", recorded)
    return seen


@pytest.mark.parametrize("refine", [1, 4, 16])
@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize(("n_cur", "n_ref", "buckets"), [(50_000, 2_000, None), (6_000, 500, 64)])
def test_bucketed_wasserstein_equals_scipy(
    shape: str,
    n_cur: int,
    n_ref: int,
    buckets: int | None,
    refine: int,
    refinements: list[float | None],
) -> None:
    """A coarse grid (64 buckets) makes blobs, crossings and explicit buckets all common; a
    refinement splits the explicit buckets into finer cells (1: never)."""
    rng = np.random.default_rng(n_cur)
    make_ref, make_cur = SHAPES[shape]
    ref, cur = np.sort(make_ref(rng, n_ref)), make_cur(rng, n_cur)
    center = float(ref[ref.size // 2])
    ours = wasserstein_bucketed(
        cur, ref, center=center, buckets=buckets, max_crowding=1.0, refine=refine
    )
    assert ours is not None
    assert ours == pytest.approx(stats.wasserstein_distance(ref, cur), rel=1e-11)
    assert len(refinements) == (refine > 1)
    assert None not in refinements  # the refined grid served, no fallback to the sort


def test_refinement_sorts_a_tenth_of_the_values_and_changes_no_digit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """1M lognormal values: the dirty buckets' values are split over 16 finer cells each, and
    only those in the finer dirty cells are sorted; the distance is the unrefined one."""
    rng = np.random.default_rng(11)
    ref = np.sort(rng.lognormal(0.0, 0.5, 20_000))
    cur = rng.lognormal(0.02, 0.5, 1_000_000)
    sorted_sizes: list[int] = []
    real_sort = np.sort

    def counted_sort(values: NDArray[np.float64]) -> NDArray[np.float64]:
        sorted_sizes.append(int(values.size))
        return real_sort(values)

    center = float(np.median(ref))
    monkeypatch.setattr(np, "sort", counted_sort)
    plain = wasserstein_bucketed(cur, ref, center=center, refine=1)
    refined = wasserstein_bucketed(cur, ref, center=center)  # default: refined at this size
    monkeypatch.undo()
    assert len(sorted_sizes) == 2
    assert sorted_sizes[1] * 5 < sorted_sizes[0]
    expected = stats.wasserstein_distance(ref, cur)
    assert plain == pytest.approx(expected, rel=1e-11)
    assert refined == pytest.approx(expected, rel=1e-11)
    assert refined == pytest.approx(plain, rel=1e-12)


def test_refine_must_be_a_power_of_two() -> None:
    ref = np.sort(np.random.default_rng(1).normal(0, 1, 100))
    with pytest.raises(ValueError, match="power of two"):
        wasserstein_bucketed(ref, ref, refine=12)


@pytest.mark.parametrize("refine", [1, 16])
@pytest.mark.parametrize("offset", [0.0, 1_000.0, 1.7e9])
def test_a_small_distance_survives_the_cancelling_signed_sum(offset: float, refine: int) -> None:
    """2M current values drawn like the 20k reference values: the blobs' signed sum and their
    counted parts are ~1e5 times the distance, which must still come out to scipy's digits."""
    rng = np.random.default_rng(7)
    ref = np.sort(offset + rng.normal(0, 1, 20_000))
    cur = offset + rng.normal(0, 1, 2_000_000)
    ours = wasserstein_bucketed(
        np.array_split(cur, 17), ref, center=float(np.median(ref)), refine=refine
    )
    expected = stats.wasserstein_distance(ref, cur)
    assert expected < 0.02
    assert ours == pytest.approx(expected, rel=1e-10)


def test_bucketed_wasserstein_equals_scipy_on_random_small_cases(
    refinements: list[float | None],
) -> None:
    """300 random cases: sizes, grids, offsets, scales, ties and refinements (none, or 2 to
    64 finer cells per explicit bucket) all drawn at random."""
    rng = np.random.default_rng(2026)
    for _ in range(300):
        n_cur, n_ref = int(rng.integers(1, 3_000)), int(rng.integers(2, 600))
        loc, scale = float(rng.normal(0, 100)), float(rng.lognormal(0, 2))
        ref = rng.normal(loc, scale, n_ref)
        cur = rng.normal(
            loc + float(rng.normal(0, scale)), scale * float(rng.uniform(0.3, 3)), n_cur
        )
        if rng.random() < 0.3:
            digits = -int(np.floor(np.log10(scale)))
            ref, cur = ref.round(digits), cur.round(digits)
        ref = np.sort(ref)
        ours = wasserstein_bucketed(
            cur,
            ref,
            center=float(ref[n_ref // 2]),
            buckets=int(rng.integers(1, 2_000)),
            max_crowding=1.0,
            refine=int(2 ** rng.integers(0, 7)),
        )
        if ref[0] == ref[-1]:
            assert ours is None
            continue
        assert ours == pytest.approx(stats.wasserstein_distance(ref, cur), rel=1e-10, abs=1e-300)


@pytest.mark.parametrize("strip", [64, 1_000, bucketed.STRIP])
def test_chunks_with_nan_and_infinities_give_the_value_of_the_finite_values(
    monkeypatch: pytest.MonkeyPatch, strip: int
) -> None:
    """A Polars column arrives as chunks; NaN and +-inf are left out, as the sorted route does.

    The grid pass reads each chunk in strips: at any strip width (strips ending inside a chunk,
    a chunk shorter than a strip, non-finite values in a later strip) the value is the same."""
    monkeypatch.setattr(bucketed, "STRIP", strip)
    rng = np.random.default_rng(9)
    ref = np.sort(rng.normal(0, 1, 2_000))
    chunks = [rng.normal(0.1, 1, k) for k in (7_000, 1, 12_345)]
    chunks[0][[3, 50, 6_999]] = [np.nan, np.inf, np.nan]
    chunks[2][[5_000, -1]] = [np.nan, -np.inf]
    finite = np.concatenate(chunks)
    finite = finite[np.isfinite(finite)]
    ours = wasserstein_bucketed(chunks, ref, center=0.1, buckets=8_192, max_crowding=1.0)
    assert ours == pytest.approx(stats.wasserstein_distance(ref, finite), rel=1e-11)
    assert ours == wasserstein_bucketed(finite, ref, center=0.1, buckets=8_192, max_crowding=1.0)
    assert wasserstein_bucketed([np.array([np.nan])], ref) is None
    refined = wasserstein_bucketed(chunks, ref, center=0.1, buckets=512, max_crowding=1, refine=8)
    assert refined == pytest.approx(stats.wasserstein_distance(ref, finite), rel=1e-11)


def test_bucketed_wasserstein_leaves_the_current_values_untouched() -> None:
    rng = np.random.default_rng(2)
    ref, cur = np.sort(rng.normal(0, 1, 1_000)), rng.normal(0, 1, 20_000)
    before = cur.copy()
    wasserstein_bucketed(cur, ref, center=0.5, buckets=128, max_crowding=1.0)
    np.testing.assert_array_equal(cur, before)


@pytest.mark.parametrize(
    "where",
    ["all below the reference", "all above the reference", "straddling both ends"],
)
def test_current_outside_the_reference_range(where: str) -> None:
    rng = np.random.default_rng(5)
    ref = np.sort(rng.normal(0, 1, 3_000))
    cur = {
        "all below the reference": rng.normal(-20, 1, 30_000),
        "all above the reference": rng.normal(20, 1, 30_000),
        "straddling both ends": rng.normal(0, 6, 30_000),
    }[where]
    expected = stats.wasserstein_distance(ref, cur)
    for refine in (1, 8):
        ours = wasserstein_bucketed(cur, ref, buckets=256, max_crowding=1.0, refine=refine)
        assert ours == pytest.approx(expected, rel=1e-11)


def test_ties_between_current_and_reference_values() -> None:
    """Current values equal to reference values, and repeated reference values."""
    rng = np.random.default_rng(8)
    ref = np.sort(np.concatenate((rng.normal(0, 1, 2_000), np.repeat([0.25, 1.5], 3))))
    cur = np.concatenate((rng.normal(0, 1, 40_000), rng.choice(ref, 5_000)))
    expected = stats.wasserstein_distance(ref, cur)
    for refine in (1, 4, 64):
        ours = wasserstein_bucketed(cur, ref, buckets=4_096, max_crowding=1.0, refine=refine)
        assert ours == pytest.approx(expected, rel=1e-11)


def test_one_current_value_and_identical_samples() -> None:
    ref = np.sort(np.random.default_rng(1).normal(0, 1, 1_500))
    single = np.array([0.3])
    assert wasserstein_bucketed(single, ref, buckets=512, max_crowding=1.0) == pytest.approx(
        stats.wasserstein_distance(ref, single), rel=1e-12
    )
    same = wasserstein_bucketed(ref[::-1].copy(), ref, buckets=512, max_crowding=1.0)
    assert same is not None
    assert abs(same) < 1e-15


@pytest.mark.parametrize(
    "reference",
    ["heavy tail", "few distinct values", "constant"],
)
def test_a_reference_that_does_not_suit_the_grid_is_declined(reference: str) -> None:
    """The caller then sorts: a crowded grid would make nearly every value explicit."""
    rng = np.random.default_rng(3)
    ref = np.sort(
        {
            "heavy tail": rng.pareto(1.2, 20_000),
            "few distinct values": rng.normal(0, 1, 20_000).round(1),
            "constant": np.full(20_000, 4.0),
        }[reference]
    )
    assert wasserstein_bucketed(rng.normal(0, 1, 300_000), ref) is None


@pytest.mark.parametrize(
    "dtype", [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64]
)
def test_counting_sort_equals_numpy_sort_to_the_bit(dtype: type[np.integer]) -> None:
    info = np.iinfo(dtype)
    rng = np.random.default_rng(int(info.bits))
    lo = max(int(info.min), -1_000)
    values = rng.integers(lo, min(int(info.max), 1_000), 10_000, endpoint=True).astype(dtype)
    counted = counting_sorted(values)
    assert counted is not None
    assert counted.dtype == np.float64
    np.testing.assert_array_equal(counted, np.sort(values.astype(np.float64)))


@pytest.mark.parametrize(
    ("cur_lo", "cur_hi", "offset"),
    [(0, 60, 0), (-40, 40, 0), (20, 200, 0), (0, 5_000, 1_700_000_000), (300, 400, 0)],
)
def test_wasserstein_of_counted_integers_equals_scipy(
    cur_lo: int, cur_hi: int, offset: int
) -> None:
    """Counts over chunks: overlapping, wider, shifted (epoch-like) and disjoint ranges."""
    rng = np.random.default_rng(cur_hi)
    ref = np.sort(rng.integers(0, 60, 3_000) + offset).astype(np.float64)
    current = rng.integers(cur_lo, cur_hi, 50_000) + offset
    atoms = integer_counts(np.array_split(current, 7))
    assert atoms is not None
    values, counts = atoms
    np.testing.assert_array_equal(np.repeat(values, counts), np.sort(current).astype(np.float64))
    assert wasserstein_atoms(values, counts, ref) == pytest.approx(
        stats.wasserstein_distance(ref, current.astype(np.float64)), rel=1e-12
    )


def test_counting_sort_declines_wide_or_huge_integers() -> None:
    rng = np.random.default_rng(4)
    assert counting_sorted(rng.integers(0, 10**9, 1_000)) is None  # wider than counting pays
    assert counting_sorted(np.array([2**53, 2**53 + 1], dtype=np.int64)) is None
    assert counting_sorted(np.array([], dtype=np.int64)) is None
    assert integer_counts([np.array([], dtype=np.int32)]) is None


def _reference_frame(rows: int) -> pl.DataFrame:
    rng = np.random.default_rng(11)
    return pl.DataFrame(
        {
            "amount": rng.lognormal(3.0, 0.4, rows),
            "visits": rng.poisson(12, rows),
            "heavy": rng.pareto(1.1, rows),
        }
    )


@pytest.mark.parametrize("column", ["amount", "visits", "heavy"])
def test_column_drift_on_a_large_column_equals_scipy(column: str) -> None:
    """Each sort-free route (and the declined one) through the drift of one column.

    The current column also holds nulls, NaN and infinities, which are dropped first.
    """
    config = DriftConfig()
    reference = _reference_frame(30_000)
    profile = build_profile(reference, ["amount", "visits", "heavy"], [], config)
    prof = profile.columns[column]
    rng = np.random.default_rng(12)
    rows = BUCKETED_MIN_ROWS + 50_000
    shifted = {
        "amount": rng.lognormal(3.1, 0.4, rows),
        "visits": rng.poisson(13, rows),
        "heavy": rng.pareto(1.0, rows),
    }[column]
    current = pl.Series(column, shifted)
    if column != "visits":
        current = pl.concat(
            [current, pl.Series(column, [None, float("nan"), float("inf"), -float("inf")])]
        )
    else:
        current = pl.concat([current, pl.Series(column, [None], dtype=pl.Int64)])
    result = column_drift(current, prof, config)
    assert result.method == "wasserstein"
    assert isinstance(prof, NumericProfile)
    sample = np.asarray(prof.sample)
    finite = shifted[np.isfinite(shifted)].astype(np.float64)
    expected = stats.wasserstein_distance(sample, finite) / max(prof.std, 0.001)
    assert result.statistic == pytest.approx(expected, rel=1e-10)
    # The route each column takes:
    bucketed = wasserstein_bucketed(finite, sample, center=float(np.median(sample)))
    assert (bucketed is not None) == (column == "amount")
    if column == "visits":
        assert counting_sorted(np.asarray(shifted, dtype=np.int64)) is not None
