"""Shared synthetic data for the monitoring tests: a frame with every kind of drift column."""

import numpy as np
import polars as pl
import pytest

NUMERIC = ["num_normal", "num_skewed", "num_count", "num_lowcard", "num_binary"]
CATEGORICAL = ["cat_plan", "cat_region", "cat_flag"]
REGIONS = ["north", "south", "east", "west", "centre", "islands"]


def make_frame(
    n: int,
    seed: int,
    *,
    mean: float = 0.0,
    scale: float = 1.0,
    plan_mix: tuple[float, float, float] = (0.5, 0.3, 0.2),
    flag_p: float = 0.3,
    null_share: float = 0.02,
) -> pl.DataFrame:
    """Numeric (continuous, skewed, counts, 4-valued, binary) and categorical columns.

    ``mean``/``scale`` shift and stretch the continuous columns; ``plan_mix`` and ``flag_p``
    change category mixes. About ``null_share`` of two columns is missing.
    """
    rng = np.random.default_rng(seed)
    normal = rng.normal(mean, scale, n)
    normal[rng.random(n) < null_share] = np.nan
    region = rng.choice(REGIONS, n).astype(object)
    region[rng.random(n) < null_share] = None
    return pl.DataFrame(
        {
            "num_normal": normal,
            "num_skewed": rng.lognormal(0.0, 0.6 * scale, n) + mean,
            "num_count": rng.poisson(20 + 5 * mean, n).astype(np.int64),
            "num_lowcard": rng.integers(0, 4, n).astype(np.float64),
            "num_binary": (rng.random(n) < 0.4).astype(np.float64),
            "cat_plan": rng.choice(["basic", "plus", "pro"], n, p=list(plan_mix)),
            "cat_region": pl.Series(region.tolist(), dtype=pl.String),
            "cat_flag": np.where(rng.random(n) < flag_p, "yes", "no"),
        }
    )


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Local HTTP receivers must be reached directly, whatever proxy the shell sets."""
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
