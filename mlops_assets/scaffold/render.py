"""The commented use-case YAML of a profiled sample table.

Layout: the observations dataset (every sample column but the label, keys and event time guessed),
a labels dataset (the label arrives later, as in the shipped use cases), a gold `latest` table and,
when the sample has a category, a gold aggregate; one feature table (the columns a model can use
plus two 7-day window features), the training set and a model whose task, metrics and gates fit
the label. Starter rules: not-null entity ids, accepted values of the categories and ranges of
the numbers (observed min/max widened by a margin). Every guess is marked `# REVIEW`.
"""

import datetime as dt
import json
import math
import re
from collections.abc import Iterable

from mlops_assets.config.datasets import NAME_PATTERN
from mlops_assets.scaffold.profile import ColumnProfile, TableProfile, Task
from mlops_assets.simulate.sources import normalise

REVIEW = "# REVIEW"
RANGE_MARGIN = 0.1
"""Ranges allow this share of the observed span beyond the observed min and max."""
START_DAYS_AGO = 60
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
_YAML_WORDS = {"y", "yes", "n", "no", "true", "false", "on", "off", "null", "~"}
_GATES: dict[Task, tuple[str, str, str]] = {  # (threshold, max_degradation, performance)
    "binary": (
        "{metric: roc_auc, min: 0.6}",
        "{roc_auc: 0.05}",
        "metrics: [roc_auc, f1, accuracy]\n    max_degradation: {roc_auc: 0.05}",
    ),
    "multiclass": (
        "{metric: accuracy, min: %s}",
        "{f1_macro: 0.05}",
        "metrics: [accuracy, f1_macro]\n    max_degradation: {f1_macro: 0.05}",
    ),
    "regression": (
        "{metric: r2, min: 0.1}",
        "{r2: 0.05}",
        "metrics: [rmse, mae, r2]\n    max_degradation: {r2: 0.1}",
    ),
}


def _q(value: object) -> str:
    """A YAML scalar: plain when unambiguous, else a JSON (= YAML double-quoted) string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    plain = _PLAIN.match(text) and text.lower() not in _YAML_WORDS
    return text if plain else json.dumps(text)


def _flow(items: Iterable[object]) -> str:
    return "[" + ", ".join(_q(i) for i in items) + "]"


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
        parts.append(f"source: {_q(c.source)}")
    parts.append(f"description: {_q(_describe(c, rows))}")
    return "      - {" + ", ".join(parts) + "}"


def _rules(p: TableProfile, columns: list[ColumnProfile]) -> list[str]:
    lines = [
        f"      - {{type: not_null, column: {p.entity.name}, blocking: true, "
        "max_failure_fraction: 0.05}",
    ]
    for c in columns:
        if c.dtype == "string" and c.levels and c.name not in (p.entity.name, p.time.name):
            lines.append(
                f"      - {{type: accepted_values, column: {c.name}, values: {_flow(c.levels)}}}"
                f"  {REVIEW}: the {len(c.levels)} values of the sample"
            )
        bounds = _bounds(c) if c.is_numeric and c.name != p.entity.name else None
        if bounds is not None:
            lines.append(
                f"      - {{type: range, column: {c.name}, min: {bounds[0]}, max: {bounds[1]}}}"
                f"  {REVIEW}: observed {c.low:g} .. {c.high:g}, widened"
            )
    return lines


def _dataset_name(p: TableProfile) -> str:
    name = normalise(p.path.stem)
    ok = re.match(NAME_PATTERN, name) and name not in ("labels", p.label.name)
    return name if ok else "observations"


def _unused(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}_{n}", n + 1
    taken.add(candidate)
    return candidate


def _datasets(p: TableProfile, name: str, label_ts: str, fmt: str) -> list[str]:
    observed = [c for c in p.columns if c.name != p.label.name]
    entity, time, label = p.entity, p.time, p.label
    guess = "guessed" if entity.source else "generated (the sample has no id column)"
    when = "guessed" if time.source else "generated (the sample has no time column)"
    lines = [
        "datasets:",
        f"  - name: {name}",
        f"    description: {_q(f'Observations shaped like {p.path.name}, one file a day.')}",
        f"    source: {{format: {fmt}}}",
        f"    keys: [{entity.name}, {time.name}]  {REVIEW}: entity id {guess}",
        f"    event_time: {time.name}  {REVIEW}: event time {when}",
        "    columns:",
        *(_column(c, p.rows, required=c in (entity, time)) for c in observed),
        "    rules:",
        *_rules(p, observed),
        "",
        "  - name: labels",
        f"    description: {_q(f'The {label.name} of each observation, known some days later.')}",
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
            f"      - {{type: accepted_values, column: {label.name}, values: "
            f"{_flow(label.levels)}}}"
        )
    elif label.is_numeric:
        bounds = _bounds(label)
        if bounds is not None:
            lines.append(
                f"      - {{type: range, column: {label.name}, min: {bounds[0]}, "
                f"max: {bounds[1]}}}  {REVIEW}: observed {label.low:g} .. {label.high:g}"
            )
    return lines


def _gold(p: TableProfile, name: str, features: list[ColumnProfile]) -> list[str]:
    lines = [
        "gold:",
        "  - type: latest",
        f"    name: {p.entity.name.removesuffix('_id')}_latest",
        "    description: The latest observation of each entity seen that day.",
        f"    source: silver.{name}",
        f"    keys: [{p.entity.name}]",
        f"    order_by: [{p.time.name}]",
    ]
    category = next((c for c in features if c.dtype == "string"), None)
    number = next((c for c in features if c.is_numeric), None)
    if category is not None:
        taken = {category.name}
        aggs = [f"{{name: {_unused('observations', taken)}, agg: count}}"]
        aggs.append(
            f"{{name: {_unused('entities', taken)}, agg: n_unique, column: {p.entity.name}}}"
        )
        if number is not None:
            avg = _unused(f"avg_{number.name}", taken)
            aggs.append(f"{{name: {avg}, agg: mean, column: {number.name}}}")
        lines += [
            "  - type: aggregate",
            f"    name: daily_{category.name}_summary",
            f"    description: Observations per {category.name}, per day.",
            f"    source: silver.{name}",
            f"    group_by: [{category.name}]",
            "    aggregations:",
            *(f"      - {a}" for a in aggs),
        ]
    return lines


def _features(
    p: TableProfile, name: str, features: list[ColumnProfile]
) -> tuple[list[str], list[str], list[str]]:
    """The feature table's lines, and the model's numeric and categorical features."""
    numeric: list[str] = []
    categorical: list[str] = []
    lines = [
        "feature_tables:",
        "  - name: features",
        "    description: Model features per observation.",
        f"    source: silver.{name}",
        f"    entity_key: {p.entity.name}",
        f"    timestamp: {p.time.name}",
        "    features:",
    ]
    for c in features:
        dtype = "int64" if c.dtype == "bool" else c.dtype
        (categorical if dtype == "string" else numeric).append(c.name)
        what = _q(f"{c.source} as observed" + (" (1 = true)" if c.dtype == "bool" else ""))
        lines.append(
            f"      - {{name: {c.name}, expr: {c.name}, dtype: {dtype}, description: {what}}}"
        )
    taken = {c.name for c in p.columns} | {c.name for c in features}
    windowed = next((c for c in features if c.is_numeric), features[0])
    mean = _unused(f"{windowed.name}_mean_7d", taken) if windowed.is_numeric else None
    count = _unused("observations_7d", taken)
    if mean is not None:
        lines.append(
            f"      - {{type: window, name: {mean}, column: {windowed.name}, agg: mean, "
            f"window_days: 7, description: Mean {windowed.name} of the entity over 7 days}}"
        )
        numeric.append(mean)
    lines.append(
        f"      - {{type: window, name: {count}, column: {windowed.name}, agg: count, "
        "window_days: 7, description: Observations of the entity in the last 7 days}"
    )
    numeric.append(count)
    return lines, numeric, categorical


def _model(p: TableProfile, numeric: list[str], categorical: list[str]) -> list[str]:
    threshold, degradation, _ = _GATES[p.task]
    if p.task == "multiclass":
        classes = len(p.label.levels or ()) or 3
        threshold %= f"{min(0.9, round(1.2 / classes, 2))}"
    estimator = "Regressor" if p.task == "regression" else "Classifier"
    why = "guessed from the label's values"
    lines = [
        "model:",
        f"  name: {p.label.name}_model",
        f"  description: {_q(f'Gradient-boosted {p.task} model of {p.label.name}.')}",
        f"  task: {p.task}  {REVIEW}: {why} ({p.label.distinct:,} distinct {p.label.dtype})",
        f"  label: {p.label.name}"
        + (f"  {REVIEW}: guessed label column" if p.label_guessed else ""),
    ]
    if p.positive_label is not None:
        lines.append(f"  positive_label: {_q(p.positive_label)}  {REVIEW}: the rarer class")
    lines += [
        f"  entity_key: {p.entity.name}",
        f"  timestamp: {p.time.name}",
        f"  numeric_features: {_flow(numeric)}",
        f"  categorical_features: {_flow(categorical)}",
        "  imputation: {numeric: median}",
        "  flavor:",
        "    type: sklearn",
        f"    estimator: sklearn.ensemble.HistGradientBoosting{estimator}",
        "    params: {max_iter: 100, learning_rate: 0.1, random_state: 7}",
        "  split: {train: 0.7, validation: 0.15, test: 0.15, seed: 42}",
        "  gates:",
        "    mode: ${MLOPS_GATE_MODE:-enabled}",
        f"    thresholds: [{threshold}]  {REVIEW}: the least a first model must reach",
        "    min_improvement: 0.0",
        f"    max_degradation: {degradation}",
    ]
    return lines


def render_use_case(name: str, profile: TableProfile, today: dt.date | None = None) -> str:
    """The use-case YAML of `profile` (see the module docstring)."""
    today = today or dt.date.today()
    dataset = _dataset_name(profile)
    fmt = "parquet" if profile.path.suffix.lower() == ".parquet" else "csv"
    label_ts = _unused("label_ts", {profile.entity.name, profile.time.name, profile.label.name})
    features = profile.features
    feature_lines, numeric, categorical = _features(profile, dataset, features)
    skipped = ", ".join(profile.skipped)
    unused = [
        c.name
        for c in profile.columns
        if c not in features and c not in (profile.entity, profile.time, profile.label)
    ]
    header = [
        f"# Use case `{name}`, scaffolded by `mlops-assets init {name} --from-table "
        f"{profile.path.name}`",
        f"# from {profile.path} ({profile.rows:,} rows, {len(profile.columns)} columns declared) "
        f"on {today.isoformat()}.",
        f"# Lines marked `{REVIEW}` are guesses: check them, then run `mlops-assets validate`,",
        f"# `mlops-assets simulate --use-case {name} --source {profile.path}` and",
        f"# `mlops-assets demo --use-case {name}`. Editor support: "
        "configs/schema/use_case.schema.json",
    ]
    if unused:
        header.append(f"# Not model features (ids, free text, dates): {', '.join(unused)}.")
    if skipped:
        header.append(f"# Sample columns of an unsupported type, left out: {skipped}.")
    _, _, performance = _GATES[profile.task]
    purpose = f"Predict {profile.label.name} from observations like {profile.path.name}."
    body = [
        f"name: {name}",
        f"description: {_q(purpose)}",
        "owners: []",
        f'start_date: "{(today - dt.timedelta(days=START_DAYS_AGO)).isoformat()}"',
        "",
        *_datasets(profile, dataset, label_ts, fmt),
        "",
        *_gold(profile, dataset, features),
        "",
        *feature_lines,
        "",
        "training_set:",
        "  name: training_set",
        "  feature_table: features",
        "  labels: silver.labels",
        f"  label_column: {profile.label.name}",
        f"  label_timestamp: {profile.time.name}",
        "",
        *_model(profile, numeric, categorical),
        "",
        "monitoring:",
        "  drift:",
        "    drift_share: 0.3",
        "  performance:",
        f"    {performance}",
        "  alerts:",
        "    channels: []",
    ]
    return "\n".join([*header, *body]) + "\n"
