"""The suite's schedule: measured slow files first, each file's tests kept together."""

import subprocess
import sys
from pathlib import Path

import pytest

from mlops_assets.config.loader import project_root
from mlops_assets_tests.scheduling import durations_from_junit, load_durations, slowest_first


def test_slow_files_go_first_and_each_file_stays_whole() -> None:
    files = ["a.py", "a.py", "b.py", "c.py", "c.py", "d.py"]
    seconds = {"a.py": 1.0, "b.py": 30.0, "c.py": 5.0}  # d.py unmeasured: the median (5.0)
    order = [files[i] for i in slowest_first(files, seconds)]
    assert order == ["b.py", "c.py", "c.py", "d.py", "a.py", "a.py"]
    # the tests of a file keep their order
    assert slowest_first(files, seconds)[1:3] == [3, 4]
    assert slowest_first(files, {}) == list(range(len(files)))  # nothing measured: unchanged


def test_durations_come_from_a_real_junit_report(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "test_slow.py").write_text(
        "import time\n\ndef test_a():\n    time.sleep(0.6)\n\n"
        "class TestB:\n    def test_b(self):\n        time.sleep(0.3)\n"
    )
    (pkg / "test_fast.py").write_text("def test_c():\n    pass\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # not the project's settings
    report = tmp_path / "report.xml"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--junitxml={report}",
            "--rootdir",
            str(tmp_path),
            str(pkg),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    durations = durations_from_junit(report)
    assert list(durations) == ["pkg/test_slow.py", "pkg/test_fast.py"]
    assert durations["pkg/test_slow.py"] >= 0.9  # both tests, the class one included
    assert durations["pkg/test_fast.py"] < 0.5


def test_the_measured_files_exist() -> None:
    durations = load_durations()
    assert durations, "mlops_assets_tests/durations.json is missing: run `make test-durations`"
    root = project_root()
    stale = [f for f in durations if not (root / f).is_file()]
    assert not stale, f"durations.json lists removed files {stale}: run `make test-durations`"


def test_this_session_runs_the_slowest_collected_file_first(request: pytest.FixtureRequest) -> None:
    durations = load_durations()
    files = list(dict.fromkeys(i.nodeid.split("::", 1)[0] for i in request.session.items))
    measured = [f for f in files if f in durations]
    assert measured == sorted(measured, key=lambda f: -durations[f])
