"""The Dagster instance used by headless commands: ``$DAGSTER_HOME`` when set, else ephemeral.

Killed runs must not stay ``STARTED`` forever. Three mechanisms cover the local instance:

- a run launched by ``dagster dev`` runs in a worker process watched by its code server, which
  marks it failed within a second when that worker dies (Dagster's own behaviour);
- the ``dagster.yaml`` written here turns on the daemon's run monitoring: runs stuck in
  ``STARTING`` fail after ``start_timeout_seconds``, a stuck cancel after
  ``cancel_timeout_seconds``, and any run past ``max_runtime_seconds`` (or its
  ``dagster/max_runtime`` tag) is cancelled and marked failed. Dagster's default run launcher
  cannot check worker health, so the daemon alone needs that timeout to notice a dead run;
- :func:`fail_orphaned_runs` (called by :func:`get_instance`, i.e. by every headless command)
  marks failed the ``STARTED`` runs whose process is gone from this machine: runs of a headless
  command that was killed, which no code server watches.

The same ``dagster.yaml`` gives concurrency pools a default limit of 1, so the champion asset's
pool (``mlops_promotion``) lets one promotion run at a time; a pool without a limit would not
serialise anything.
"""

import os
from pathlib import Path

import dagster as dg

from mlops_assets.storage.atomic import write_text_atomic

HEADER = "# Written by mlops-assets for local runs"
MAX_RUNTIME_SECONDS = 6 * 3600
POOL_DEFAULT_LIMIT = 1
"""Slots of a concurrency pool with no limit set: 1 serialises the ``mlops_promotion`` pool."""
DAGSTER_YAML = f"""\
{HEADER}: no telemetry, no first-run pop-up, run monitoring on.
telemetry:
  enabled: false
nux:
  enabled: false
# The daemon (started by `dagster dev`) fails runs that never start, hang while cancelling, or
# run longer than max_runtime_seconds (per run: the `dagster/max_runtime` tag). Raise it for
# longer runs.
run_monitoring:
  enabled: true
  start_timeout_seconds: 120
  cancel_timeout_seconds: 120
  max_runtime_seconds: {MAX_RUNTIME_SECONDS}
  max_resume_run_attempts: 0
  poll_interval_seconds: 10
# Concurrency pools without a limit of their own get this one. The project's only pool is
# mlops_promotion (the champion asset): one promotion at a time. Dagster's instance config has no
# per-pool key; `dagster instance concurrency set <pool> <limit>` sets one that overrides this.
concurrency:
  pools:
    default_limit: {POOL_DEFAULT_LIMIT}
"""


def ensure_dagster_home(home: Path) -> Path:
    """Create ``home`` with our dagster.yaml if it has none (or an older one we wrote).

    A dagster.yaml written by someone else is left alone.
    """
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    current = config.read_text(encoding="utf-8") if config.exists() else None
    if current is None or (current.startswith(HEADER) and current != DAGSTER_YAML):
        write_text_atomic(config, DAGSTER_YAML)
    return home


def get_instance() -> dg.DagsterInstance:
    """A persistent instance when ``DAGSTER_HOME`` is set (runs show in ``dagster dev``)."""
    home = os.environ.get("DAGSTER_HOME")
    if home:
        ensure_dagster_home(Path(home))
        instance = dg.DagsterInstance.get()
        fail_orphaned_runs(instance)
        return instance
    return dg.DagsterInstance.ephemeral()


def fail_orphaned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed every ``STARTED`` run whose process no longer exists; return their ids.

    The process is the one that logged the run's start (its pid is on the event); it counts as
    gone when no such pid exists, it is a zombie, or the pid now belongs to a process started
    after the run (reused). Assumes the instance's runs execute on this machine, as the local
    SQLite instance does.
    """
    failed = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
        run = record.dagster_run
        starts = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_START)
        event = starts[-1].dagster_event if starts else None
        pid = event.pid if event is not None else None
        if pid is None or process_alive(pid, started_by=record.start_time):
            continue
        instance.report_run_failed(
            run,
            f"The process running this run (pid {pid}) is gone: it was killed or crashed "
            "mid-run. Marked failed by mlops-assets; re-run it (partitions re-publish whole).",
        )
        failed.append(run.run_id)
    return failed


def process_alive(pid: int, started_by: float | None = None) -> bool:
    """Whether process ``pid`` exists, is not a zombie and (when known) started by ``started_by``
    (epoch seconds, one second of tolerance)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    stat = _proc_stat(pid)
    if stat is None:  # no /proc (macOS): existence is all we can tell
        return True
    state, started_at = stat
    if state in {"Z", "X"}:
        return False
    return started_by is None or started_at is None or started_at <= started_by + 1.0


def _proc_stat(pid: int) -> tuple[str, float | None] | None:
    """Linux ``/proc/<pid>/stat``: the state letter and the start time (epoch seconds)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text(encoding="utf-8").splitlines()
            if line.startswith("btime ")
        )
    except (OSError, StopIteration, ValueError):
        return None
    fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) ": field 3 onwards
    try:
        ticks = float(fields[19])  # field 22: start time in clock ticks after boot
    except (IndexError, ValueError):
        return fields[0] if fields else "?", None
    return fields[0], boot + ticks / os.sysconf("SC_CLK_TCK")
