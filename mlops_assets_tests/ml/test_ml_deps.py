"""Exact pins of the packages a logged model needs, found from the installed distributions."""

import time
from importlib import metadata

import pytest

from mlops_assets.errors import ConfigError
from mlops_assets.ml._deps import distribution_pin, import_optional


def test_pins_name_the_distribution_not_the_module() -> None:
    # sklearn is provided by the scikit-learn distribution: the pin must say so.
    assert distribution_pin("sklearn") == f"scikit-learn=={metadata.version('scikit-learn')}"
    assert distribution_pin("numpy.linalg") == f"numpy=={metadata.version('numpy')}"


def test_a_module_that_is_not_installed_has_no_pin() -> None:
    assert distribution_pin("no_such_module_for_mlops_assets") is None


def test_the_distribution_scan_is_paid_once_per_process() -> None:
    distribution_pin("pandas")
    start = time.process_time()
    pins = [distribution_pin(m) for m in ("scipy", "skops", "mlflow")]
    elapsed = time.process_time() - start
    assert all(pins), pins
    # One scan of every installed distribution costs ~0.4 s of CPU; three lookups after the
    # first must not repeat it (generous bound for a loaded machine).
    assert elapsed < 0.2, f"three pins took {elapsed:.3f} s of CPU: the scan was repeated"


def test_a_missing_optional_package_names_its_extra() -> None:
    with pytest.raises(ConfigError) as info:
        import_optional("lightgbm.no_such_submodule")
    assert "uv sync --extra boosting" in str(info.value.fix)
