"""The base table of an observation dataset: the typed rows each simulated day samples from.

From a source table, declared columns come from the matched source columns (cast to the declared
type) and the rest is synthesized; without a source every column is synthesized for
`config.entities` entities. The entity id is the source's when it has one, else generated (ids fit
the column's regex rule). The event-time column is not part of the base: it is generated per day.
"""

import difflib
from dataclasses import dataclass

import polars as pl

from mlops_assets.errors import ConfigError
from mlops_assets.simulate.config import SimulationConfig
from mlops_assets.simulate.domains import ColumnFacts, synthesize
from mlops_assets.simulate.sources import SourceTable, cast_column, match_columns
from mlops_assets.simulate.streams import Stream, rng_for


@dataclass(frozen=True)
class BaseSpec:
    """What one observation dataset's base table holds."""

    dataset: str
    stream: int
    facts: dict[str, ColumnFacts]
    columns: list[str]  # declared columns except the generated event time
    entity: str | None
    entity_pool: pl.Series | None = None  # ids of the primary dataset, for secondary datasets
    replay_order: tuple[str, ...] = ()


@dataclass(frozen=True)
class BaseTable:
    """The base rows, which columns came from the source, and whether rows replay in order."""

    frame: pl.DataFrame
    from_source: tuple[str, ...]
    replay: bool


def build_base(
    spec: BaseSpec, source: SourceTable, config: SimulationConfig, time: str | None
) -> BaseTable:
    """The typed base table of one observation dataset (see the module docstring)."""
    frame = source.frame
    height = frame.height if frame is not None else config.entities
    matched: dict[str, str] = {}
    if frame is not None:
        specs = {name: fact.spec for name, fact in spec.facts.items()}
        matched = match_columns(frame, spec.columns, specs, config.column_map)
    columns: list[pl.Series] = []
    for position, name in enumerate(spec.columns):
        fact = spec.facts[name]
        if frame is not None and name in matched:
            columns.append(cast_column(frame[matched[name]], fact.dtype, name, source.label))
            continue
        rng = rng_for(config.seed, 0, Stream.BASE + position, spec.stream)
        if name == spec.entity and spec.entity_pool is not None:
            picks = rng.integers(0, spec.entity_pool.len(), height)
            columns.append(spec.entity_pool.gather(pl.Series(picks)).alias(name))
        else:
            today = config.start_date
            columns.append(synthesize(fact, height, rng, today, unique=name == spec.entity))
    base = pl.DataFrame(columns)
    order = list(spec.replay_order)
    if not order and frame is not None and time is not None:
        specs = {n: f.spec for n, f in spec.facts.items()}
        found = match_columns(frame, [time], specs, config.column_map)
        order = [found[time]] if time in found else []
    if order and frame is not None:
        missing = [c for c in order if c not in frame.columns]
        if missing:
            close = difflib.get_close_matches(missing[0], frame.columns, n=3)
            raise ConfigError(
                f"replay column {missing[0]!r} is not in the source",
                context={"source": source.label, "did_you_mean": close},
                fix=f"use source columns for --replay-order; closest: {close or frame.columns[:5]}",
            )
        rank = frame.select(pl.int_range(pl.len()).sort_by(order, maintain_order=True)).to_series()
        base = base.gather(rank)
    return BaseTable(
        frame=base, from_source=tuple(n for n in spec.columns if n in matched), replay=bool(order)
    )


def with_enums(frame: pl.DataFrame, extra: dict[str, set[str]]) -> pl.DataFrame:
    """Text columns as Enums (fast gathers at 10M rows) holding every value that may be written."""
    text = [c for c, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(
        pl.col(c).cast(
            pl.Enum(sorted(set(frame[c].drop_nulls().unique().to_list()) | extra.get(c, set())))
        )
        for c in text
    )
