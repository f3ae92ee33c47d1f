"""PSI with additive smoothing: finite on empty bins, zero on identical data, size-aware."""

import math

import numpy as np
import polars as pl
import pytest

from mlops_assets.config.monitoring import DriftConfig
from mlops_assets.monitoring.profile import build_profile
from mlops_assets.monitoring.statistics import compute_drift
from mlops_assets.monitoring.stattests import PSI_SMOOTHING, psi_smoothed

PSI = DriftConfig(default_numeric_method="psi", default_categorical_method="psi", min_rows=10)


def _psi_by_hand(ref: list[int], cur: list[int], alpha: float) -> float:
    """The smoothed PSI written out term by term (independent of the vectorised code)."""
    total = 0.0
    kept = [(r, c) for r, c in zip(ref, cur, strict=True) if r + c > 0]
    ref, cur = [r for r, _ in kept], [c for _, c in kept]
    nr, nc, b = sum(ref), sum(cur), len(ref)
    for r, c in zip(ref, cur, strict=True):
        p = (r + alpha) / (nr + alpha * b)
        q = (c + alpha) / (nc + alpha * b)
        total += (q - p) * math.log(q / p)
    return total


def test_empty_bin_gives_finite_psi_equal_to_formula() -> None:
    ref, cur = [100, 300, 400, 200], [0, 350, 450, 200]
    value = psi_smoothed(np.array(ref), np.array(cur))
    assert math.isfinite(value)
    assert value == pytest.approx(_psi_by_hand(ref, cur, PSI_SMOOTHING), rel=1e-12)
    # Without smoothing the empty bin makes PSI infinite.
    p, q = np.array(ref) / sum(ref), np.array(cur) / sum(cur)
    with np.errstate(divide="ignore"):
        raw = np.sum((q - p) * np.log(q / p))
    assert raw == math.inf


def test_identical_distributions_have_near_zero_psi() -> None:
    """Same shares, and a bin empty on both sides (ignored): smoothing leaves PSI at ~0."""
    value = psi_smoothed(np.array([500, 1_000, 0, 8_500]), np.array([5_000, 10_000, 0, 85_000]))
    assert 0.0 <= value < 1e-6


def test_smoothing_is_sample_size_aware() -> None:
    """An emptied bin weighs more when many rows confirm it is empty (not a fixed 1e-4 fill)."""
    ref = np.array([250, 250, 250, 250])
    small = psi_smoothed(ref, np.array([0, 10, 10, 10]))
    large = psi_smoothed(ref, np.array([0, 100_000, 100_000, 100_000]))
    assert small < large


def test_numeric_psi_uses_reference_quantile_bins() -> None:
    rng = np.random.default_rng(0)
    reference = pl.DataFrame({"x": rng.normal(0, 1, 20_000)})
    profile = build_profile(reference, ["x"], [], PSI, seed=0)
    prof = profile.columns["x"]
    assert prof.kind == "numeric"
    # Deciles: 9 interior edges, ~2,000 training rows per bin.
    assert len(prof.psi_edges) == 9
    assert all(abs(c - 2_000) <= 1 for c in prof.psi_counts)
    same = compute_drift(pl.DataFrame({"x": rng.normal(0, 1, 20_000)}), profile, PSI)
    assert same.columns[0].statistic is not None and same.columns[0].statistic < 0.01
    assert not same.columns[0].drifted
    shifted = rng.normal(0.5, 1, 20_000)
    col = compute_drift(pl.DataFrame({"x": shifted}), profile, PSI).columns[0]
    assert col.drifted
    # Independent check: bin the current data with numpy and apply the formula by hand.
    counts = np.histogram(shifted, bins=[-np.inf, *prof.psi_edges, np.inf])[0]
    expected = _psi_by_hand(prof.psi_counts, counts.tolist(), PSI_SMOOTHING)
    assert col.statistic == pytest.approx(expected, rel=1e-9)


def test_categorical_psi_counts_unseen_categories() -> None:
    reference = pl.DataFrame({"c": ["a"] * 600 + ["b"] * 400})
    profile = build_profile(reference, [], ["c"], PSI)
    current = pl.DataFrame({"c": ["a"] * 500 + ["b"] * 300 + ["new"] * 200})
    col = compute_drift(current, profile, PSI).columns[0]
    expected = _psi_by_hand([600, 400, 0], [500, 300, 200], PSI_SMOOTHING)
    assert col.statistic == pytest.approx(expected, rel=1e-12)
    assert col.drifted
