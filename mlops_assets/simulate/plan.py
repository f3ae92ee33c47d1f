"""Plan a simulation: which dataset plays which role, from which rows, with which faults.

Roles come from the use case: the labels dataset is the one `training_set.labels` names (its rows
arrive `label_delay_days` late and reference earlier observations); the primary observations are
the silver dataset the training feature table is built from (through gold tables if need be);
every other dataset is observed daily too, sharing the primary's entity ids.
"""

from dataclasses import dataclass

import polars as pl

from mlops_assets.config.datasets import DatasetConfig
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.errors import ConfigError
from mlops_assets.simulate.base import BaseSpec, build_base, with_enums
from mlops_assets.simulate.config import SimulationConfig
from mlops_assets.simulate.defects import Defect, derive_defects
from mlops_assets.simulate.domains import ColumnFacts, column_facts
from mlops_assets.simulate.drift import DriftTarget, resolve_drifts
from mlops_assets.simulate.labels import infer_task, synthesize_labels
from mlops_assets.simulate.noise import NoisePlan, generic_plan, wa_churn_plan
from mlops_assets.simulate.roles import Roles, find_roles, unknown
from mlops_assets.simulate.rulecheck import failing, value_rules
from mlops_assets.simulate.sources import SourceTable, resolve_source
from mlops_assets.simulate.streams import Stream, dataset_stream, rng_for


@dataclass(frozen=True)
class DatasetPlan:
    """How one dataset's daily files are made."""

    config: DatasetConfig
    stream: int  # 0: the primary observations (legacy random streams)
    is_labels: bool
    facts: dict[str, ColumnFacts]
    entity: str | None
    time: str | None
    base: pl.DataFrame | None  # None for the labels dataset
    replay: bool
    noise: NoisePlan
    defects: tuple[Defect, ...]
    drifts: tuple[DriftTarget, ...]
    bad_rate: float
    duplicate_rate: float
    file_format: str

    @property
    def name(self) -> str:
        return self.config.name


@dataclass(frozen=True)
class SimulationPlan:
    """Everything `simulate` needs, validated against the use case."""

    config: SimulationConfig
    use_case: UseCaseConfig
    source: str
    roles: Roles
    datasets: tuple[DatasetPlan, ...]

    @property
    def primary(self) -> DatasetPlan:
        return next(d for d in self.datasets if d.name == self.roles.primary)

    @property
    def labels(self) -> DatasetPlan | None:
        return next((d for d in self.datasets if d.is_labels), None)


def plan_simulation(config: SimulationConfig, uc: UseCaseConfig) -> SimulationPlan:
    """Validate `config` against `uc` and build every dataset's plan; ConfigError with a fix."""
    if config.use_case != uc.name:
        raise ConfigError(
            f"the simulation is for use case {config.use_case!r} but {uc.name!r} was given",
            fix="set SimulationConfig.use_case to the use case's name",
        )
    names = [d.name for d in uc.datasets]
    for name in [*config.dataset_bad_row_rates, *config.dataset_duplicate_rates]:
        if name not in names:
            raise unknown("dataset", name, names, "a per-dataset rate")
    source = resolve_source(config.source, uc.name)
    roles = find_roles(uc, config)
    facts = {d.name: column_facts(d) for d in uc.datasets}
    drifts = resolve_drifts(config.drift, facts, roles)
    extra = {d: {t.column: {str(t.value)} for t in ts if t.enum_value} for d, ts in drifts.items()}
    plans: list[DatasetPlan] = []
    pool: pl.Series | None = None
    order = [roles.primary] + [n for n in names if n != roles.primary]
    by_config = {d.name: d for d in uc.datasets}
    for name in order:
        ds = by_config[name]
        stream = 0 if name == roles.primary else dataset_stream(name)
        is_labels = name == roles.labels
        entity = roles.entity if roles.entity in facts[name] else None
        time = roles.time if name == roles.primary else roles.time_of(ds)
        bad, dup = config.rates(name, is_labels)
        fmt = config.file_format or ds.source.format
        if is_labels:
            plans.append(
                DatasetPlan(
                    config=ds,
                    stream=stream,
                    is_labels=True,
                    facts=facts[name],
                    entity=entity,
                    time=ds.event_time,
                    base=None,
                    replay=False,
                    noise=NoisePlan(),
                    defects=tuple(derive_defects(facts[name])),
                    drifts=tuple(drifts.get(name, [])),
                    bad_rate=bad,
                    duplicate_rate=dup,
                    file_format=fmt,
                )
            )
            continue
        columns = [c.name for c in ds.columns if c.name != time]
        label_facts = None
        if name == roles.primary and roles.labels is not None and roles.label is not None:
            label_facts = facts[roles.labels][roles.label]
        if label_facts is not None and label_facts.name not in columns:
            columns.append(label_facts.name)
        spec = BaseSpec(
            dataset=name,
            stream=stream,
            facts={**facts[name], **({label_facts.name: label_facts} if label_facts else {})},
            columns=columns,
            entity=entity,
            entity_pool=pool,
            replay_order=tuple(config.replay_order) if name == roles.primary else (),
        )
        table = build_base(spec, source, config, time)
        base = table.frame if source.frame is not None else _satisfying(table.frame, ds)
        if label_facts is not None and label_facts.name not in table.from_source:
            base = base.with_columns(_synthetic_labels(base, label_facts, spec, uc, config))
        if name == roles.primary and entity is not None:
            pool = base[entity].unique(maintain_order=True)
        noise = _noise(
            base,
            facts[name],
            source,
            config,
            is_primary=name == roles.primary,
            fixed={*ds.keys, *(c for c in (entity, time) if c)},
        )
        plans.append(
            DatasetPlan(
                config=ds,
                stream=stream,
                is_labels=False,
                facts=facts[name],
                entity=entity,
                time=time,
                base=with_enums(base, extra.get(name, {})),
                replay=table.replay,
                noise=noise,
                defects=noise.defects or tuple(derive_defects(facts[name])),
                drifts=tuple(drifts.get(name, [])),
                bad_rate=bad,
                duplicate_rate=dup,
                file_format=fmt,
            )
        )
    by_name = {p.name: p for p in plans}
    return SimulationPlan(
        config=config,
        use_case=uc,
        source=source.label,
        roles=roles,
        datasets=tuple(by_name[n] for n in names),
    )


def _noise(
    base: pl.DataFrame,
    facts: dict[str, ColumnFacts],
    source: SourceTable,
    config: SimulationConfig,
    is_primary: bool,
    fixed: set[str],
) -> NoisePlan:
    if source.shipped == "wa_churn" and is_primary:
        churn = wa_churn_plan(facts)
        if churn is not None:
            return churn
    return generic_plan(base, facts, fixed, config.noise, config.resample_rate)


def _synthetic_labels(
    base: pl.DataFrame,
    label: ColumnFacts,
    spec: BaseSpec,
    uc: UseCaseConfig,
    config: SimulationConfig,
) -> pl.Series:
    if label.dtype in ("date", "datetime"):
        raise ConfigError(
            f"cannot synthesize {label.dtype} labels for {label.name!r}",
            fix="pass --source with a label column, or declare the label as a number or a category",
        )
    model = uc.model
    task = infer_task(label, model.task if model is not None else None)
    positive = model.positive_label if model is not None else None
    features = [c for c in spec.columns if c not in (spec.entity, label.name)]
    rng = rng_for(config.seed, 0, Stream.LABEL_COLUMNS, 0)
    return synthesize_labels(base.select(features), features, label, task, positive, rng)


def _satisfying(base: pl.DataFrame, ds: DatasetConfig) -> pl.DataFrame:
    """Synthesized rows that pass every value rule (cross-column SQL rules are not drawn for)."""
    kept = base.filter(~failing(base, value_rules(ds.rules, base.columns)))
    if kept.height == 0:
        raise ConfigError(
            f"no synthesized row of dataset {ds.name!r} satisfies its rules",
            context={"dataset": ds.name, "rules": [r.check_name for r in ds.rules]},
            fix="pass --source with real rows, or loosen the SQL rules",
        )
    return kept
