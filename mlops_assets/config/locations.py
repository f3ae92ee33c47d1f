"""Map a key path to where it is written: the line in the YAML node tree, the path in the file."""

from typing import Any

import yaml


def line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """Line of the deepest part of ``loc`` found in the file (the document's first line when
    even the first part is missing, e.g. a required top-level key)."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            pairs = [(k, v) for k, v in node.value if getattr(k, "value", None) == str(part)]
            if not pairs:
                break
            line = pairs[0][0].start_mark.line + 1
            node = pairs[0][1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def in_file(data: Any, loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """``loc`` as written in the file: without the union tags Pydantic inserts
    (``rules.0.not_null.column`` becomes ``rules.0.column``), ending at a string rule."""
    kept: list[Any] = []
    for i, part in enumerate(loc):
        if not isinstance(data, dict | list) and kept:
            break  # inside a value written as a string (a string rule): the path ends there
        is_last = i == len(loc) - 1
        if isinstance(data, dict) and isinstance(part, str) and part not in data and not is_last:
            continue  # a union tag, not a key of the file
        kept.append(part)
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            data = None
    return tuple(kept)


def present(data: Any, loc: tuple[Any, ...]) -> bool:
    """Whether every part of ``loc`` is written in ``data``."""
    for part in loc:
        in_mapping = isinstance(data, dict) and part in data
        in_list = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if not (in_mapping or in_list):
            return False
        data = data[part]
    return True
