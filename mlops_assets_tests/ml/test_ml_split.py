"""The entity-hash split: deterministic, stable across processes, close to the ratios."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from mlops_assets.config.ml import SplitConfig
from mlops_assets.errors import DataValidationError, SchemaMismatchError
from mlops_assets.ml.split import assign_splits, split_frame, stable_hash

MASK = (1 << 64) - 1


def _reference_hash(key: str, seed: int) -> int:
    """The documented algorithm, one key at a time in plain Python (independent of numpy)."""

    def splitmix(x: int) -> int:
        x = (x + 0x9E3779B97F4A7C15) & MASK
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
        return x ^ (x >> 31)

    data = key.encode()
    h = 0xCBF29CE484222325 ^ splitmix(seed)
    for byte in data:
        h = ((h ^ byte) * 0x100000001B3) & MASK
    return splitmix(h ^ len(data))


def test_ml_split_hash_matches_the_reference_algorithm() -> None:
    keys = ["", "a", "cust-1", "ünïcödé-κλειδί", "x" * 70, "42"]
    for seed in (0, 42, 2**40 + 7):
        got = stable_hash(pl.Series(keys), seed).tolist()
        assert got == [_reference_hash(k, seed) for k in keys]


def test_ml_split_is_stable_in_another_process(tmp_path: Path) -> None:
    keys = [f"customer-{i}" for i in range(500)]
    script = tmp_path / "hash.py"
    script.write_text(
        "import json, sys\n"
        "import polars as pl\n"
        "from mlops_assets.config.ml import SplitConfig\n"
        "from mlops_assets.ml.split import assign_splits, stable_hash\n"
        "keys = json.loads(sys.stdin.read())\n"
        "df = pl.DataFrame({'id': keys})\n"
        "print(json.dumps({'hash': [str(h) for h in stable_hash(df['id'], 7)],\n"
        "                  'split': assign_splits(df, 'id', SplitConfig(seed=7)).to_list()}))\n"
    )
    out = subprocess.run(
        [sys.executable, str(script)],
        input=json.dumps(keys),
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "random"},
    )
    other = json.loads(out.stdout)
    df = pl.DataFrame({"id": keys})
    assert other["hash"] == [str(h) for h in stable_hash(df["id"], 7)]
    assert other["split"] == assign_splits(df, "id", SplitConfig(seed=7)).to_list()


def test_ml_split_same_entity_same_split_whatever_the_frame() -> None:
    config = SplitConfig()
    df = pl.DataFrame({"id": [f"c{i}" for i in range(3000)], "row": range(3000)})
    first = df.with_columns(assign_splits(df, "id", config))
    shuffled = df.sample(fraction=1.0, shuffle=True, seed=3).slice(100, 2000)
    second = shuffled.with_columns(assign_splits(shuffled, "id", config))
    joined = first.join(second, on="id", suffix="_again")
    assert joined.height == 2000
    assert (joined["split"] == joined["split_again"]).all()
    # repeated rows of one entity (several observations) never straddle splits
    repeated = pl.concat([df, df]).with_columns(assign_splits(pl.concat([df, df]), "id", config))
    assert repeated.group_by("id").agg(pl.col("split").n_unique())["split"].max() == 1


def test_ml_split_ratios_are_close_to_the_config() -> None:
    n = 20_000
    config = SplitConfig(train=0.6, validation=0.25, test=0.15, seed=1)
    counts = assign_splits(pl.DataFrame({"id": np.arange(n)}), "id", config).value_counts()
    shares = {row["split"]: row["count"] / n for row in counts.iter_rows(named=True)}
    for name, expected in (("train", 0.6), ("validation", 0.25), ("test", 0.15)):
        sigma = math.sqrt(expected * (1 - expected) / n)
        assert abs(shares[name] - expected) < 5 * sigma, (name, shares[name])


def test_ml_split_seed_changes_the_assignment_and_keys_compare_as_strings() -> None:
    ints = pl.DataFrame({"id": list(range(1000))})
    strings = pl.DataFrame({"id": [str(i) for i in range(1000)]})
    a = assign_splits(ints, "id", SplitConfig(seed=1))
    assert (a == assign_splits(strings, "id", SplitConfig(seed=1))).all()
    b = assign_splits(ints, "id", SplitConfig(seed=2))
    assert (a != b).sum() > 300  # about half of the rows move with another seed


def test_ml_split_frame_partitions_every_row_once() -> None:
    df = pl.DataFrame({"id": [f"k{i}" for i in range(1000)], "x": range(1000)})
    parts = split_frame(df, "id", SplitConfig())
    assert sum(p.height for p in parts.values()) == 1000
    ids = [set(p["id"]) for p in parts.values()]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])


def test_ml_split_handles_sliced_and_chunked_input() -> None:
    keys = pl.Series("id", [f"k{i}" for i in range(100)])
    chunked = pl.concat([keys[:50], keys[50:]], rechunk=False)
    assert stable_hash(chunked, 0).tolist() == stable_hash(keys, 0).tolist()
    assert stable_hash(keys[10:20], 0).tolist() == stable_hash(keys, 0)[10:20].tolist()


def test_ml_split_rejects_null_or_missing_keys() -> None:
    with pytest.raises(DataValidationError, match="1 null value"):
        assign_splits(pl.DataFrame({"id": ["a", None]}), "id", SplitConfig())
    with pytest.raises(SchemaMismatchError, match="entity key column 'customer' is missing"):
        assign_splits(pl.DataFrame({"id": ["a"]}), "customer", SplitConfig())
