"""Read one YAML file safely: YAML 1.2 booleans, no duplicate keys, bounded size and nesting.

Before anything is built, the file's event stream (LibYAML when PyYAML has it) is scanned once:

* a key written twice in a mapping is an error at the line of the second one (YAML would silently
  keep the last);
* the document may expand to at most :data:`MAX_NODES` values, counting every use of an alias as
  a copy of its anchor, so an alias bomb ("billion laughs") fails in milliseconds instead of
  eating gigabytes in the steps that copy the data;
* nesting is bounded by :data:`MAX_DEPTH` (LibYAML's composer recurses in C and crashes the
  process on very deep nesting) and an alias may not refer to the node that contains it.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlops_assets.config.problems import key_path
from mlops_assets.errors import ConfigError

MAX_NODES = 50_000
"""Most values (scalars, mappings, lists) a config may expand to, aliases counted as copies."""
MAX_DEPTH = 64
"""Deepest nesting of mappings and lists."""


class _Yaml12Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """YAML 1.2 booleans: only true/false, so `on:`, `yes` and `No` stay strings.

    LibYAML's parser when PyYAML has it (the code location loads configs at every start, sensor
    tick and step); the resolvers below are Python either way.
    """


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


@dataclass
class _Frame:
    """An open mapping or list while the event stream is scanned."""

    is_mapping: bool
    path: tuple[str | int, ...]
    anchor: str | None
    size: int = 1
    index: int = 0
    expecting_key: bool = True
    key: str | int = "?"
    seen: dict[str, int] = field(default_factory=dict)


class _Scan:
    """One pass over the events: duplicate keys, expansion size, depth, recursive aliases."""

    def __init__(self, path: Path) -> None:
        self.file = path
        self.frames: list[_Frame] = []
        self.anchors: dict[str, int] = {}
        self.total = 0

    def fail(self, event: yaml.Event, where: tuple[str | int, ...], message: str, fix: str) -> None:
        line = event.start_mark.line + 1 if event.start_mark is not None else None
        raise ConfigError(
            f"{self.file}:{line}: {key_path(where)}: {message}",
            context={"file": str(self.file), "line": line, "key_path": key_path(where)},
            fix=fix,
        )

    def place(self, event: yaml.NodeEvent) -> tuple[str | int, ...]:
        """The key path of the node starting at ``event`` (and record it in its parent)."""
        if not self.frames:
            return ()
        parent = self.frames[-1]
        if not parent.is_mapping:
            parent.index += 1
            return (*parent.path, parent.index - 1)
        if not parent.expecting_key:
            parent.expecting_key = True
            return (*parent.path, parent.key)
        parent.expecting_key = False
        if not isinstance(event, yaml.ScalarEvent):
            parent.key = "?"  # a complex key: the constructor refuses it later
            return (*parent.path, "?")
        name, line = event.value, event.start_mark.line + 1 if event.start_mark else 0
        if name in parent.seen:
            self.fail(
                event,
                (*parent.path, name),
                f"key `{name}` appears twice in the same mapping (first at line "
                f"{parent.seen[name]}); YAML would silently keep only the last one",
                "remove or rename one of the two",
            )
        parent.seen[name] = line
        parent.key = name
        return (*parent.path, name)

    def add(self, event: yaml.Event, where: tuple[str | int, ...], size: int) -> None:
        self.total += size
        if self.frames:
            self.frames[-1].size += size
        if self.total > MAX_NODES:
            self.fail(
                event,
                where,
                f"the document expands to more than {MAX_NODES:,} values (every use of an "
                "alias `*name` copies its anchor): refused as an alias bomb",
                "use fewer or smaller aliases; a real configuration is far smaller",
            )

    def event(self, event: yaml.Event) -> None:
        if isinstance(event, yaml.ScalarEvent | yaml.AliasEvent | yaml.CollectionStartEvent):
            where = self.place(event)
        if isinstance(event, yaml.ScalarEvent):
            if event.anchor:
                self.anchors[event.anchor] = 1
            self.add(event, where, 1)
        elif isinstance(event, yaml.AliasEvent):
            if any(f.anchor == event.anchor for f in self.frames):
                self.fail(
                    event,
                    where,
                    f"alias *{event.anchor} is used inside its own anchor (a recursive structure)",
                    "point the alias at a node that does not contain it",
                )
            if event.anchor not in self.anchors:
                self.fail(
                    event,
                    where,
                    f"alias *{event.anchor} has no anchor &{event.anchor} before it",
                    f"define `&{event.anchor}` on an earlier node, or fix the alias name",
                )
            self.add(event, where, self.anchors[event.anchor or ""])
        elif isinstance(event, yaml.CollectionStartEvent):
            if len(self.frames) >= MAX_DEPTH:
                self.fail(
                    event,
                    where,
                    f"nested deeper than {MAX_DEPTH} levels",
                    "flatten the structure; configurations need a handful of levels",
                )
            self.add(event, where, 1)
            is_mapping = isinstance(event, yaml.MappingStartEvent)
            self.frames.append(_Frame(is_mapping, where, event.anchor))
        elif isinstance(event, yaml.CollectionEndEvent):
            done = self.frames.pop()
            if done.anchor:
                self.anchors[done.anchor] = done.size
            if self.frames:
                self.frames[-1].size += done.size - 1  # its own 1 was added at its start


def _scan(text: str, path: Path) -> None:
    scan = _Scan(path)
    loader = _Yaml12Loader(text)
    try:
        while (event := loader.get_event()) is not None:
            scan.event(event)
    finally:
        loader.dispose()


def read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """Parse a YAML file, returning the data and its node tree (for line numbers)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(
            f"configuration file not found: {path}",
            context={"file": str(path)},
            fix="create it, or point MLOPS_CONFIG_DIR at the folder holding configs",
        ) from exc
    except (UnicodeDecodeError, IsADirectoryError) as exc:
        raise ConfigError(
            f"{path} is not a UTF-8 text file: {exc}",
            context={"file": str(path), "line": 1},
            fix="save the file as UTF-8 YAML",
        ) from exc
    try:
        _scan(text, path)
        loader = _Yaml12Loader(text)
        try:  # parse once: the node tree gives line numbers, the data is built from it
            node: yaml.Node | None = loader.get_single_node()
            return (loader.construct_document(node) if node is not None else None), node
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        start, context = getattr(exc, "context_mark", None), getattr(exc, "context", None)
        if start is not None and context and (mark is None or start.line != mark.line):
            where += f" ({context} started at line {start.line + 1})"  # e.g. an unclosed [
        raise ConfigError(
            f"{path}:{where} is not valid YAML: {getattr(exc, 'problem', exc)}",
            context={"file": str(path), "line": mark.line + 1 if mark else None},
            fix="check indentation and quoting; strings with ':' or '#' need quotes",
        ) from exc
