"""Where simulated rows come from: a CSV/Parquet file, a shipped table, or nothing (synthetic).

A source table's columns are matched to declared columns by name: the declared name, then its raw
landing name (`source:` in the YAML), then a normalised spelling (`Sale_Price`, `SalePrice` and
`sale price` all match `sale_price`); `column_map` renames anything else. Matched columns are cast
to the declared type; a column whose values mostly do not parse is refused with the examples.
"""

import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from mlops_assets.config.datasets import ColumnSpec
from mlops_assets.data import SHIPPED_TABLES, load_shipped
from mlops_assets.errors import ConfigError
from mlops_assets.simulate.domains import POLARS_TYPES

SYNTHETIC = "synthetic"
DEFAULT_SOURCES: dict[str, str] = {"churn": "wa_churn", "housing": "ames"}
"""Use cases whose default source is a shipped table (everything else is synthesized)."""
_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")
_MAX_UNPARSEABLE = 0.5


@dataclass(frozen=True)
class SourceTable:
    """The resolved source: its name for the summary and its rows (None when synthetic)."""

    label: str  # e.g. `wa_churn (shipped)`, `file data.csv`, `synthetic`
    shipped: str | None = None  # name of the shipped table, if one
    frame: pl.DataFrame | None = None  # the rows; None: synthetic


def resolve_source(spec: str | None, use_case: str) -> SourceTable:
    """Load the source named by `spec` (see SimulationConfig.source); ConfigError when unusable."""
    name = spec if spec is not None else DEFAULT_SOURCES.get(use_case, SYNTHETIC)
    if name == SYNTHETIC:
        return SourceTable(label=SYNTHETIC)
    is_file = name.lower().endswith((".csv", ".parquet")) or "/" in name or "\\" in name
    if not is_file and name in SHIPPED_TABLES:
        return SourceTable(label=f"{name} (shipped)", shipped=name, frame=load_shipped(name))
    if not is_file:
        raise ConfigError(
            f"--source {name!r} is neither a .csv/.parquet file nor a shipped table",
            context={"source": name, "shipped": sorted(SHIPPED_TABLES)},
            fix=f"pass a path ending in .csv or .parquet, one of {sorted(SHIPPED_TABLES)}, "
            f"or {SYNTHETIC!r}",
        )
    return SourceTable(label=f"file {name}", frame=read_source_file(Path(name)))


def read_source_file(path: Path) -> pl.DataFrame:
    """A CSV (types inferred) or Parquet file; ConfigError saying why it cannot be read."""
    if not path.is_file():
        raise ConfigError(
            f"source file {path} does not exist",
            context={"source": str(path)},
            fix="check the path given to --source",
        )
    try:
        if path.suffix.lower() == ".parquet":
            frame = pl.read_parquet(path)
        else:
            frame = pl.read_csv(path, infer_schema_length=10_000, try_parse_dates=True)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise ConfigError(
            f"cannot read source file {path}: {exc}",
            context={"source": str(path)},
            fix="give a UTF-8 CSV with a header line, or a Parquet file",
        ) from exc
    if frame.height == 0:
        raise ConfigError(
            f"source file {path} has no rows",
            context={"source": str(path)},
            fix="give a source with at least one row",
        )
    return frame


def normalise(name: str) -> str:
    """A spelling-insensitive column name: `SalePrice`, `Sale_Price`, `sale price` -> sale_price."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip())
    return re.sub(r"[^a-z0-9]+", "_", spaced.lower()).strip("_")


def match_columns(
    source: pl.DataFrame,
    wanted: list[str],
    specs: dict[str, ColumnSpec],
    column_map: dict[str, str],
) -> dict[str, str]:
    """Declared column -> source column for each of `wanted` found in `source`."""
    renamed = {declared: src for src, declared in column_map.items() if src in source.columns}
    by_norm: dict[str, str] = {}
    for column in source.columns:
        by_norm.setdefault(normalise(column), column)
    found: dict[str, str] = {}
    for name in wanted:
        raw = specs[name].source_name if name in specs else name
        for candidate in (renamed.get(name), name, raw):
            if candidate is not None and candidate in source.columns:
                found[name] = candidate
                break
        else:
            hit = by_norm.get(normalise(name)) or by_norm.get(normalise(raw))
            if hit is not None:
                found[name] = hit
    return found


def cast_column(series: pl.Series, dtype: str, name: str, source_label: str) -> pl.Series:
    """`series` in the declared `dtype`; ConfigError when most non-null values do not parse."""
    target = POLARS_TYPES[dtype]
    if series.dtype == target:
        return series.alias(name)
    if dtype == "bool" and series.dtype == pl.String:
        lowered = series.str.strip_chars().str.to_lowercase()
        cast = pl.select(
            pl.when(lowered.is_in(_TRUE)).then(True).when(lowered.is_in(_FALSE)).then(False)
        ).to_series()
    elif dtype in ("date", "datetime") and series.dtype == pl.String:
        parsed = series.str.strip_chars().str.replace(r"Z$", "")
        cast = (
            parsed.str.to_date(strict=False)
            if dtype == "date"
            else parsed.str.to_datetime(time_unit="us", strict=False)
        )
    elif dtype == "datetime" and isinstance(series.dtype, pl.Datetime):
        cast = series.dt.replace_time_zone(None).cast(target)
    else:
        cast = series.cast(target, strict=False)
    if dtype == "int64" and series.dtype.is_float():
        cast = series.round(0).cast(pl.Int64, strict=False)
    present = series.is_not_null()
    lost = present & cast.is_null()
    n_present, n_lost = int(present.sum()), int(lost.sum())
    if n_present and n_lost / n_present > _MAX_UNPARSEABLE:
        examples = series.filter(lost).unique(maintain_order=True).head(3).to_list()
        raise ConfigError(
            f"source column for {name!r} does not hold {dtype} values",
            context={"source": source_label, "column": series.name, "examples": examples},
            fix=f"map another source column with column_map, or declare {name!r} with the "
            "source's type",
        )
    return cast.alias(name)
