"""The compiled kernel of the drift's grid passes: built by the machine's real C compiler into
a temporary cache, checked against NumPy, and refused (NumPy then serves) when it cannot be
built or gives other buckets."""

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from mlops_assets.monitoring import bucketed, native

needs_compiler = pytest.mark.skipif(native.compiler() is None, reason="no C compiler here")


@pytest.fixture(autouse=True)
def fresh_kernel(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """Each test builds into its own cache, and the process's loaded kernel is forgotten."""
    cache = tmp_path / "cache"
    monkeypatch.setenv(native.CACHE_ENV, str(cache))
    monkeypatch.delenv(native.NATIVE_ENV, raising=False)
    native.grid_kernel.cache_clear()
    yield cache
    native.grid_kernel.cache_clear()


def _chunks(rng: np.random.Generator) -> list[np.ndarray]:
    chunks = [rng.lognormal(0.0, 0.5, n) for n in (70_001, 3, 130_000)]
    chunks[0][[0, 9, 70_000]] = [np.nan, np.inf, -np.inf]
    chunks[2][[4_097, -1]] = [np.nan, 1e300]
    return chunks


@needs_compiler
def test_both_passes_give_numpys_buckets_explicit_values_and_sum() -> None:
    """The same runs, the same explicit values in the same order, the same finite count; the
    signed sum only in another order of addition."""
    kernel = native.grid_kernel()
    assert kernel is not None
    rng = np.random.default_rng(21)
    ref = np.sort(rng.lognormal(0.02, 0.5, 5_000))
    center = float(ref[ref.size // 2])
    lo, hi = float(ref[0]) - center, float(ref[-1]) - center
    k = 1 << 14
    grid = (lo, k / (hi - lo), k)
    ref_centred, ref_key = bucketed._centred_keys([ref], center, lo, grid[1], k, reuse=False)
    ref_count = np.bincount(ref_key, minlength=k)
    chunks = _chunks(rng)
    compiled = bucketed._native_passes(kernel, chunks, center, grid, ref_count)
    plain = bucketed._numpy_passes(chunks, center, grid, ref_count)
    assert compiled is not None and plain is not None
    assert compiled.n == plain.n == sum(c.size for c in chunks) - 4
    for field in compiled.runs._fields:
        np.testing.assert_array_equal(getattr(compiled.runs, field), getattr(plain.runs, field))
    assert 1_000 < compiled.inside.size < plain.n
    np.testing.assert_array_equal(compiled.inside, plain.inside)
    assert compiled.signed_sum == pytest.approx(plain.signed_sum, rel=1e-13)
    finite = np.concatenate(chunks)
    finite = finite[np.isfinite(finite)]
    distance = bucketed.wasserstein_bucketed(chunks, ref, center=center)
    assert distance == pytest.approx(stats.wasserstein_distance(ref, finite), rel=1e-11)
    assert ref_centred.size == ref.size


@needs_compiler
def test_a_build_is_cached_by_its_fingerprint(fresh_kernel: Path) -> None:
    first = native.build()
    built_at = first.stat().st_mtime_ns
    again = native.build()
    assert again == first
    assert again.stat().st_mtime_ns == built_at  # loaded, not compiled again
    assert first.parent == fresh_kernel
    assert [p.name for p in fresh_kernel.iterdir()] == [first.name]  # no temporary file left


@needs_compiler
def test_builds_that_run_at_once_each_get_a_whole_library(fresh_kernel: Path) -> None:
    """Four builds at once into an empty cache: each renames its own file into place."""
    paths: list[Path] = []
    errors: list[BaseException] = []

    def build() -> None:
        try:
            paths.append(native.build())
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=build) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert len(set(paths)) == 1 and len(paths) == 4
    assert [p.name for p in fresh_kernel.iterdir()] == [paths[0].name]
    assert native.grid_kernel() is not None


@needs_compiler
def test_a_compiler_that_refuses_the_tuned_flags_builds_the_portable_kernel(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real = native.compiler()
    assert real is not None
    wrapper = tmp_path / "picky-cc"
    wrapper.write_text(
        "#!/bin/sh\n"
        'for a in "$@"; do [ "$a" = -march=native ] && { echo "unknown -march" >&2; exit 1; }; '
        "done\n"
        f'exec {real} "$@"\n'
    )
    wrapper.chmod(0o755)
    monkeypatch.setenv("CC", str(wrapper))
    assert native.grid_kernel() is not None
    built = list((tmp_path / "cache").iterdir())
    assert len(built) == 1


def test_without_a_compiler_numpy_serves_the_same_distance(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("CC", "/nonexistent/cc")
    with caplog.at_level(logging.WARNING, logger=native.__name__):
        assert native.grid_kernel() is None
    assert "no C compiler" in caplog.text
    rng = np.random.default_rng(3)
    ref, cur = np.sort(rng.normal(0, 1, 3_000)), rng.normal(0.1, 1, 250_000)
    distance = bucketed.wasserstein_bucketed(cur, ref, center=float(np.median(ref)))
    assert distance == pytest.approx(stats.wasserstein_distance(ref, cur), rel=1e-11)


def test_the_kernel_can_be_switched_off(
    monkeypatch: pytest.MonkeyPatch, fresh_kernel: Path
) -> None:
    monkeypatch.setenv(native.NATIVE_ENV, "0")
    assert native.grid_kernel() is None
    assert not fresh_kernel.exists()  # nothing was built


@needs_compiler
def test_a_kernel_that_gives_other_buckets_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A library whose keys are off by one bucket fails the self-check: NumPy serves."""
    wrong = tmp_path / "grid_kernel.c"
    source = native.SOURCE.read_text()
    assert "key[i] = (int32_t)p;" in source
    wrong.write_text(source.replace("key[i] = (int32_t)p;", "key[i] = (int32_t)p / 2;"))
    monkeypatch.setattr(native, "SOURCE", wrong)
    with caplog.at_level(logging.WARNING, logger=native.__name__):
        assert native.grid_kernel() is None
    assert "self-check" in caplog.text


@needs_compiler
def test_a_corrupt_cached_library_is_built_again(fresh_kernel: Path) -> None:
    """A truncated library at the cached path (e.g. a disk filled mid-copy) is replaced."""
    target = native.build()
    target.write_bytes(b"not a shared library")
    assert native.grid_kernel() is not None
    assert target.read_bytes() != b"not a shared library"


def test_a_reference_of_subnormal_values_is_declined_not_raised() -> None:
    """Its span is so small that the grid's scale overflows: the caller then sorts."""
    ref = np.sort(np.random.default_rng(1).uniform(1, 5, 300)) * 5e-324
    cur = np.random.default_rng(2).uniform(0, 5e-323, 1_000)
    assert bucketed.wasserstein_bucketed(cur, ref, max_crowding=1.0) is None
