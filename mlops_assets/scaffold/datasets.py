"""The datasets part of a scaffolded use case: YAML scalars, starter rules and the two datasets
(the observations, every sample column but the label; the labels, arriving later)."""

import json
import math
import re
from collections.abc import Iterable

from mlops_assets.config.datasets import NAME_PATTERN
from mlops_assets.scaffold.profile import ColumnProfile, TableProfile
from mlops_assets.simulate.sources import normalise

REVIEW = "# REVIEW"
RANGE_MARGIN = 0.1
"""Ranges allow this share of the observed span beyond the observed min and max."""
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
_YAML_WORDS = {"y", "yes", "n", "no", "true", "false", "on", "off", "null", "~"}


def q(value: object) -> str:
    """A YAML scalar: plain when unambiguous, else a JSON (= YAML double-quoted) string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    plain = _PLAIN.match(text) and text.lower() not in _YAML_WORDS
    return text if plain else json.dumps(text)


def flow(items: Iterable[object]) -> str:
    return "[" + ", ".join(q(i) for i in items) + "]"


def _bounds(column: ColumnProfile) -> tuple[str, str] | None:
    """The observed [min, max] widened by RANGE_MARGIN of the span, rounded outwards."""
    if column.low is None or column.high is None:
        return None
    low, high = column.low, column.high
    span = high - low
    margin = RANGE_MARGIN * span if span > 0 else max(1.0, RANGE_MARGIN * abs(high))
    step = 10.0 ** math.floor(math.log10(margin))
    if column.dtype == "int64":
        step = max(step, 1.0)
    lo = math.floor((low - margin) / step) * step
    hi = math.ceil((high + margin) / step) * step
    lo = 0.0 if low >= 0 > lo else lo
    decimals = max(0, -math.floor(math.log10(step)))
    return f"{lo:.{decimals}f}", f"{hi:.{decimals}f}"


def _describe(c: ColumnProfile, rows: int) -> str:
    if c.source is None:
        return "generated: the sample has no such column"
    seen = f"{c.distinct:,} distinct, {c.nulls:,} null of {rows:,}"
    if c.low is not None and c.high is not None:
        seen += f"; {c.low:g} .. {c.high:g}"
    return f"{c.source}: {seen}"


def _column(c: ColumnProfile, rows: int, required: bool = False) -> str:
    parts = [f"name: {c.name}", f"dtype: {c.dtype}"]
    if required:
        parts.append("nullable: false")
    if c.source is not None and c.source != c.name:
        parts.append(f"source: {q(c.source)}")
    parts.append(f"description: {q(_describe(c, rows))}")
    return "      - {" + ", ".join(parts) + "}"


def _rules(p: TableProfile, columns: list[ColumnProfile]) -> list[str]:
    lines = [
        f"      - {{type: not_null, column: {p.entity.name}, blocking: true, "
        "max_failure_fraction: 0.05}",
    ]
    for c in columns:
        if c.dtype == "string" and c.levels and c.name not in (p.entity.name, p.time.name):
            lines.append(
                f"      - {{type: accepted_values, column: {c.name}, values: {flow(c.levels)}}}"
                f"  {REVIEW}: the {len(c.levels)} values of the sample"
            )
        bounds = _bounds(c) if c.is_numeric and c.name != p.entity.name else None
        if bounds is not None:
            lines.append(
                f"      - {{type: range, column: {c.name}, min: {bounds[0]}, max: {bounds[1]}}}"
                f"  {REVIEW}: observed {c.low:g} .. {c.high:g}, widened"
            )
    return lines


def dataset_name(p: TableProfile) -> str:
    name = normalise(p.path.stem)
    ok = re.match(NAME_PATTERN, name) and name not in ("labels", p.label.name)
    return name if ok else "observations"


def unused(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}_{n}", n + 1
    taken.add(candidate)
    return candidate


def datasets(p: TableProfile, name: str, label_ts: str, fmt: str) -> list[str]:
    observed = [c for c in p.columns if c.name != p.label.name]
    entity, time, label = p.entity, p.time, p.label
    guess = "guessed" if entity.source else "generated (the sample has no id column)"
    when = "guessed" if time.source else "generated (the sample has no time column)"
    lines = [
        "datasets:",
        f"  - name: {name}",
        f"    description: {q(f'Observations shaped like {p.path.name}, one file a day.')}",
        f"    source: {{format: {fmt}}}",
        f"    keys: [{entity.name}, {time.name}]  {REVIEW}: entity id {guess}",
        f"    event_time: {time.name}  {REVIEW}: event time {when}",
        "    columns:",
        *(_column(c, p.rows, required=c in (entity, time)) for c in observed),
        "    rules:",
        *_rules(p, observed),
        "",
        "  - name: labels",
        f"    description: {q(f'The {label.name} of each observation, known some days later.')}",
        f"    source: {{format: {fmt}}}",
        f"    keys: [{entity.name}, {time.name}]",
        f"    event_time: {label_ts}",
        "    columns:",
        f"      - {{name: {entity.name}, dtype: {entity.dtype}, nullable: false}}",
        f"      - {{name: {time.name}, dtype: {time.dtype}, nullable: false, "
        "description: Time of the observation labelled}",
        _column(label, p.rows, required=True),
        f"      - {{name: {label_ts}, dtype: {time.dtype}, description: When the label became "
        "known}",
        "    rules:",
        f'      - "{label_ts} >= {time.name}"',
    ]
    if label.levels:
        lines.append(
            f"      - {{type: accepted_values, column: {label.name}, values: {flow(label.levels)}}}"
        )
    elif label.is_numeric:
        bounds = _bounds(label)
        if bounds is not None:
            lines.append(
                f"      - {{type: range, column: {label.name}, min: {bounds[0]}, "
                f"max: {bounds[1]}}}  {REVIEW}: observed {label.low:g} .. {label.high:g}"
            )
    return lines
