"""Deterministic train/validation/test assignment by a stable hash of the entity key.

The hash is defined here (64-bit FNV-1a over the UTF-8 bytes of the key, seeded and finished with
the SplitMix64 mixer), not borrowed from a library whose hash may change between versions or
processes: an entity keeps its split across runs, processes, machines and upgrades, so a customer
used for training never leaks into a later test set. Keys are compared by their string form, so
the integer ``42`` and the string ``"42"`` land in the same split.

Everything is vectorised: the per-byte loop runs over key *positions* (at most the longest key's
length), each step updating every row at once.
"""

from typing import Literal

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa

from mlops_assets.config.ml import SplitConfig
from mlops_assets.errors import DataValidationError, SchemaMismatchError

SplitName = Literal["train", "validation", "test"]
SPLIT_COLUMN = "split"

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _splitmix64(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """SplitMix64 finaliser: a bijective mixer with full avalanche (wrapping uint64 arithmetic)."""
    x = x + _GOLDEN
    x = (x ^ (x >> np.uint64(30))) * _MIX_1
    x = (x ^ (x >> np.uint64(27))) * _MIX_2
    return x ^ (x >> np.uint64(31))


def stable_hash(keys: pl.Series, seed: int) -> npt.NDArray[np.uint64]:
    """A 64-bit hash of each key's string form, identical in every process and version.

    Raises:
        DataValidationError: a key is null.
    """
    nulls = keys.null_count()
    if nulls:
        raise DataValidationError(
            f"entity key column {keys.name!r} has {nulls} null value(s); they cannot be split",
            context={"column": keys.name, "nulls": nulls, "rows": keys.len()},
            fix="drop or repair rows without an entity key before training",
        )
    arr = keys.cast(pl.String).to_arrow()
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = arr.cast(pa.large_string())
    n = len(arr)
    _, offsets_buf, data_buf = arr.buffers()
    assert offsets_buf is not None
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[arr.offset : arr.offset + n + 1]
    data = (
        np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None and data_buf.size else None
    )
    starts = offsets[:-1]
    lengths = offsets[1:] - starts
    seed_mix = _splitmix64(np.array([seed], dtype=np.uint64))[0]
    h = np.full(n, _FNV_OFFSET ^ seed_mix, dtype=np.uint64)
    longest = int(lengths.max()) if n else 0
    if data is not None:
        last = data.size - 1
        for pos in range(longest):  # over byte positions; every row is updated at once
            active = lengths > pos
            byte = data[np.minimum(starts + pos, last)].astype(np.uint64)
            h = np.where(active, (h ^ byte) * _FNV_PRIME, h)
    return _splitmix64(h ^ lengths.astype(np.uint64))


def assign_splits(df: pl.DataFrame, entity_key: str, config: SplitConfig) -> pl.Series:
    """The split (`train` / `validation` / `test`) of every row, decided by its entity key.

    Raises:
        SchemaMismatchError: the entity key column is missing.
        DataValidationError: an entity key is null.
    """
    if entity_key not in df.columns:
        raise SchemaMismatchError(
            f"entity key column {entity_key!r} is missing",
            context={"columns": df.columns},
            fix="set `entity_key` in the model config to an existing column",
        )
    hashes = stable_hash(df.get_column(entity_key), config.seed)
    unit = (hashes >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))  # uniform in [0, 1)
    labels = np.where(
        unit < config.train,
        "train",
        np.where(unit < config.train + config.validation, "validation", "test"),
    )
    return pl.Series(SPLIT_COLUMN, labels, dtype=pl.Enum(["train", "validation", "test"]))


def split_frame(
    df: pl.DataFrame, entity_key: str, config: SplitConfig
) -> dict[SplitName, pl.DataFrame]:
    """Partition ``df`` into train, validation and test frames (each entity in exactly one)."""
    splits = assign_splits(df, entity_key, config)
    return {name: df.filter(splits == name) for name in ("train", "validation", "test")}
