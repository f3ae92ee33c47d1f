"""Short string rules (``customer_id is not null``) parsed into typed rules.

A string that matches none of the shapes below becomes a :class:`SqlRule`, so any boolean SQL
expression is a valid rule. Options such as severity can be given with the mapping form instead.
"""

import re
from typing import Any

from pydantic import TypeAdapter

from mlops_assets.config.rules import Rule

_IDENT = r"(?P<col>[A-Za-z_][A-Za-z0-9_]*)"
_NUM = r"[-+]?\d+(?:\.\d+)?"
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"^{_IDENT}\s+is\s+not\s+null$", re.I), "not_null"),
    (re.compile(rf"^{_IDENT}\s+is\s+unique$", re.I), "unique"),
    (re.compile(r"^row_count\s*(?P<op>>=|>)\s*(?P<n>\d+)$", re.I), "row_count_min"),
    (re.compile(r"^column_count\s*(?P<op>>=|>|<=|<|=|==)\s*(?P<n>\d+)$", re.I), "column_count"),
    (
        re.compile(rf"^{_IDENT}\s+between\s+(?P<lo>{_NUM})\s+and\s+(?P<hi>{_NUM})$", re.I),
        "between",
    ),
    (re.compile(rf"^{_IDENT}\s*(?P<op>>=|>|<=|<)\s*(?P<n>{_NUM})$", re.I), "compare"),
    (re.compile(rf"^{_IDENT}\s+in\s*\((?P<vals>.*)\)$", re.I), "in"),
    (re.compile(rf"^{_IDENT}\s+matches\s+'(?P<pat>(?:[^']|'')*)'$", re.I), "regex"),
    (
        re.compile(rf"^{_IDENT}\s+fresher\s+than\s+(?P<n>\d+)\s*(?P<unit>[smhd])$", re.I),
        "freshness",
    ),
]
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RULE_ADAPTER: TypeAdapter[Rule] = TypeAdapter(Rule)


def _number(text: str) -> int | float:
    return float(text) if "." in text else int(text)


def _values(text: str) -> list[Any]:
    values: list[Any] = []
    for raw in re.findall(r"'(?:[^']|'')*'|[^,\s]+", text):
        values.append(raw[1:-1].replace("''", "'") if raw.startswith("'") else _number(raw))
    return values


def rule_string_to_mapping(text: str) -> dict[str, Any]:
    """The mapping form of a string rule (before validation)."""
    stripped = " ".join(text.split())
    for pattern, kind in _PATTERNS:
        m = pattern.match(stripped)
        if m is None:
            continue
        g = m.groupdict()
        if kind in ("not_null", "regex", "freshness", "in", "between", "compare"):
            col = g["col"]
        if kind == "not_null":
            return {"type": "not_null", "column": col}
        if kind == "unique":
            return {"type": "unique", "columns": [g["col"]]}
        if kind == "row_count_min":
            n = int(g["n"]) + (1 if g["op"] == ">" else 0)
            return {"type": "row_count_min", "min": n}
        if kind == "column_count":
            n, op = int(g["n"]), g["op"]
            bounds = {">=": {"min": n}, ">": {"min": n + 1}, "<=": {"max": n}, "<": {"max": n - 1}}
            return {"type": "column_count", **bounds.get(op, {"min": n, "max": n})}
        if kind == "between":
            return {
                "type": "range",
                "column": col,
                "min": _number(g["lo"]),
                "max": _number(g["hi"]),
            }
        if kind == "compare":
            op, bound = g["op"], _number(g["n"])
            side = "min" if op.startswith(">") else "max"
            return {"type": "range", "column": col, side: bound, f"{side}_inclusive": "=" in op}
        if kind == "in":
            return {"type": "accepted_values", "column": col, "values": _values(g["vals"])}
        if kind == "regex":
            return {"type": "regex", "column": col, "pattern": g["pat"].replace("''", "'")}
        seconds = int(g["n"]) * _UNIT_SECONDS[g["unit"].lower()]
        return {"type": "freshness", "column": col, "max_age": seconds}
    return {"type": "sql", "expression": stripped}


def parse_rule_string(text: str) -> Rule:
    """Parse a string rule into its typed form."""
    return _RULE_ADAPTER.validate_python(rule_string_to_mapping(text))
