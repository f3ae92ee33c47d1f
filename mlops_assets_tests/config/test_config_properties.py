"""Property: a mutated valid config either loads or fails with a ConfigError naming file, line
and key path; nothing else escapes, and a mutation known to break the config is never accepted.

Hypothesis draws every choice (which shipped use case, which mutation, where, what value), so a
failure shrinks to a small mutation and is printed with its draws. The examples are derandomized:
CI runs the same cases every time.
"""

import copy
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlops_assets.config.loader import read_yaml
from mlops_assets.config.project import load_project
from mlops_assets.errors import ConfigError
from mlops_assets_tests.config.config_helpers import dump_yaml, environ_for, use_case_file
from mlops_assets_tests.conftest import CONFIGS_DIR

T = TypeVar("T")
CASES = 520
SHIPPED = ("churn", "housing")
"""The valid configs mutated: a binary classifier and a regression."""
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

    def describe(self) -> str:
        return f"{self.kind} at {'.'.join(map(str, self.where)) or '<root>'}"


class Draws:
    """The few random choices a mutation needs, drawn from Hypothesis (so they shrink)."""

    def __init__(self, data: st.DataObject) -> None:
        self.data = data

    def choice(self, options: Sequence[T], label: str) -> T:
        return self.data.draw(st.sampled_from(options), label=label)

    def below(self, n: int, label: str) -> int:
        return self.data.draw(st.integers(0, n - 1), label=label)

    def coin(self, label: str) -> bool:
        return self.data.draw(st.booleans(), label=label)


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


def _typo(key: str, draws: Draws) -> str:
    if draws.coin("suffix typo"):
        return key + "_typo"
    i = draws.below(len(key), "doubled letter")
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


def _mutate(data: dict[str, Any], draws: Draws, kinds: list[str] = KINDS) -> Mutation:
    nodes = list(_walk(data))
    keyed = [(p, v) for p, v in nodes if p and isinstance(p[-1], str)]
    scalars = [(p, v) for p, v in nodes if p and not isinstance(v, dict | list)]
    kind = draws.choice(kinds, "kind")
    if kind == "delete":
        path, _ = draws.choice(keyed, "deleted key")
        del _parent(data, path)[path[-1]]
        return Mutation(kind, path, invalid=any(_matches(path, r) for r in REQUIRED))
    if kind == "delete_required":
        required = [(p, v) for p, v in keyed if any(_matches(p, r) for r in REQUIRED)]
        path, _ = draws.choice(required, "deleted required key")
        del _parent(data, path)[path[-1]]
        return Mutation(kind, path, invalid=True)
    if kind == "rename":
        path, _ = draws.choice(
            [(p, v) for p, v in keyed if not FREE & {str(x) for x in p}], "renamed"
        )
        parent = _parent(data, path)
        new = _typo(str(path[-1]), draws)
        parent[new] = parent.pop(path[-1])
        return Mutation(kind, (*path[:-1], new), invalid=True)
    if kind == "retype":
        path, value = draws.choice(scalars, "retyped")
        options: list[Any] = [None, 0, -1, 3.5, True, "text", [], [value], "1e400", "${NOPE:-}"]
        _parent(data, path)[path[-1]] = draws.choice(
            [o for o in options if o != value], "new value"
        )
        return Mutation(kind, path, invalid=False)
    if kind == "to_mapping":
        path, _ = draws.choice(
            [(p, v) for p, v in scalars if not FREE & {str(x) for x in p}], "scalar"
        )
        _parent(data, path)[path[-1]] = {"unexpected": {"nested": [1, 2, 3]}}
        return Mutation(kind, path, invalid=True)
    if kind == "swap":
        i = draws.below(len(scalars), "first")
        j = (i + 1 + draws.below(len(scalars) - 1, "second")) % len(scalars)
        (a, value_a), (b, value_b) = scalars[i], scalars[j]
        _parent(data, a)[a[-1]], _parent(data, b)[b[-1]] = value_b, value_a
        return Mutation(kind, a, invalid=False)
    if kind == "unknown_column":
        refs = [p for p, _ in nodes if any(_matches(p, r) for r in COLUMN_REFERENCES)]
        path = draws.choice(refs, "column reference")
        _parent(data, path)[path[-1]] = draws.choice(
            ["no_such_column", "customer_idd", "tenur"], "name"
        )
        return Mutation(kind, path, invalid=True)
    if kind == "unknown_rule_column":
        ds = draws.below(len(data["datasets"]), "dataset")
        rules = data["datasets"][ds].setdefault("rules", [])
        rule = draws.choice(["ghost >= 0", "ghost is not null", "tenure + ghost > 1"], "rule")
        rules.append(draws.choice([rule, {"type": "not_null", "column": "ghost"}], "rule form"))
        return Mutation(kind, ("datasets", ds, "rules", len(rules) - 1), invalid=True)
    if kind == "secret":
        key = draws.choice(["url_env", "token_env"], "secret field")
        channel = {"type": "webhook" if key == "url_env" else "slack", key: SECRET}
        if key == "token_env":
            channel["channel"] = "#ml"
        data["monitoring"]["alerts"]["channels"] = [channel]
        return Mutation(kind, ("monitoring", "alerts", "channels", 0, key), invalid=True)
    if kind == "combo":
        first, second = _mutate(data, draws, DATA_KINDS), _mutate(data, draws, DATA_KINDS)
        return Mutation(f"{first.kind}+{second.kind}", first.where, invalid=False)
    text = dump_yaml(data)
    lines = text.splitlines()
    if kind == "duplicate_key":
        inline = re.compile(r"^(?P<indent> *)(?P<dash>- )?(?P<key>[A-Za-z_]\w*): \S")
        candidates = [i for i, line in enumerate(lines) if inline.match(line)]
        i = draws.choice(candidates, "duplicated line")
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


def _check_error(err: ConfigError, mutation: Mutation, files: set[str]) -> None:
    why = mutation.describe()
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


@pytest.mark.timeout(900)  # ~10 s of CPU; minutes of wall time on a loaded 2-core box
def test_mutated_configs_load_or_fail_with_file_line_and_key_path(tmp_path: Path) -> None:
    configs = tmp_path / "configs"
    (configs / "use_cases").mkdir(parents=True)
    (configs / "environments").mkdir()
    env_text = (CONFIGS_DIR / "environments" / "local.yaml").read_text()
    (configs / "environments" / "local.yaml").write_text(env_text)
    bases = {name: read_yaml(use_case_file(CONFIGS_DIR, name))[0] for name in SHIPPED}
    environ = environ_for(tmp_path / "data")
    outcomes: dict[str, int] = {"valid": 0, "config_error": 0}

    @settings(
        max_examples=CASES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(st.data())
    def mutated_config_loads_or_fails_precisely(drawn: st.DataObject) -> None:
        draws = Draws(drawn)
        name = draws.choice(SHIPPED, "use case")
        data = copy.deepcopy(bases[name])
        mutation = _mutate(data, draws)
        path = use_case_file(configs, name)
        for other in (configs / "use_cases").glob("*.yaml"):
            other.unlink()
        path.write_text(mutation.text or dump_yaml(data), encoding="utf-8")
        try:
            load_project(configs, environ=environ)
        except ConfigError as err:
            outcomes["config_error"] += 1
            _check_error(err, mutation, {str(path)})
        except Exception as exc:  # the property: nothing but ConfigError escapes
            pytest.fail(f"{mutation.describe()}: {type(exc).__name__}: {exc}")
        else:
            outcomes["valid"] += 1
            assert not mutation.invalid, f"{mutation.describe()}: invalid config accepted"

    started, cpu = time.perf_counter(), time.process_time()
    mutated_config_loads_or_fails_precisely()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    total = sum(outcomes.values())
    print(f"\n{total} mutated configs in {seconds:.1f} s ({cpu:.1f} s CPU): {outcomes}")
    assert total >= CASES  # Hypothesis ran every example (and more when it shrank)
    assert outcomes["valid"] > 0 and outcomes["config_error"] > total // 2
