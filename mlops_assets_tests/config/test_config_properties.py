"""Property: a mutated valid config either loads or fails with a ConfigError naming file, line
and key path; nothing else escapes, and a mutation known to break the config is never accepted.

``hypothesis`` is not a dependency of this project, so the cases come from a seeded
``random.Random`` per case: a failure prints its seed and mutation, and replays identically.
"""

import copy
import random
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mlops_assets.config.loader import read_yaml
from mlops_assets.config.project import load_project
from mlops_assets.errors import ConfigError
from mlops_assets_tests.config.config_helpers import dump_yaml, environ_for, use_case_file
from mlops_assets_tests.conftest import CONFIGS_DIR

CASES = 520
SECRET = "xoxb-" + "2048637151-7351201932-Zq8VvLmT3nRcY5pHkWd2sJxB"
# Mappings whose keys are free (parameter names, metric names, column names): renaming a key
# there is not necessarily an error.
FREE = {"params", "space", "per_column", "max_degradation"}
# Keys that every mapping of their kind must have: deleting one is always an error.
REQUIRED = {
    ("name",),
    ("start_date",),
    ("datasets",),
    ("datasets", "*", "columns"),
    ("datasets", "*", "keys"),
    ("datasets", "*", "columns", "*", "dtype"),
    ("gold", "*", "type"),
    ("feature_tables", "*", "entity_key"),
    ("feature_tables", "*", "timestamp"),
    ("feature_tables", "*", "features"),
    ("feature_tables", "*", "features", "*", "description"),
    ("training_set", "label_column"),
    ("training_set", "labels"),
    ("model", "task"),
    ("model", "flavor"),
    ("model", "gates"),
}
# Where a value names a column: an unknown name there is always an error.
COLUMN_REFERENCES = [
    ("datasets", "*", "keys", "*"),
    ("datasets", "*", "event_time"),
    ("gold", "*", "group_by", "*"),
    ("gold", "*", "keys", "*"),
    ("gold", "*", "on", "*"),
    ("gold", "*", "select", "*"),
    ("gold", "*", "aggregations", "*", "column"),
    ("feature_tables", "*", "entity_key"),
    ("feature_tables", "*", "timestamp"),
    ("feature_tables", "*", "features", "*", "column"),
    ("training_set", "label_column"),
    ("training_set", "label_timestamp"),
    ("model", "numeric_features", "*"),
    ("model", "categorical_features", "*"),
    ("model", "entity_key"),
    ("model", "timestamp"),
]
Path_ = tuple[str | int, ...]


@dataclass
class Mutation:
    """What was done, where, and whether the result is known to be invalid."""

    kind: str
    where: Path_
    invalid: bool
    text: str | None = None  # the mutated file when it was edited as text

    def describe(self, seed: int) -> str:
        return f"seed {seed}: {self.kind} at {'.'.join(map(str, self.where)) or '<root>'}"


def _walk(value: Any, path: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, (*path, i))


def _matches(path: Path_, pattern: tuple[str, ...]) -> bool:
    return len(path) == len(pattern) and all(
        p == "*" or p == part for p, part in zip(pattern, path, strict=True)
    )


def _parent(data: Any, path: Path_) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


def _typo(key: str, rng: random.Random) -> str:
    if rng.random() < 0.5:
        return key + "_typo"
    i = rng.randrange(len(key))
    return key[: i + 1] + key[i] + key[i + 1 :]  # a doubled letter


DATA_KINDS = [
    "delete",
    "delete_required",
    "rename",
    "retype",
    "to_mapping",
    "swap",
    "unknown_column",
    "unknown_rule_column",
    "secret",
]
"""Mutations of the data; the others edit the YAML text."""
KINDS = [*DATA_KINDS, "duplicate_key", "alias_bomb", "combo"]


def _mutate(data: dict[str, Any], rng: random.Random, kinds: list[str] = KINDS) -> Mutation:
    nodes = list(_walk(data))
    keyed = [(p, v) for p, v in nodes if p and isinstance(p[-1], str)]
    scalars = [(p, v) for p, v in nodes if p and not isinstance(v, dict | list)]
    kind = rng.choice(kinds)
    if kind == "delete":
        path, _ = rng.choice(keyed)
        del _parent(data, path)[path[-1]]
        return Mutation(kind, path, invalid=any(_matches(path, r) for r in REQUIRED))
    if kind == "delete_required":
        path, _ = rng.choice([(p, v) for p, v in keyed if any(_matches(p, r) for r in REQUIRED)])
        del _parent(data, path)[path[-1]]
        return Mutation(kind, path, invalid=True)
    if kind == "rename":
        path, _ = rng.choice([(p, v) for p, v in keyed if not FREE & {str(x) for x in p}])
        parent = _parent(data, path)
        new = _typo(str(path[-1]), rng)
        parent[new] = parent.pop(path[-1])
        return Mutation(kind, (*path[:-1], new), invalid=True)
    if kind == "retype":
        path, value = rng.choice(scalars)
        options: list[Any] = [None, 0, -1, 3.5, True, "text", [], [value], "1e400", "${NOPE:-}"]
        _parent(data, path)[path[-1]] = rng.choice([o for o in options if o != value])
        return Mutation(kind, path, invalid=False)
    if kind == "to_mapping":
        path, _ = rng.choice([(p, v) for p, v in scalars if not FREE & {str(x) for x in p}])
        _parent(data, path)[path[-1]] = {"unexpected": {"nested": [1, 2, 3]}}
        return Mutation(kind, path, invalid=True)
    if kind == "swap":
        (a, value_a), (b, value_b) = rng.sample(scalars, 2)
        _parent(data, a)[a[-1]], _parent(data, b)[b[-1]] = value_b, value_a
        return Mutation(kind, a, invalid=False)
    if kind == "unknown_column":
        refs = [p for p, _ in nodes if any(_matches(p, r) for r in COLUMN_REFERENCES)]
        path = rng.choice(refs)
        _parent(data, path)[path[-1]] = rng.choice(["no_such_column", "customer_idd", "tenur"])
        return Mutation(kind, path, invalid=True)
    if kind == "unknown_rule_column":
        ds = rng.randrange(len(data["datasets"]))
        rules = data["datasets"][ds].setdefault("rules", [])
        rule = rng.choice(["ghost >= 0", "ghost is not null", "tenure + ghost > 1"])
        rules.append(rng.choice([rule, {"type": "not_null", "column": "ghost"}]))
        return Mutation(kind, ("datasets", ds, "rules", len(rules) - 1), invalid=True)
    if kind == "secret":
        key = rng.choice(["url_env", "token_env"])
        channel = {"type": "webhook" if key == "url_env" else "slack", key: SECRET}
        if key == "token_env":
            channel["channel"] = "#ml"
        data["monitoring"]["alerts"]["channels"] = [channel]
        return Mutation(kind, ("monitoring", "alerts", "channels", 0, key), invalid=True)
    if kind == "combo":
        first, second = _mutate(data, rng, DATA_KINDS), _mutate(data, rng, DATA_KINDS)
        return Mutation(f"{first.kind}+{second.kind}", first.where, invalid=False)
    text = dump_yaml(data)
    lines = text.splitlines()
    if kind == "duplicate_key":
        inline = re.compile(r"^(?P<indent> *)(?P<dash>- )?(?P<key>[A-Za-z_]\w*): \S")
        candidates = [i for i, line in enumerate(lines) if inline.match(line)]
        i = rng.choice(candidates)
        match = inline.match(lines[i])
        assert match is not None
        indent = match["indent"] + ("  " if match["dash"] else "")
        lines.insert(i + 1, f"{indent}{match['key']}: duplicated")
        return Mutation(kind, (match["key"],), invalid=True, text="\n".join(lines) + "\n")
    bomb = ["bomb:", '  a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for level in "bcdefg":
        previous = chr(ord(level) - 1)
        bomb.append(f"  {level}: &{level} [" + ", ".join([f"*{previous}"] * 10) + "]")
    return Mutation(kind, ("bomb",), invalid=True, text="\n".join([*lines, *bomb]) + "\n")


def _check_error(err: ConfigError, mutation: Mutation, seed: int, files: set[str]) -> None:
    why = mutation.describe(seed)
    context = err.context
    assert context.get("file") in files, f"{why}: no file in {context}"
    line = context.get("line")
    assert isinstance(line, int) and line >= 1, f"{why}: no line in {context}\n{err}"
    key_path = context.get("key_path")
    assert isinstance(key_path, str) and key_path, f"{why}: no key path in {context}\n{err}"
    assert f"{context['file']}:{line}" in err.message, f"{why}: {err.message}"
    assert SECRET not in str(err), f"{why}: the secret leaked"
    assert all(len(row) < 1000 for row in str(err).splitlines()), f"{why}: a huge line"
    if mutation.invalid and mutation.kind in ("rename", "to_mapping", "unknown_column", "secret"):
        where = [str(p) for p in mutation.where]
        reported = re.findall(r"^  /\S+?:\d+: (\S+): ", err.message, flags=re.M)
        paths = [key_path, *reported] if mutation.kind != "secret" else reported
        near = [p for p in paths if _related(p.split("."), where)]
        assert near, f"{why}: reported at {paths}\n{err}"


def _related(a: list[str], b: list[str]) -> bool:
    shorter = min(len(a), len(b))
    return a[:shorter] == b[:shorter]


def test_mutated_configs_load_or_fail_with_file_line_and_key_path(tmp_path: Path) -> None:
    configs = tmp_path / "configs"
    (configs / "use_cases").mkdir(parents=True)
    (configs / "environments").mkdir()
    env_text = (CONFIGS_DIR / "environments" / "local.yaml").read_text()
    (configs / "environments" / "local.yaml").write_text(env_text)
    base, _ = read_yaml(use_case_file(CONFIGS_DIR))
    path = use_case_file(configs)
    environ = environ_for(tmp_path / "data")
    outcomes: dict[str, int] = {"valid": 0, "config_error": 0}
    started, cpu = time.perf_counter(), time.process_time()
    for seed in range(CASES):
        rng = random.Random(seed)
        data = copy.deepcopy(base)
        mutation = _mutate(data, rng)
        text = mutation.text or dump_yaml(data)
        path.write_text(text, encoding="utf-8")
        try:
            load_project(configs, environ=environ)
        except ConfigError as err:
            outcomes["config_error"] += 1
            _check_error(err, mutation, seed, {str(path)})
        except Exception as exc:  # the property: nothing but ConfigError escapes
            pytest.fail(f"{mutation.describe(seed)}: {type(exc).__name__}: {exc}")
        else:
            outcomes["valid"] += 1
            assert not mutation.invalid, f"{mutation.describe(seed)}: invalid config accepted"
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"\n{CASES} mutated configs in {seconds:.1f} s ({cpu:.1f} s CPU): {outcomes}")
    assert outcomes["valid"] > 0 and outcomes["config_error"] > CASES // 2
