"""What a sample table says about a new use case: typed columns, their observed values and the
roles the scaffold guesses (entity id, event time, label and task).

The sample is read once; every statistic comes from one vectorised Polars `select` (null counts,
distinct counts, min/max), plus one more for the levels of the low-cardinality text columns. An
entity id or event-time column the table lacks is declared as generated (`entity_id`, `event_ts`):
the simulator makes them, as it does for any source without them.
"""

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl

from mlops_assets.config.datasets import DType
from mlops_assets.errors import ConfigError
from mlops_assets.simulate.sources import normalise, read_source_file

Task = Literal["binary", "multiclass", "regression"]
MAX_LEVELS = 20
"""Text columns with at most this many distinct values are categories (accepted values)."""
_KEYWORDS = {"and", "or", "not", "is", "null", "in", "between", "true", "false"}
_ENTITY_HINT = re.compile(r"(^|_)(id|key|uuid)$|[a-z]id$")
_TIME_HINT = re.compile(r"(^|_)(ts|time|timestamp|datetime|date|at|event|when)$")
_LABEL_HINT = re.compile(r"^(label|target|y|class|outcome)$|(^|_)(label|target|outcome)$")


@dataclass(frozen=True)
class ColumnProfile:
    """One column of the sample (or a generated one), as it will be declared."""

    name: str  # declared (snake_case) name
    source: str | None  # name in the sample; None for a generated column
    dtype: DType
    nulls: int = 0
    distinct: int = 0
    low: float | None = None
    high: float | None = None
    levels: tuple[str | int, ...] | None = None  # values of a low-cardinality column, sorted

    @property
    def is_numeric(self) -> bool:
        return self.dtype in ("int64", "float64")


@dataclass(frozen=True)
class TableProfile:
    """The sample's columns and the guessed roles (`*_guessed`: marked for review)."""

    path: Path
    rows: int
    columns: tuple[ColumnProfile, ...]
    entity: ColumnProfile
    time: ColumnProfile
    label: ColumnProfile
    label_guessed: bool
    task: Task
    positive_label: str | None
    skipped: tuple[str, ...]  # sample columns of a type no dataset can declare

    @property
    def features(self) -> list[ColumnProfile]:
        """Columns the model can use: numbers, flags and categories (not the roles)."""
        roles = {self.entity.name, self.time.name, self.label.name}
        return [
            c
            for c in self.columns
            if c.name not in roles and (c.is_numeric or c.dtype == "bool" or c.levels)
        ]


def _dtype(dtype: pl.DataType) -> DType | None:
    if dtype.is_integer():
        return "int64"
    if dtype.is_float() or dtype.is_decimal():
        return "float64"
    if dtype == pl.Boolean:
        return "bool"
    if dtype == pl.Date:
        return "date"
    if isinstance(dtype, pl.Datetime):
        return "datetime"
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        return "string"
    return None


def _declared_names(raw: list[str]) -> list[str]:
    """snake_case names the config accepts and the expression language can read, unique."""
    names: list[str] = []
    for column in raw:
        name = normalise(column) or "column"
        name = name if name[0].isalpha() else f"c_{name}"
        name = f"{name}_col" if name in _KEYWORDS else name
        base, n = name, 2
        while name in names:
            name, n = f"{base}_{n}", n + 1
        names.append(name)
    return names


def _read(path: Path) -> pl.DataFrame:
    if path.suffix.lower() not in (".csv", ".parquet"):
        raise ConfigError(
            f"--from-table {path} is neither a .csv nor a .parquet file",
            context={"file": str(path)},
            fix="give a CSV file with a header line or a Parquet file",
        )
    return read_source_file(path)


def _columns(frame: pl.DataFrame) -> tuple[list[ColumnProfile], list[str]]:
    """Every usable column with its statistics (two vectorised passes), and the skipped ones."""
    kept = [(c, _dtype(t)) for c, t in frame.schema.items()]
    usable = [(c, t) for c, t in kept if t is not None]
    skipped = [c for c, t in kept if t is None]
    names = _declared_names([c for c, _ in usable])
    exprs: list[pl.Expr] = []
    for i, (column, dtype) in enumerate(usable):
        col = pl.col(column)
        exprs += [col.null_count().alias(f"n{i}"), col.n_unique().alias(f"d{i}")]
        if dtype in ("int64", "float64"):
            exprs += [col.cast(pl.Float64).min().alias(f"lo{i}")]
            exprs += [col.cast(pl.Float64).max().alias(f"hi{i}")]
    stats = frame.select(exprs).row(0, named=True) if exprs else {}
    rows = frame.height
    categorical = [
        i
        for i, (_, dtype) in enumerate(usable)
        if dtype == "string"
        and stats[f"d{i}"] - (stats[f"n{i}"] > 0) <= MAX_LEVELS
        and stats[f"d{i}"] <= max(2, rows // 2)
    ]
    levels_of: dict[int, list[str]] = {}
    if categorical:
        picked = frame.select(
            pl.col(usable[i][0])
            .cast(pl.String)
            .drop_nulls()
            .unique()
            .sort()
            .implode()
            .alias(str(i))
            for i in categorical
        ).row(0, named=True)
        levels_of = {i: list(picked[str(i)]) for i in categorical}
    profiles = [
        ColumnProfile(
            name=names[i],
            source=column,
            dtype=dtype,
            nulls=int(stats[f"n{i}"]),
            distinct=int(stats[f"d{i}"]),
            low=stats.get(f"lo{i}"),
            high=stats.get(f"hi{i}"),
            levels=tuple(levels_of[i]) if i in levels_of else None,
        )
        for i, (column, dtype) in enumerate(usable)
    ]
    return profiles, skipped


def _free_name(wanted: str, taken: list[ColumnProfile]) -> str:
    names = {c.name for c in taken}
    name, n = wanted, 2
    while name in names:
        name, n = f"{wanted}_{n}", n + 1
    return name


def _entity(columns: list[ColumnProfile], rows: int) -> ColumnProfile | None:
    hinted = [
        c
        for c in columns
        if c.dtype in ("string", "int64") and c.nulls == 0 and _ENTITY_HINT.search(c.name)
    ]
    hinted.sort(key=lambda c: (c.distinct != rows, c.name))  # unique ids first
    return hinted[0] if hinted else None


def _time(columns: list[ColumnProfile]) -> ColumnProfile | None:
    times = [c for c in columns if c.dtype in ("datetime", "date")]
    hinted = [c for c in times if _TIME_HINT.search(c.name)]
    hinted.sort(key=lambda c: c.dtype != "datetime")  # datetimes first
    if hinted:
        return hinted[0]
    stamps = [c for c in times if c.dtype == "datetime"]
    return stamps[0] if len(stamps) == 1 else None


def _label(columns: list[ColumnProfile], wanted: str | None) -> tuple[ColumnProfile, bool]:
    if wanted is not None:
        for c in columns:
            if wanted in (c.name, c.source):
                return c, False
        known = [str(c.source) for c in columns]
        close = difflib.get_close_matches(wanted, known, n=3, cutoff=0.5)
        hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
        raise ConfigError(
            f"--label {wanted!r} is not a column of the table{hint}",
            context={"columns": known[:30]},
            fix="pass --label with one of the table's columns",
        )
    usable = [  # numbers, flags and categories; never dates or free text
        c for c in columns if c.dtype not in ("date", "datetime", "string") or c.levels
    ]
    hinted = [c for c in usable if _LABEL_HINT.search(c.name)]
    if not (hinted or usable):
        raise ConfigError("the table has no column that can be a label", fix="pass --label COL")
    return (hinted or usable)[-1], True


def _task(label: ColumnProfile) -> Task:
    values = label.distinct - (label.nulls > 0)
    if values == 2 or label.dtype == "bool":
        return "binary"
    if label.dtype == "string":
        if label.levels is None:
            raise ConfigError(
                f"the label {label.source!r} holds {values} distinct texts: not a class label",
                context={"column": label.source, "distinct": values},
                fix=f"pass --label with a numeric column or one of at most {MAX_LEVELS} classes",
            )
        return "multiclass"
    if label.dtype == "int64" and label.levels is None and 3 <= values <= 10:
        return "multiclass"
    return "regression"


def _label_column(frame: pl.DataFrame, label: ColumnProfile, task: Task) -> ColumnProfile:
    """The label as declared: classes listed; a binary non-0/1 label as text."""
    if task == "regression" or label.dtype == "bool":
        return label
    assert label.source is not None
    values = frame[label.source].drop_nulls().unique().sort()
    if task == "binary" and label.dtype == "int64" and set(values.to_list()) != {0, 1}:
        text = values.cast(pl.String).to_list()
        return ColumnProfile(
            label.name, label.source, "string", label.nulls, label.distinct, levels=tuple(text)
        )
    if label.dtype == "int64":
        return ColumnProfile(
            label.name,
            label.source,
            "int64",
            label.nulls,
            label.distinct,
            label.low,
            label.high,
            tuple(values.to_list()),
        )
    return label


def _positive(frame: pl.DataFrame, label: ColumnProfile, task: Task) -> str | None:
    """The minority class of a binary text label (the usual positive class)."""
    if task != "binary" or label.dtype != "string":
        return None
    assert label.source is not None
    counts = frame[label.source].cast(pl.String).drop_nulls().value_counts(sort=True)
    return str(counts[label.source][-1])


def profile_table(path: Path, label: str | None = None) -> TableProfile:
    """Profile the sample at `path` (CSV or Parquet); `label` names the label column, else it is
    guessed. ConfigError when the table cannot make a use case, with what to do."""
    frame = _read(path)
    columns, skipped = _columns(frame)
    entity = _entity(columns, frame.height) or ColumnProfile(
        name=_free_name("entity_id", columns), source=None, dtype="string"
    )
    time = _time(columns) or ColumnProfile(
        name=_free_name("event_ts", columns), source=None, dtype="datetime"
    )
    target, guessed = _label([c for c in columns if c not in (entity, time)], label)
    task = _task(target)
    target = _label_column(frame, target, task)
    columns = [target if c.name == target.name else c for c in columns]
    declared = [c for c in (entity, time) if c.source is None] + columns
    profile = TableProfile(
        path=path,
        rows=frame.height,
        columns=tuple(declared),
        entity=entity,
        time=time,
        label=target,
        label_guessed=guessed,
        task=task,
        positive_label=_positive(frame, target, task),
        skipped=tuple(skipped),
    )
    if not profile.features:
        raise ConfigError(
            f"the table {path} has no column a model can use besides its label",
            context={"columns": [c.source for c in columns][:30]},
            fix="give a table with numeric, boolean or low-cardinality text columns",
        )
    return profile
