"""Run the slowest test files first, so two workers finish together.

``make test`` hands whole files to two pytest-xdist workers (``--dist loadfile``) in collection
order. By default xdist puts the files with the most tests first, which left the end-to-end
files (one slow test each: the demo, the UI, the sensors) for last: the suite then ended with one
worker running a ten-minute test while the other sat idle. Ordering files by their measured
duration, longest first, is the classic longest-processing-time rule: the last file to start is a
short one. (``--no-loadscope-reorder`` in the Makefile keeps xdist from re-sorting.)

The durations are measured, not guessed: ``make test-durations`` runs the suite with a JUnit
report and rewrites ``durations.json`` from it (``python -m mlops_assets_tests.scheduling``).
A file missing from it (a new one) counts as the median file.
"""

import json
import statistics
import sys
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path

DURATIONS_FILE = Path(__file__).with_name("durations.json")


def load_durations(path: Path = DURATIONS_FILE) -> dict[str, float]:
    """Measured seconds per test file (path relative to the repository), or empty."""
    if not path.is_file():
        return {}
    raw = json.loads(path.read_text())
    return {str(k): float(v) for k, v in raw.items()}


def slowest_first(files: Sequence[str], seconds: Mapping[str, float]) -> list[int]:
    """Indices of ``files`` (one entry per test, in collection order) with slow files first.

    Tests of one file stay together and in their order; files of equal weight keep theirs.
    """
    default = statistics.median(seconds.values()) if seconds else 0.0
    first_seen: dict[str, int] = {}
    for i, f in enumerate(files):
        first_seen.setdefault(f, i)

    def key(i: int) -> tuple[float, int, int]:
        f = files[i]
        return (-seconds.get(f, default), first_seen[f], i)

    return sorted(range(len(files)), key=key)


def durations_from_junit(report: Path) -> dict[str, float]:
    """Seconds per test file (setup + call + teardown of its tests) from a JUnit XML report."""
    per_file: dict[str, float] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        classname = case.get("classname", "")
        parts = classname.split(".")
        # "pkg.sub.test_mod" or "pkg.sub.test_mod.TestClass": the file is the test_ module
        while parts and not parts[-1].startswith("test_"):
            parts.pop()
        if not parts:
            continue
        name = "/".join(parts) + ".py"
        per_file[name] = per_file.get(name, 0.0) + float(case.get("time", "0") or 0)
    return {k: round(v, 1) for k, v in sorted(per_file.items(), key=lambda kv: -kv[1])}


def main(argv: Sequence[str]) -> int:
    """``python -m mlops_assets_tests.scheduling REPORT.xml``: rewrite ``durations.json``."""
    if len(argv) != 1:
        print("usage: python -m mlops_assets_tests.scheduling REPORT.xml", file=sys.stderr)
        return 2
    durations = durations_from_junit(Path(argv[0]))
    DURATIONS_FILE.write_text(json.dumps(durations, indent=1) + "\n")
    print(f"{len(durations)} files, {sum(durations.values()):.0f} s -> {DURATIONS_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
