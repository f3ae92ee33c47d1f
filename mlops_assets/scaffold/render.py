"""The commented use-case YAML of a profiled sample table.

Layout: the observations dataset (every sample column but the label, keys and event time guessed),
a labels dataset (the label arrives later, as in the shipped use cases), a gold `latest` table and,
when the sample has a category, a gold aggregate; one feature table (the columns a model can use
plus two 7-day window features), the training set and a model whose task, metrics and gates fit
the label. Starter rules: not-null entity ids, accepted values of the categories and ranges of
the numbers (observed min/max widened by a margin). Every guess is marked `# REVIEW`.
"""

import datetime as dt

from mlops_assets.scaffold.datasets import REVIEW, dataset_name, datasets, flow, q, unused
from mlops_assets.scaffold.profile import ColumnProfile, TableProfile, Task

START_DAYS_AGO = 60
"""The first daily partition lies this many days before the scaffold is written."""
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
        aggs = [f"{{name: {unused('observations', taken)}, agg: count}}"]
        aggs.append(
            f"{{name: {unused('entities', taken)}, agg: n_unique, column: {p.entity.name}}}"
        )
        if number is not None:
            avg = unused(f"avg_{number.name}", taken)
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
        what = q(f"{c.source} as observed" + (" (1 = true)" if c.dtype == "bool" else ""))
        lines.append(
            f"      - {{name: {c.name}, expr: {c.name}, dtype: {dtype}, description: {what}}}"
        )
    taken = {c.name for c in p.columns} | {c.name for c in features}
    windowed = next((c for c in features if c.is_numeric), features[0])
    mean = unused(f"{windowed.name}_mean_7d", taken) if windowed.is_numeric else None
    count = unused("observations_7d", taken)
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
        f"  description: {q(f'Gradient-boosted {p.task} model of {p.label.name}.')}",
        f"  task: {p.task}  {REVIEW}: {why} ({p.label.distinct:,} distinct {p.label.dtype})",
        f"  label: {p.label.name}"
        + (f"  {REVIEW}: guessed label column" if p.label_guessed else ""),
    ]
    if p.positive_label is not None:
        lines.append(f"  positive_label: {q(p.positive_label)}  {REVIEW}: the rarer class")
    lines += [
        f"  entity_key: {p.entity.name}",
        f"  timestamp: {p.time.name}",
        f"  numeric_features: {flow(numeric)}",
        f"  categorical_features: {flow(categorical)}",
        "  imputation: {numeric: median}",
        "  flavor:",
        "    type: sklearn",
        f"    estimator: sklearn.ensemble.HistGradientBoosting{estimator}",
        "    params: {max_iter: 200, learning_rate: 0.05, max_leaf_nodes: 15,",
        "             min_samples_leaf: 20, random_state: 7}  # steady on a few thousand rows",
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
    dataset = dataset_name(profile)
    fmt = "parquet" if profile.path.suffix.lower() == ".parquet" else "csv"
    label_ts = unused("label_ts", {profile.entity.name, profile.time.name, profile.label.name})
    features = profile.features
    feature_lines, numeric, categorical = _features(profile, dataset, features)
    skipped = ", ".join(profile.skipped)
    not_features = [
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
    if not_features:
        header.append(f"# Not model features (ids, free text, dates): {', '.join(not_features)}.")
    if skipped:
        header.append(f"# Sample columns of an unsupported type, left out: {skipped}.")
    _, _, performance = _GATES[profile.task]
    purpose = f"Predict {profile.label.name} from observations like {profile.path.name}."
    body = [
        f"name: {name}",
        f"description: {q(purpose)}",
        "owners: []",
        f'start_date: "{(today - dt.timedelta(days=START_DAYS_AGO)).isoformat()}"',
        "",
        *datasets(profile, dataset, label_ts, fmt),
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
