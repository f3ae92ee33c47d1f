"""Which dataset holds the observations and which the labels; the entity and event-time columns."""

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from mlops_assets.config.datasets import DatasetConfig
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.errors import ConfigError
from mlops_assets.simulate.config import SimulationConfig

TIME_TYPES = ("date", "datetime")


@dataclass(frozen=True)
class Roles:
    """The roles the simulator gives a use case's datasets and columns."""

    primary: str
    labels: str | None
    label: str | None
    label_timestamp: str | None
    entity: str | None
    time: str | None

    @staticmethod
    def time_of(dataset: DatasetConfig) -> str | None:
        """A dataset's generated time column: its event_time, else its first date/datetime key."""
        dtypes = {c.name: c.dtype for c in dataset.columns}
        if dataset.event_time is not None and dtypes.get(dataset.event_time) in TIME_TYPES:
            return dataset.event_time
        return next((k for k in dataset.keys if dtypes.get(k) in TIME_TYPES), None)


def unknown(kind: str, name: str, known: Sequence[str], where: str) -> ConfigError:
    """A ConfigError for an unknown name, with the closest known ones."""
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return ConfigError(
        f"unknown {kind} {name!r} in {where}{hint}",
        context={"known": sorted(known)},
        fix=f"use one of the known {kind}s" + (f", e.g. {close[0]!r}" if close else ""),
    )


def _silver_name(table: str, uc: UseCaseConfig, seen: set[str] | None = None) -> str | None:
    """The silver dataset a `silver.x` / `gold.y` table is built from (a join's left side)."""
    layer, _, name = table.partition(".")
    if layer == "silver":
        return name if any(d.name == name for d in uc.datasets) else None
    seen = seen or set()
    gold = next((g for g in uc.gold if g.name == name), None)
    if gold is None or name in seen:
        return None
    seen.add(name)
    upstream = gold.left if gold.type == "join" else gold.source
    return _silver_name(upstream, uc, seen)


def find_roles(uc: UseCaseConfig, config: SimulationConfig) -> Roles:
    """The roles of `uc`'s datasets, honouring `config.entity_column` / `timestamp_column`."""
    datasets = {d.name: d for d in uc.datasets}
    ts = uc.training_set
    from_silver = ts is not None and ts.labels.startswith("silver.")
    labels = _silver_name(ts.labels, uc) if ts is not None and from_silver else None
    label = ts.label_column if ts is not None and labels is not None else None
    if labels is not None and label is not None:
        declared = [c.name for c in datasets[labels].columns]
        if label not in declared:
            raise unknown(
                "column", label, declared, f"training_set.label_column (dataset {labels!r})"
            )
    primary = None
    if ts is not None:
        feature_table = next((f for f in uc.feature_tables if f.name == ts.feature_table), None)
        if feature_table is not None:
            primary = _silver_name(feature_table.source, uc)
    if primary is None or primary == labels:
        primary = next((n for n in datasets if n != labels), None)
    if primary is None:
        raise ConfigError(
            f"use case {uc.name!r} has no dataset of observations besides its labels",
            fix="declare the dataset the features are computed from",
        )
    ds = datasets[primary]
    columns = {c.name: c.dtype for c in ds.columns}
    time = config.timestamp_column or Roles.time_of(ds)
    if config.timestamp_column is not None:
        if time not in columns:
            raise unknown(
                "column",
                config.timestamp_column,
                list(columns),
                f"--timestamp-column (dataset {primary!r})",
            )
        if columns[config.timestamp_column] not in TIME_TYPES:
            dtype = columns[config.timestamp_column]
            raise ConfigError(
                f"--timestamp-column {time!r} is {dtype}, not a date or datetime",
                fix="name a date or datetime column of the observations",
            )
    entity = config.entity_column
    if entity is not None and entity not in columns:
        raise unknown("column", entity, list(columns), f"--entity-column (dataset {primary!r})")
    if entity is None:
        declared_keys = [uc.model.entity_key] if uc.model is not None else []
        declared_keys += [
            f.entity_key for f in uc.feature_tables if f.source == f"silver.{primary}"
        ]
        declared_keys += [k for k in ds.keys if k != time]
        entity = next((k for k in declared_keys if k in columns and k != time), None)
    return Roles(
        primary=primary,
        labels=labels,
        label=label,
        label_timestamp=ts.label_timestamp if ts is not None and labels is not None else None,
        entity=entity,
        time=time,
    )
