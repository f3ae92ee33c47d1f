"""The array kernels against the scipy / numpy functions whose definitions they reproduce."""

import numpy as np
import pytest
from scipy import stats
from scipy.spatial import distance

from mlops_assets.monitoring import stattests as st

RNG_CASES = [
    # (current size, reference size, rounding digits: few digits = many ties)
    (2_000, 500, None),
    (5_000, 3_000, 1),
    (300, 20_000, 2),
    (50, 7, 0),
]


@pytest.mark.parametrize(("n_cur", "n_ref", "digits"), RNG_CASES)
def test_wasserstein_equals_scipy_including_ties(
    n_cur: int, n_ref: int, digits: int | None
) -> None:
    rng = np.random.default_rng(n_cur)
    cur = rng.normal(0.2, 1.3, n_cur)
    ref = rng.normal(0.0, 1.0, n_ref)
    if digits is not None:
        cur, ref = cur.round(digits), ref.round(digits)
    ours = st.wasserstein_sorted(np.sort(cur), np.sort(ref))
    assert ours == pytest.approx(stats.wasserstein_distance(ref, cur), rel=1e-12)


@pytest.mark.parametrize(("n_cur", "n_ref", "digits"), RNG_CASES)
def test_ks_statistic_and_pvalue_equal_scipy(n_cur: int, n_ref: int, digits: int | None) -> None:
    rng = np.random.default_rng(n_ref)
    cur = rng.standard_t(5, n_cur) + 0.1
    ref = rng.standard_t(5, n_ref)
    if digits is not None:
        cur, ref = cur.round(digits), ref.round(digits)
    expected = stats.ks_2samp(ref, cur)
    # scipy's exact mode snaps D to the lattice h / lcm(n, m): equal up to rounding.
    assert st.ks_statistic_sorted(np.sort(cur), np.sort(ref)) == pytest.approx(
        expected.statistic, rel=1e-12
    )
    assert st.ks_pvalue_sorted(np.sort(cur), np.sort(ref)) == pytest.approx(
        expected.pvalue, rel=1e-12
    )


def test_ks_asymptotic_branch_matches_scipy_on_large_current() -> None:
    rng = np.random.default_rng(3)
    cur, ref = rng.normal(0.01, 1, 50_000), rng.normal(0, 1, 800)
    expected = stats.ks_2samp(ref, cur)  # max(n) > 10,000: scipy's asymptotic formula
    assert st.ks_statistic_sorted(np.sort(cur), np.sort(ref)) == expected.statistic  # bit-exact
    assert st.ks_pvalue_sorted(np.sort(cur), np.sort(ref)) == pytest.approx(
        expected.pvalue, rel=1e-12
    )


@pytest.mark.parametrize("integer", [False, True])
def test_sturges_edges_and_histogram_equal_numpy(integer: bool) -> None:
    rng = np.random.default_rng(7)
    ref = rng.integers(0, 9, 3_000) if integer else rng.gamma(2.0, 2.0, 3_000)
    cur = rng.integers(2, 11, 7_000) if integer else rng.gamma(2.2, 2.0, 7_000)
    combined = np.concatenate([ref, cur])
    expected = np.histogram_bin_edges(combined, bins="sturges")
    edges = st.sturges_edges(float(combined.min()), float(combined.max()), combined.size, integer)
    np.testing.assert_array_equal(edges, expected)
    cur_sorted = np.sort(cur.astype(np.float64))
    np.testing.assert_array_equal(
        st.histogram_sorted(cur_sorted, edges), np.histogram(cur, edges)[0]
    )


def test_sturges_edges_of_a_constant_column() -> None:
    np.testing.assert_array_equal(
        st.sturges_edges(3.0, 3.0, 100, False), np.histogram_bin_edges(np.full(100, 3.0), "sturges")
    )


def test_jensenshannon_equals_scipy() -> None:
    ref = np.array([120, 0, 33, 7, 840])
    cur = np.array([90, 12, 40, 0, 1_000])
    expected = distance.jensenshannon(ref / ref.sum(), cur / cur.sum())
    assert st.jensenshannon_counts(ref, cur, ref.sum(), cur.sum()) == pytest.approx(
        expected, rel=1e-12
    )


def test_chisquare_new_category_gives_zero_pvalue() -> None:
    """A category never seen in the reference has expected count 0: p-value 0 (Evidently)."""
    assert st.chisquare_pvalue(np.array([50, 50, 0]), np.array([40, 40, 1]), 100, 81) == 0.0
    p = st.chisquare_pvalue(np.array([50, 50]), np.array([45, 55]), 100, 100)
    assert p == pytest.approx(stats.chisquare([45, 55], [50, 50]).pvalue)


def test_ztest_matches_the_two_proportion_formula() -> None:
    # 30% vs 40% "other than first key" on 1,000 rows each.
    p = st.ztest_pvalue(700, 1_000, 600, 1_000, same_single=False)
    pooled = 0.35
    z = (0.3 - 0.4) / np.sqrt(pooled * (1 - pooled) * (2 / 1_000))
    assert p == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)
    assert st.ztest_pvalue(10, 10, 5, 5, same_single=True) == 1.0


def test_finite_sorted_drops_nan_and_infinities() -> None:
    values = np.array([3.0, np.nan, -np.inf, 1.0, np.inf, 2.0, np.nan])
    np.testing.assert_array_equal(st.finite_sorted(values), [1.0, 2.0, 3.0])


def test_value_counts_sorted() -> None:
    values, counts = st.value_counts_sorted(np.array([1.0, 1.0, 2.0, 5.0, 5.0, 5.0]))
    assert values.tolist() == [1.0, 2.0, 5.0]
    assert counts.tolist() == [2, 1, 3]


@pytest.mark.parametrize(
    ("cur", "ref"),
    [
        ([0.0], [1.0]),  # one value each
        ([5.0, 6.0], [1.0, 2.0, 3.0]),  # reference entirely below the current values
        ([1.0, 2.0], [5.0, 5.0, 7.0]),  # reference entirely above, with ties
        ([1.0, 2.0, 2.0, 3.0], [2.0, 2.0]),  # reference values equal to current values
        ([0.0, 10.0], [1.0, 2.0, 3.0, 9.0]),  # several reference values in one gap
    ],
)
def test_wasserstein_edge_layouts(cur: list[float], ref: list[float]) -> None:
    expected = stats.wasserstein_distance(ref, cur)
    got = st.wasserstein_sorted(np.array(cur), np.array(ref))
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-15)
