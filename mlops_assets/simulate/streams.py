"""Independent random streams, keyed by (seed, day, purpose[, dataset]).

Every random decision draws from its own stream, so turning a drift or a fault on or off never
changes the sample, the timestamps or the noise of any day, and adding a dataset never changes the
rows of another (a dataset's key comes from its name). The primary observations keep the two-part
keys of the original churn simulator, so the demo's files stay the same.
"""

import zlib
from enum import IntEnum

import numpy as np


class Stream(IntEnum):
    """Purposes of the random streams of one day (and of the base tables, day 0)."""

    SAMPLE = 0
    TIME = 1
    NOISE = 2
    BAD = 3
    DUPLICATE = 4
    RESAMPLE = 5
    LABEL_COLUMNS = 6
    BASE = 50  # + column position: synthesized base columns
    DRIFT = 100  # + position of the injection in config.drift


def rng_for(seed: int, day_index: int, stream: int, dataset: int = 0) -> np.random.Generator:
    """The generator of one purpose on one day for one dataset (0: the primary observations)."""
    key = (day_index, stream) if dataset == 0 else (day_index, stream, dataset)
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def dataset_stream(name: str) -> int:
    """A stable, non-zero stream key for a dataset other than the primary observations."""
    return zlib.crc32(name.encode()) or 1
