"""Start ingestion when landing files arrive or change: each file set is picked up exactly once."""

import hashlib
import json

import dagster as dg

from mlops_assets.assets.keys import daily_partitions
from mlops_assets.automation.jobs import AssetJob
from mlops_assets.config.use_case import UseCaseConfig
from mlops_assets.resources.lakehouse import LakehouseResource


def _fingerprint(entries: list[tuple[str, int, int]]) -> str:
    return hashlib.sha256(json.dumps(entries).encode()).hexdigest()[:16]


_EMPTY = _fingerprint([])


def _state(value: str) -> tuple[int, str]:
    """A day's cursor entry: ``<changes>:<fingerprint>`` (a bare fingerprint: written before the
    change count was kept, counted as change 0)."""
    count, _, fp = value.rpartition(":")
    return (int(count) if count else 0), fp


def build_landing_sensor(uc: UseCaseConfig, job: AssetJob) -> dg.SensorDefinition:
    """Poll ``landing/<use_case>/*/<date>/`` and request the ingestion job per changed day.

    The cursor maps each partition to a fingerprint of its files (name, size, mtime) and the
    number of changes seen; the run key is both, so a tick never starts the same ingestion twice
    and a restart of the daemon does not double-fire, while every change is ingested again (the
    partition is replaced, not duplicated): a file replaced later, a wrong file deleted (the day
    returns to a file set it had before: a new change, a new key, since Dagster drops a run
    request whose key any earlier run used), or every file of a day deleted (bronze then
    empties the partition). Days outside the partitions (before ``start_date``, or today's,
    whose partition does not exist yet) are named in the skip message.
    """

    @dg.sensor(
        name=f"{uc.name}_landing_sensor",
        job=job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description=f"Ingests new landing files of {uc.name} (one run per changed day).",
    )
    def _sensor(
        context: dg.SensorEvaluationContext, lakehouse: LakehouseResource
    ) -> dg.SensorResult | dg.SkipReason:
        from mlops_assets.storage.landing import landing_files  # polars: not at load time

        seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
        house = lakehouse.get()
        days: dict[str, list[tuple[str, int, int]]] = {}
        roots = [house.landing_dir(uc.name, ds.landing_subdir) for ds in uc.datasets]
        for ds, root in zip(uc.datasets, roots, strict=True):
            if not root.is_dir():
                continue
            for day_dir in sorted(p for p in root.iterdir() if p.is_dir()):
                for f in landing_files(day_dir):  # what bronze ingests or rejects
                    st = f.lstat()
                    days.setdefault(day_dir.name, []).append(
                        (f"{ds.name}/{f.name}", st.st_size, int(st.st_mtime))
                    )
        valid = set(daily_partitions(uc).get_partition_keys())
        requests: list[dg.RunRequest] = []
        outside = sorted(day for day in days if day not in valid)
        emptied: dict[str, list[tuple[str, int, int]]] = {
            day: [] for day in seen if day not in days and day in valid
        }
        for day, entries in sorted({**days, **emptied}.items()):
            if day not in valid:
                continue
            fp = _fingerprint(sorted(entries))
            changes, before = _state(seen[day]) if day in seen else (0, _EMPTY)
            if before == fp:
                continue
            seen[day] = f"{changes + 1}:{fp}"
            requests.append(
                dg.RunRequest(
                    run_key=f"{uc.name}:{day}:{changes + 1}:{fp}",
                    partition_key=day,
                    tags={"mlops/trigger": "landing_sensor", "mlops/files": str(len(entries))},
                )
            )
        if not requests:
            note = (
                f"; files of {len(outside)} day(s) outside the partitions are not ingested "
                f"({', '.join(outside[:5])}{', ...' if len(outside) > 5 else ''}: before the use "
                "case's start_date, or a day whose partition does not exist yet)"
                if outside
                else ""
            )
            return dg.SkipReason(
                f"no new or changed landing files of {uc.name} under "
                f"{', '.join(str(r) for r in roots)} ({len(days) - len(outside)} day(s) seen"
                f"{note})"
            )
        return dg.SensorResult(run_requests=requests, cursor=json.dumps(seen, sort_keys=True))

    return _sensor
