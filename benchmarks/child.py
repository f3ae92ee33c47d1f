"""The measured process: ``python -m benchmarks.child <task> '<json kwargs>'``.

Runs one task of :data:`benchmarks.tasks.TASKS` and prints one ``BENCH_RESULT {json}`` line with
the timed region's wall and CPU seconds (the task's own if it reports them, else the whole
call's), the process's peak RSS and whatever details the task returns.
"""

import importlib
import json
import resource
import sys
import time
from typing import Any

from benchmarks.tasks import TASKS
from benchmarks.timing import RESULT_MARK


def main(argv: list[str]) -> int:
    task, raw = argv[1], argv[2] if len(argv) > 2 else "{}"
    module_name, func_name = TASKS[task].split(":")
    func = getattr(importlib.import_module(module_name), func_name)
    kwargs: dict[str, Any] = json.loads(raw)
    cpu, wall = time.process_time(), time.perf_counter()
    details: dict[str, Any] = dict(func(**kwargs) or {})
    details.setdefault("wall_s", time.perf_counter() - wall)
    details.setdefault("cpu_s", time.process_time() - cpu)
    peak_kib = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    details["peak_rss_gib"] = peak_kib / 2**20
    print(RESULT_MARK + json.dumps(details, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
