"""Reference-versus-current histograms of drifted columns, for the drift asset's page.

The reference side comes from the profile stored with the model (the numeric sample, the
category counts), the current side from a bounded sample of the day: nothing re-reads the
training data. Figures are :class:`matplotlib.figure.Figure` objects built without pyplot.
"""

from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from mlops_assets.monitoring.profile import (
    CategoricalProfile,
    NumericProfile,
    ReferenceProfile,
    category_strings,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MAX_CATEGORIES = 15
"""Categories shown per column (the most frequent of the reference; the rest are summed)."""


def histogram_file(column: str) -> str:
    """The file name of a column's histogram (safe for an artifact path)."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in column)
    return f"{safe}.png"


def drift_histograms(
    reference: ReferenceProfile, current: pl.DataFrame, columns: list[str]
) -> dict[str, "Figure"]:
    """One figure per column of ``columns`` that both the profile and ``current`` have."""
    figures: dict[str, Figure] = {}
    for column in columns:
        if column not in reference.columns or column not in current.columns:
            continue
        profile = reference.columns[column]
        if isinstance(profile, NumericProfile):
            figures[column] = _numeric(column, profile, current.get_column(column))
        else:
            figures[column] = _categorical(column, profile, current.get_column(column))
    return figures


def _axes(column: str) -> tuple["Figure", Any]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3.6), layout="constrained")
    ax = fig.subplots()
    ax.set_title(f"{column}: training reference vs this day", fontsize=9)
    return fig, ax


def _numeric(column: str, profile: NumericProfile, current: pl.Series) -> "Figure":
    values = current.cast(pl.Float64).to_numpy()
    values = values[np.isfinite(values)]
    ref = np.asarray(profile.sample, dtype=float)
    fig, ax = _axes(column)
    if profile.values is not None and profile.value_counts is not None:  # few distinct values
        support = sorted(set(profile.values) | set(np.unique(values).tolist()))
        positions = np.arange(len(support))
        ref_counts = dict(zip(profile.values, profile.value_counts, strict=True))
        ref_share = np.array([ref_counts.get(v, 0) for v in support]) / max(profile.n_valid, 1)
        cur_values, cur_counts = np.unique(values, return_counts=True)
        cur_map = dict(zip(cur_values.tolist(), cur_counts.tolist(), strict=True))
        cur_share = np.array([cur_map.get(v, 0) for v in support]) / max(len(values), 1)
        ax.bar(positions - 0.2, ref_share, width=0.4, label="reference", alpha=0.8)
        ax.bar(positions + 0.2, cur_share, width=0.4, label="current", alpha=0.8)
        ax.set_xticks(positions, [f"{v:g}" for v in support])
    else:
        both = np.concatenate([ref, values]) if len(values) else ref
        edges = np.histogram_bin_edges(both, bins=30)
        ax.hist(ref, bins=edges, density=True, alpha=0.55, label="reference")
        if len(values):
            ax.hist(values, bins=edges, density=True, alpha=0.55, label="current")
    ax.set_ylabel("share" if profile.values is not None else "density")
    ax.legend(fontsize=8)
    return fig


def _categorical(column: str, profile: CategoricalProfile, current: pl.Series) -> "Figure":
    shown = profile.categories[:MAX_CATEGORIES]
    ref_counts = dict(zip(profile.categories, profile.counts, strict=True))
    cur = category_strings(current).drop_nulls()
    counts = cur.value_counts(name="__n__")
    cur_counts = dict(zip(counts[cur.name].to_list(), counts["__n__"].to_list(), strict=True))
    labels = [*shown, "other"]
    ref_share = [ref_counts.get(c, 0) / max(profile.n_valid, 1) for c in shown]
    cur_share = [cur_counts.get(c, 0) / max(cur.len(), 1) for c in shown]
    ref_share.append(max(0.0, 1 - sum(ref_share)))
    cur_share.append(max(0.0, 1 - sum(cur_share)))
    positions = np.arange(len(labels))
    fig, ax = _axes(column)
    ax.bar(positions - 0.2, ref_share, width=0.4, label="reference", alpha=0.8)
    ax.bar(positions + 0.2, cur_share, width=0.4, label="current", alpha=0.8)
    ax.set_xticks(positions, labels, rotation=45 if len(labels) > 5 else 0, fontsize=8)
    ax.set_ylabel("share")
    ax.legend(fontsize=8)
    return fig
