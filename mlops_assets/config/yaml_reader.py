"""Read one YAML file safely: YAML 1.2 booleans, no duplicate keys, bounded size and nesting.

The node tree is composed from the file's event stream (LibYAML's parser when PyYAML has it),
checking on the way -- before any data is built:

* a key written twice in a mapping is an error at the line of the second one (YAML would silently
  keep the last);
* the document may expand to at most :data:`MAX_NODES` values, counting every use of an alias as
  a copy of its anchor, so an alias bomb ("billion laughs") fails in milliseconds instead of
  eating gigabytes in the steps that copy the data;
* nesting is bounded by :data:`MAX_DEPTH` (the steps that copy and validate the data recurse;
  LibYAML's own composer crashed the process on 100,000 levels) and an alias may not refer to
  the node that contains it (a recursive structure).
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


Loc = tuple[str | int, ...]


@dataclass
class _Frame:
    """An open mapping or list while the events are composed."""

    node: yaml.MappingNode | yaml.SequenceNode
    path: Loc
    anchor: str | None
    size: int = 1
    key: yaml.Node | None = None  # a mapping's key waiting for its value
    key_name: str | int = "?"
    seen: dict[str, int] = field(default_factory=dict)


class _Composer:
    """Build the node tree from the event stream (as PyYAML's composer does), checking on the
    way: duplicate keys, expansion size, depth, undefined and recursive aliases, one document."""

    def __init__(self, path: Path, loader: Any) -> None:
        self.file = path
        self.loader = loader
        self.frames: list[_Frame] = []
        self.anchors: dict[str, tuple[yaml.Node, int]] = {}
        self.total = 0
        self.root: yaml.Node | None = None
        self.documents = 0

    def fail(self, event: yaml.Event, where: Loc, message: str, fix: str) -> None:
        line = event.start_mark.line + 1 if event.start_mark is not None else None
        raise ConfigError(
            f"{self.file}:{line}: {key_path(where)}: {message}",
            context={"file": str(self.file), "line": line, "key_path": key_path(where)},
            fix=fix,
        )

    def place(self, event: yaml.NodeEvent) -> Loc:
        """The key path of the node starting at ``event``; a key is checked for duplicates."""
        if not self.frames:
            return ()
        parent = self.frames[-1]
        if isinstance(parent.node, yaml.SequenceNode):
            return (*parent.path, len(parent.node.value))
        if parent.key is not None:
            return (*parent.path, parent.key_name)
        if not isinstance(event, yaml.ScalarEvent):
            parent.key_name = "?"  # a complex key: the constructor refuses it later
            return (*parent.path, "?")
        name = event.value
        if name in parent.seen:
            self.fail(
                event,
                (*parent.path, name),
                f"key `{name}` appears twice in the same mapping (first at line "
                f"{parent.seen[name]}); YAML would silently keep only the last one",
                "remove or rename one of the two",
            )
        parent.seen[name] = event.start_mark.line + 1 if event.start_mark else 0
        parent.key_name = name
        return (*parent.path, name)

    def attach(self, node: yaml.Node, event: yaml.Event, where: Loc, size: int) -> None:
        self.total += size
        if self.total > MAX_NODES:
            self.fail(
                event,
                where,
                f"the document expands to more than {MAX_NODES:,} values (every use of an "
                "alias `*name` copies its anchor): refused as an alias bomb",
                "use fewer or smaller aliases; a real configuration is far smaller",
            )
        if not self.frames:
            self.root = node
            return
        parent = self.frames[-1]
        parent.size += size
        if isinstance(parent.node, yaml.SequenceNode):
            parent.node.value.append(node)
        elif parent.key is None:
            parent.key = node
        else:
            parent.node.value.append((parent.key, node))
            parent.key = None

    def alias(self, event: yaml.AliasEvent, where: Loc) -> None:
        name = event.anchor or ""
        if any(f.anchor == name for f in self.frames):
            self.fail(
                event,
                where,
                f"alias *{name} is used inside its own anchor (a recursive structure)",
                "point the alias at a node that does not contain it",
            )
        if name not in self.anchors:
            self.fail(
                event,
                where,
                f"alias *{name} has no anchor &{name} before it",
                f"define `&{name}` on an earlier node, or fix the alias name",
            )
        node, size = self.anchors[name]
        self.attach(node, event, where, size)

    def start(self, event: yaml.CollectionStartEvent, where: Loc) -> None:
        if len(self.frames) >= MAX_DEPTH:
            self.fail(
                event,
                where,
                f"nested deeper than {MAX_DEPTH} levels",
                "flatten the structure; configurations need a handful of levels",
            )
        mapping = isinstance(event, yaml.MappingStartEvent)
        kind = yaml.MappingNode if mapping else yaml.SequenceNode
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(kind, None, event.implicit)
        start: Any = event.start_mark  # LibYAML's marks have the same fields as PyYAML's
        node = kind(tag, [], start, None, flow_style=event.flow_style)
        self.attach(node, event, where, 1)
        self.frames.append(_Frame(node, where, event.anchor))

    def event(self, event: yaml.Event) -> None:
        if isinstance(event, yaml.ScalarEvent):  # the most frequent events first
            where = self.place(event)
            tag = event.tag
            if tag is None or tag == "!":
                tag = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
            marks: tuple[Any, Any] = (event.start_mark, event.end_mark)
            node = yaml.ScalarNode(tag, event.value, *marks, style=event.style)
            if event.anchor:
                self.anchors[event.anchor] = (node, 1)
            self.attach(node, event, where, 1)
        elif isinstance(event, yaml.CollectionEndEvent):
            done = self.frames.pop()
            done.node.end_mark = event.end_mark
            if done.anchor:
                self.anchors[done.anchor] = (done.node, done.size)
            if self.frames:
                self.frames[-1].size += done.size - 1  # its own 1 was counted at its start
        elif isinstance(event, yaml.AliasEvent):
            self.alias(event, self.place(event))
        elif isinstance(event, yaml.CollectionStartEvent):
            self.start(event, self.place(event))
        elif isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                self.fail(
                    event,
                    (),
                    "the file holds more than one YAML document (a second `---`)",
                    "keep one document per file",
                )

    def compose(self) -> yaml.Node | None:
        while (event := self.loader.get_event()) is not None:
            self.event(event)
        return self.root


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
        loader = _Yaml12Loader(text)
        try:  # parse once: the node tree gives line numbers, the data is built from it
            node = _Composer(path, loader).compose()
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
