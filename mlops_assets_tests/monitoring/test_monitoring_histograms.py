"""Reference-versus-current histograms of drifted columns, from the stored profile."""

import io

import numpy as np
import polars as pl
import pytest

from mlops_assets.config.monitoring import DriftConfig
from mlops_assets.monitoring.histograms import MAX_CATEGORIES, drift_histograms, histogram_file
from mlops_assets.monitoring.profile import build_profile


def _bars(figure: object) -> list[float]:
    ax = figure.axes[0]  # type: ignore[attr-defined]
    return [float(p.get_height()) for p in ax.patches]


def test_one_figure_per_known_drifted_column_with_both_sides() -> None:
    rng = np.random.default_rng(3)
    reference = pl.DataFrame(
        {
            "charges": rng.normal(60, 10, 3_000),
            "visits": rng.integers(1, 6, 3_000),
            "contract": rng.choice(["monthly", "yearly", "two_year"], 3_000),
        }
    )
    profile = build_profile(reference, ["charges", "visits"], ["contract"], DriftConfig(), seed=1)
    current = pl.DataFrame(
        {
            "charges": rng.normal(80, 10, 500),
            "visits": np.full(500, 2),
            "contract": ["monthly"] * 500,
        }
    )
    figures = drift_histograms(profile, current, ["charges", "visits", "contract", "unknown"])
    assert list(figures) == ["charges", "visits", "contract"]
    # categorical: shares of reference and current side by side, plus "other"
    contract = _bars(figures["contract"])
    categories = profile.columns["contract"]
    assert categories.kind == "categorical"
    assert len(contract) == 2 * (len(categories.categories) + 1)
    assert sum(contract) == pytest.approx(2.0)
    # few distinct values: shares per value; the current side puts everything on 2
    visits = _bars(figures["visits"])
    assert max(visits[len(visits) // 2 :]) == pytest.approx(1.0)
    # continuous: two density histograms over shared bins
    assert len(figures["charges"].axes[0].patches) == 60
    for figure in figures.values():
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        assert buffer.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"


def test_many_categories_are_capped_and_names_are_safe_files() -> None:
    names = [f"c{i}" for i in range(40)]
    reference = pl.DataFrame({"city": names * 10})
    profile = build_profile(reference, [], ["city"], DriftConfig(), seed=1)
    figures = drift_histograms(profile, pl.DataFrame({"city": ["c1"] * 50}), ["city"])
    assert len(_bars(figures["city"])) == 2 * (MAX_CATEGORIES + 1)
    assert histogram_file("a/b c|d") == "a_b_c_d.png"
