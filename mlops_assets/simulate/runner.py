"""Run a simulation: generate every day, write customers and (delayed) labels landing files."""

import datetime as dt
import time
from pathlib import Path

import numpy as np
from pydantic import Field

from mlops_assets.config.base import StrictModel
from mlops_assets.data import load_wa_churn
from mlops_assets.simulate.config import SimulationConfig
from mlops_assets.simulate.generate import build_labels, generate_day, prepare_base
from mlops_assets.simulate.layout import landing_file, write_atomic


class DaySummary(StrictModel):
    """What was written for one simulated day."""

    day_index: int = Field(description="1-based day number within the simulation.")
    date: dt.date = Field(description="Calendar date of the day.")
    rows_written: int = Field(description="Rows in the customers file (observations + duplicates).")
    observations: int = Field(description="Distinct observations of the day (bad ones included).")
    bad_rows: int = Field(description="Observations broken on purpose.")
    duplicates: int = Field(description="Exact re-sent copies appended to the customers file.")
    drifted_columns: list[str] = Field(description="Columns under an active drift that day.")
    label_rows: int = Field(description="Rows in that day's labels file (0 when none was written).")
    customers_file: Path = Field(description="The customers landing file.")
    labels_file: Path | None = Field(description="The labels landing file, if one landed that day.")


class SimulationSummary(StrictModel):
    """The outcome of `simulate`: per-day counts, files written and time taken."""

    config: SimulationConfig = Field(description="The configuration that was run.")
    data_dir: Path = Field(description="Root data directory the landing files were written under.")
    days: list[DaySummary] = Field(description="One entry per simulated day, in order.")
    files_written: list[Path] = Field(description="Every landing file written, in write order.")
    rows_written: int = Field(description="Customers rows written over all days.")
    seconds: float = Field(description="Wall-clock duration of the run.")

    @property
    def rows_per_second(self) -> float:
        """Customers rows written per second of wall-clock time."""
        return self.rows_written / self.seconds if self.seconds > 0 else float("inf")


def simulate(config: SimulationConfig, data_dir: Path) -> SimulationSummary:
    """Write `config.days` daily landing files under `data_dir/landing/<use_case>/`.

    Day d gets `customers_<date>` (its observations, faults and duplicates) and, when
    d > label_delay_days, `labels_<date>` with the labels of day d - label_delay_days's
    observations. The same config always writes the same rows, replacing earlier files.
    Raises StorageError when a file cannot be written.
    """
    started = time.perf_counter()
    base = prepare_base(load_wa_churn(), config)
    fmt, delay = config.file_format, config.label_delay_days
    pending: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    days: list[DaySummary] = []
    files: list[Path] = []
    for day_index in range(1, config.days + 1):
        date = config.date_of(day_index)
        batch = generate_day(base, config, day_index)
        customers_path = landing_file(data_dir, config.use_case, "customers", date, fmt)
        write_atomic(batch.customers, customers_path, fmt)
        files.append(customers_path)
        if day_index + delay <= config.days:
            pending[day_index + delay] = (batch.label_rows, batch.label_event_us)

        labels_path: Path | None = None
        label_rows = 0
        if day_index in pending:
            rows, event_us = pending.pop(day_index)
            labels = build_labels(base, rows, event_us, date)
            labels_path = landing_file(data_dir, config.use_case, "labels", date, fmt)
            write_atomic(labels, labels_path, fmt)
            files.append(labels_path)
            label_rows = labels.height

        days.append(
            DaySummary(
                day_index=day_index,
                date=date,
                rows_written=batch.customers.height,
                observations=batch.observations,
                bad_rows=batch.bad_rows,
                duplicates=batch.duplicates,
                drifted_columns=list(batch.drifted_columns),
                label_rows=label_rows,
                customers_file=customers_path,
                labels_file=labels_path,
            )
        )
    return SimulationSummary(
        config=config,
        data_dir=data_dir,
        days=days,
        files_written=files,
        rows_written=sum(d.rows_written for d in days),
        seconds=time.perf_counter() - started,
    )
