"""Run a simulation: every day, one landing file per dataset of the use case (labels delayed)."""

import datetime as dt
import time
from pathlib import Path

import polars as pl
from pydantic import Field

from mlops_assets.config.base import StrictModel
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.simulate.config import SimulationConfig
from mlops_assets.simulate.generate import generate_day
from mlops_assets.simulate.label_files import build_labels
from mlops_assets.simulate.layout import landing_file, write_atomic
from mlops_assets.simulate.plan import DatasetPlan, SimulationPlan, plan_simulation


class DatasetDay(StrictModel):
    """What was written for one dataset on one day."""

    dataset: str = Field(description="Dataset name.")
    file: Path | None = Field(description="The landing file, or None when none landed that day.")
    rows_written: int = Field(description="Rows in the file (observations + duplicates).")
    observations: int = Field(description="Distinct rows of the day (bad ones included).")
    bad_rows: int = Field(description="Rows broken on purpose, one defect each.")
    duplicates: int = Field(description="Exact re-sent copies appended to the file.")
    drifted_columns: list[str] = Field(description="Columns under an active drift that day.")


class DaySummary(StrictModel):
    """What was written on one simulated day: every dataset, the observations and labels first."""

    day_index: int = Field(description="1-based day number within the simulation.")
    date: dt.date = Field(description="Calendar date of the day.")
    datasets: dict[str, DatasetDay] = Field(description="Per dataset, in the use case's order.")
    primary: str = Field(description="The observations dataset the labels refer to.")
    labels: str | None = Field(description="The labels dataset, if the use case has one.")

    @property
    def observations_file(self) -> Path:
        """The primary observations file of the day."""
        file = self.datasets[self.primary].file
        assert file is not None  # observations land every day
        return file

    @property
    def labels_file(self) -> Path | None:
        """The labels file of the day, if one landed."""
        return self.datasets[self.labels].file if self.labels is not None else None

    @property
    def rows_written(self) -> int:
        return self.datasets[self.primary].rows_written

    @property
    def observations(self) -> int:
        return self.datasets[self.primary].observations

    @property
    def bad_rows(self) -> int:
        return self.datasets[self.primary].bad_rows

    @property
    def duplicates(self) -> int:
        return self.datasets[self.primary].duplicates

    @property
    def drifted_columns(self) -> list[str]:
        """Drifted columns of every dataset that day (`dataset.column` outside the primary)."""
        out: list[str] = []
        for name, day in self.datasets.items():
            out += [c if name == self.primary else f"{name}.{c}" for c in day.drifted_columns]
        return out

    @property
    def label_rows(self) -> int:
        return self.datasets[self.labels].rows_written if self.labels is not None else 0


class SimulationSummary(StrictModel):
    """The outcome of `simulate`: per-day counts, files written and time taken."""

    config: SimulationConfig = Field(description="The configuration that was run.")
    data_dir: Path = Field(description="Root data directory the landing files were written under.")
    source: str = Field(description="Where the rows came from (shipped table, file, synthetic).")
    days: list[DaySummary] = Field(description="One entry per simulated day, in order.")
    files_written: list[Path] = Field(description="Every landing file written, in write order.")
    rows_written: int = Field(description="Rows written over all days and datasets.")
    seconds: float = Field(description="Wall-clock duration of the run.")

    @property
    def rows_per_second(self) -> float:
        """Rows written per second of wall-clock time."""
        return self.rows_written / self.seconds if self.seconds > 0 else float("inf")


def simulate(
    config: SimulationConfig, data_dir: Path, use_case: UseCaseConfig | None = None
) -> SimulationSummary:
    """Write `config.days` days of landing files for every dataset of the use case.

    `use_case` defaults to `config.use_case` read with `load_project()` (MLOPS_CONFIG_DIR or
    ./configs). Day d gets one file per observation dataset and, when d > label_delay_days, the
    labels of day d - label_delay_days's observations. The same config always writes the same
    rows, replacing earlier files. Raises ConfigError (bad config) or StorageError (write).
    """
    started = time.perf_counter()
    if use_case is None:
        from mlops_assets.config.project import load_project

        use_case = load_project().use_case(config.use_case)
    plan = plan_simulation(config, use_case)
    pending: dict[int, pl.DataFrame] = {}
    days: list[DaySummary] = []
    files: list[Path] = []
    for day_index in range(1, config.days + 1):
        written: dict[str, DatasetDay] = {}
        for dp in plan.datasets:
            if dp.is_labels:
                continue
            batch = generate_day(dp, plan, day_index)
            path = _write(data_dir, plan, dp, batch.frame, day_index, files)
            if batch.pending is not None and day_index + config.label_delay_days <= config.days:
                pending[day_index + config.label_delay_days] = batch.pending
            written[dp.name] = DatasetDay(
                dataset=dp.name,
                file=path,
                rows_written=batch.frame.height,
                observations=batch.observations,
                bad_rows=batch.bad_rows,
                duplicates=batch.duplicates,
                drifted_columns=list(batch.drifted_columns),
            )
        labels = plan.labels
        if labels is not None:
            waiting = pending.pop(day_index, None)
            written[labels.name] = _labels_day(data_dir, plan, labels, waiting, day_index, files)
        days.append(
            DaySummary(
                day_index=day_index,
                date=config.date_of(day_index),
                datasets={d.name: written[d.name] for d in plan.datasets},
                primary=plan.roles.primary,
                labels=labels.name if labels is not None else None,
            )
        )
    return SimulationSummary(
        config=config,
        data_dir=data_dir,
        source=plan.source,
        days=days,
        files_written=files,
        rows_written=sum(d.rows_written for day in days for d in day.datasets.values()),
        seconds=time.perf_counter() - started,
    )


def _labels_day(
    data_dir: Path,
    plan: SimulationPlan,
    labels: DatasetPlan,
    pending: pl.DataFrame | None,
    day_index: int,
    files: list[Path],
) -> DatasetDay:
    if pending is None:
        return DatasetDay(
            dataset=labels.name,
            file=None,
            rows_written=0,
            observations=0,
            bad_rows=0,
            duplicates=0,
            drifted_columns=[],
        )
    broken, drifted = build_labels(labels, plan, pending, day_index)
    path = _write(data_dir, plan, labels, broken.frame, day_index, files)
    return DatasetDay(
        dataset=labels.name,
        file=path,
        rows_written=broken.frame.height,
        observations=broken.kind.size,  # one per labelled observation and key
        bad_rows=broken.bad_rows,
        duplicates=broken.duplicates,
        drifted_columns=drifted,
    )


def _write(
    data_dir: Path,
    plan: SimulationPlan,
    dp: DatasetPlan,
    frame: pl.DataFrame,
    day_index: int,
    files: list[Path],
) -> Path:
    ds = dp.config
    path = landing_file(
        data_dir,
        plan.use_case.name,
        ds.name,
        plan.config.date_of(day_index),
        dp.file_format,
        ds.landing_subdir,
    )
    headers = {c.name: c.source_name for c in ds.columns if c.source_name != c.name}
    write_atomic(frame.rename(headers), path, dp.file_format, ds.source.delimiter)
    files.append(path)
    return path
