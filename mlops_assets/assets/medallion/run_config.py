"""Run configuration of the medallion layers: bronze, silver and gold, for one run.

- bronze: which landing files to take (``all`` reprocesses the partition from every file of the
  day; ``new`` reads only files not ingested yet, without opening the others, and keeps the rows
  already ingested as they were).
- silver: ``audit_only`` (stage and run every check, publish nothing) and per-rule threshold
  overrides, each with a reason. Rule names are the dataset's check names (a ``Literal``, so a
  misspelt rule is rejected when the run is launched, and so is an override without its
  ``reason``). Overrides apply to a copy of the dataset config; the YAML is untouched.
- gold: ``as_of``, a cut-off on the event time of the inputs that carry one (silver tables, and
  gold tables that keep their source's time column, e.g. a latest-per-key table feeding a join).
"""

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, create_model

from mlops_assets.assets.run_config import AS_OF_DESCRIPTION, AsOf, AsOfRunConfig, RunConfigBase
from mlops_assets.config.datasets import DatasetConfig
from mlops_assets.config.tables import AggregateTable, GoldTable, JoinTable
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.engines.frames import LazyFrame, to_polars
from mlops_assets.storage.lakehouse import Lakehouse

if TYPE_CHECKING:
    import polars as pl

    from mlops_assets.storage.landing import LandingBatch

LandingSelection = Literal["all", "new"]


class BronzeRunConfig(RunConfigBase):
    """Knobs of one bronze run: which landing files of the day are read."""

    landing_files: LandingSelection = Field(
        default="all",
        description="`all`: reprocess the partition from every landing file of the day "
        "(as configured); `new`: read only files not ingested into this partition yet and keep "
        "the rows already ingested, with their original lineage (late files).",
    )


class RuleOverrideBase(RunConfigBase):
    """One rule's threshold for this run."""

    rule: str = Field(description="Check name of the rule (as shown in the UI).")
    max_failure_fraction: float = Field(
        ge=0.0, le=1.0, description="Failing fraction at or below which the rule passes."
    )
    reason: str = Field(
        min_length=1, pattern=r"\S", description="Why this run judges the rule differently."
    )


class SilverRunConfigBase(RunConfigBase):
    """What every dataset's silver run configuration has."""

    audit_only: bool = Field(
        default=False,
        description="Stage the partition and run every check, but publish nothing (silver and "
        "quarantine keep their current version; the staged copy is kept for inspection).",
    )
    rule_overrides: list[RuleOverrideBase] = Field(
        default_factory=list, description="Per-rule thresholds for this run."
    )

    def dataset(self, ds: DatasetConfig) -> DatasetConfig:
        """``ds`` with this run's thresholds (implied not-null rules become explicit)."""
        if not self.rule_overrides:
            return ds
        changed = {o.rule: o.max_failure_fraction for o in self.rule_overrides}
        rules = [
            r.model_copy(update={"max_failure_fraction": changed[r.check_name]})
            if r.check_name in changed
            else r
            for r in ds.all_rules()
            if r in ds.rules or r.check_name in changed
        ]
        return ds.model_copy(update={"rules": rules})


def silver_run_config(ds: DatasetConfig) -> type[SilverRunConfigBase]:
    """The silver asset's run configuration for dataset ``ds``."""
    names = tuple(r.check_name for r in ds.all_rules())
    rule_type: Any = Literal[names] if names else str
    override: Any = create_model(
        f"{ds.name.title().replace('_', '')}RuleOverride",
        __base__=RuleOverrideBase,
        rule=(rule_type, Field(description=f"Check name of the rule: {', '.join(names)}.")),
    )
    silver: type[SilverRunConfigBase] = create_model(
        f"{ds.name.title().replace('_', '')}SilverRunConfig",
        __base__=SilverRunConfigBase,
        audit_only=(
            bool,
            Field(
                default=False,
                description="Stage the partition and run every check, but publish nothing "
                "(silver and quarantine keep their current version; the staged copy is kept for "
                "inspection).",
            ),
        ),
        rule_overrides=(
            list[override],
            Field(
                default=[],  # a default Dagster shows in the launchpad (pydantic copies it)
                description="Per-rule `max_failure_fraction` for this run, each with a required "
                "`reason`; other rules keep their YAML threshold.",
            ),
        ),
    )
    return silver


class GoldRunConfigBase(AsOfRunConfig):
    """What every gold table's run configuration has."""

    def cut(self, inputs: dict[str, LazyFrame], event_times: dict[str, str]) -> dict[str, Any]:
        """``inputs`` with the silver ones cut at ``as_of`` on their event-time column."""
        import narwhals as nw

        as_of: datetime | None = self.as_of_time()
        if as_of is None:
            return dict(inputs)
        return {
            ref: frame.filter(nw.col(event_times[ref]) <= as_of) if ref in event_times else frame
            for ref, frame in inputs.items()
        }


def _time_column(uc: UseCaseConfig, ref: str, depth: int = 0) -> str | None:
    """The event-time column the table ``ref`` carries, or None.

    A silver table has its dataset's ``event_time``. A gold table carries its source's time
    column when it keeps it: a latest table keeps every column, an aggregate only its
    ``group_by`` columns, a join its left table's columns (those in ``select``, if set).
    """
    layer, _, name = ref.partition(".")
    if layer == "silver":
        ds = next((d for d in uc.datasets if d.name == name), None)
        return ds.event_time if ds is not None and ds.event_time else None
    table = next((t for t in uc.gold if t.name == name), None)
    if layer != "gold" or table is None or depth > len(uc.gold):
        return None
    if isinstance(table, JoinTable):
        column = _time_column(uc, table.left, depth + 1)
        kept = table.select is None or column in table.select
        return column if kept else None
    column = _time_column(uc, table.source, depth + 1)
    if isinstance(table, AggregateTable) and column not in table.group_by:
        return None
    return column


def gold_event_times(uc: UseCaseConfig, table: GoldTable) -> dict[str, str]:
    """The gold table's inputs that carry an event time (silver, or gold keeping one), with it."""
    sources = [table.left, table.right] if isinstance(table, JoinTable) else [table.source]
    times: dict[str, str] = {}
    for ref in sources:
        column = _time_column(uc, ref)
        if column:
            times[ref] = column
    return times


def gold_run_config(uc: UseCaseConfig, table: GoldTable) -> type[GoldRunConfigBase]:
    """The gold table's run configuration (an ``as_of`` only where an input carries a time)."""
    times = gold_event_times(uc, table)
    fields: dict[str, Any] = {}
    if times:
        cut = ", ".join(f"`{ref}`.`{col}`" for ref, col in sorted(times.items()))
        chain = (
            " Gold inputs are cut as they are read: give the gold tables they come from the "
            "same `as_of` in the same run to recompute the whole chain as it stood."
            if any(ref.startswith("gold.") for ref in times)
            else ""
        )
        fields["as_of"] = (
            AsOf,
            Field(
                default="",
                description=f"Recompute the day as it stood at this time: rows of {cut} stamped "
                f"later are left out.{chain} {AS_OF_DESCRIPTION}",
            ),
        )
    config: type[GoldRunConfigBase] = create_model(
        f"{table.name.title().replace('_', '')}GoldRunConfig",
        __base__=GoldRunConfigBase,
        **fields,
    )
    return config


def already_ingested(house: Lakehouse, bronze: str, files: str, partition: str) -> "pl.DataFrame":
    """The landing-files rows of ``partition`` recorded as ``ingested`` (``landing_files: new``).

    Empty when the partition has no bronze rows yet (nothing to keep: every file is read).
    """
    import narwhals as nw
    import polars as pl

    if not (house.exists(files) and house.exists(bronze)):
        return pl.DataFrame(schema={"file": pl.String})
    return to_polars(house.scan(files, [partition]).filter(nw.col("status") == "ingested"))


def keep_ingested(
    house: Lakehouse, bronze: str, partition: str, batch: "LandingBatch", before: "pl.DataFrame"
) -> "LandingBatch":
    """``batch`` (read without the files of ``before``) plus what those files brought before.

    Files the partition's landing-files table records as ingested (``before``, see
    :func:`already_ingested`) were not opened again; their rows come from the bronze partition as
    it is (original ``_ingested_at`` and ``_batch_id``) and their records are kept, with a note.
    """
    import narwhals as nw
    import polars as pl

    from mlops_assets.storage.landing import LandingFile

    kept = set(before["file"].to_list())
    if not kept:
        return batch
    rows = to_polars(house.scan(bronze, [partition]).filter(nw.col("_source_file").is_in(kept)))
    frame = pl.concat([batch.frame, rows], how="diagonal_relaxed").select(
        *batch.frame.columns, *[c for c in rows.columns if c not in batch.frame.columns]
    )
    previous = [
        LandingFile(
            file=r["file"],
            status="ingested",
            rows=int(r["rows"] or 0),
            format=r["format"] or "",
            reason=f"kept from batch {r['_batch_id']} (landing_files: new)",
            missing_columns=[c for c in (r["missing_columns"] or "").split(", ") if c],
        )
        for r in before.iter_rows(named=True)
    ]
    return batch.model_copy(update={"frame": frame, "records": previous + batch.records})
