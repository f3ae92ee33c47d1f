"""The days a demo simulates: the window ending yesterday, its guards, and the record of it
that ``mlops-assets dev`` reads to start the UI's partitions at the first simulated day."""

from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel, Field

from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.errors import ConfigError
from mlops_assets.storage.lakehouse import Lakehouse, TableRef
from mlops_assets.storage.tables import UseCaseTables

MIN_LABELLED_DAYS = 2
"""Labelled days the training set needs (train and validation by time)."""


class DemoWindow(BaseModel):
    """The days a demo simulated: the UI's partitions start at ``first_day``."""

    first_day: date = Field(description="First simulated day.")
    last_day: date = Field(description="Last simulated day.")


def demo_days(days: int, end: date | None = None) -> list[date]:
    """``days`` consecutive days ending at ``end`` (default: yesterday, the last complete UTC
    day, which is the newest daily partition)."""
    last = end or (datetime.now(UTC).date() - timedelta(days=1))
    return [last - timedelta(days=days - 1 - i) for i in range(days)]


def check_days(uc: UseCaseConfig, days: list[date], label_delay_days: int) -> None:
    """Refuse, before anything runs, a window the lifecycle cannot complete."""
    from mlops_assets.assets.keys import PARTITIONS_START_ENV, daily_partitions

    if not days:
        raise ConfigError("the demo needs at least one day", fix="pass --days 1 or more")
    needed = label_delay_days + MIN_LABELLED_DAYS
    if uc.model is not None and len(days) < needed:
        raise ConfigError(
            f"{len(days)} days are too few for use case {uc.name!r}: labels arrive "
            f"{label_delay_days} days after their observations, so {len(days)} days leave "
            f"{max(len(days) - label_delay_days, 0)} labelled days and the training set needs "
            f"{MIN_LABELLED_DAYS}",
            context={"days": len(days), "label_delay_days": label_delay_days},
            fix=f"run the demo with --days {needed} or more",
        )
    valid = set(daily_partitions(uc).get_partition_keys())
    outside = [d.isoformat() for d in days if d.isoformat() not in valid]
    if outside:
        raise ConfigError(
            f"days {outside[0]}..{outside[-1]} are not daily partitions of {uc.name!r} "
            f"(start_date {uc.start_date}, ${PARTITIONS_START_ENV} and today bound them)",
            context={"outside": outside},
            fix=f"pick an --end on or after {uc.start_date} and before today, or unset "
            f"{PARTITIONS_START_ENV}",
        )


def window_ref(uc: UseCaseConfig) -> TableRef:
    """Where the demo records the days it simulated (read by ``mlops-assets dev``)."""
    return UseCaseTables(uc).ref("demo", "window")


def write_window(lakehouse: Lakehouse, uc: UseCaseConfig, window: DemoWindow) -> None:
    path = lakehouse.state_path(window_ref(uc))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(window.model_dump_json(), encoding="utf-8")


def read_window(lakehouse: Lakehouse, uc: UseCaseConfig) -> DemoWindow | None:
    """The days the last demo of ``uc`` simulated, if it ran on this data root."""
    path = lakehouse.state_path(window_ref(uc))
    if not path.is_file():
        return None
    return DemoWindow.model_validate_json(path.read_text(encoding="utf-8"))


def window_row(lakehouse: Lakehouse, ref: TableRef, day: str) -> dict[str, object] | None:
    """The row of monitoring table ``ref`` for window ``day``, if the table and row exist."""
    import narwhals as nw

    from mlops_assets.engines.frames import to_polars

    if not lakehouse.table_exists(ref):
        return None
    rows = to_polars(lakehouse.read_table(ref).filter(nw.col("window") == day)).to_dicts()
    return rows[0] if rows else None
