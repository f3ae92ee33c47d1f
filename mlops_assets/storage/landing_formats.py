"""One landing file's bytes into rows: its real format, its header checked, or why it is rejected.

The format comes from the content, not the name: gzip (``1f 8b``) is decompressed first, Parquet
starts with ``PAR1``, a few other known formats (zip, zstd, images, UTF-16, ...) and binary data
are rejected, everything else is read as CSV text. A header enters bronze only when schema
evolution may safely add what it brings (see :func:`check_header`).
"""

import gzip
import io
import re
import zlib
from collections import Counter
from pathlib import Path

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

MISSING_FIELDS = "_missing_fields"
"""Lineage column: fields the last CSV line lacked (a file cut mid-row); silver quarantines it."""
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_NAME_LENGTH = 128
GZIP_MAGIC, PARQUET_MAGIC = b"\x1f\x8b", b"PAR1"
_SNIFF_BYTES = 8192
_TAIL_BYTES = 1 << 20
_DELIMITERS = {",": "`,`", ";": "`;`", "\t": "tab", "|": "`|`"}
_KNOWN = {  # content recognised and not read
    b"PK\x03\x04": "a zip archive",
    b"\x28\xb5\x2f\xfd": "zstd-compressed",
    b"BZh": "bzip2-compressed",
    b"\xfd7zXZ\x00": "xz-compressed",
    b"7z\xbc\xaf\x27\x1c": "a 7z archive",
    b"\x89PNG": "a PNG image",
    b"%PDF": "a PDF document",
    b"\xff\xfe": "UTF-16 text (re-export it as UTF-8)",
    b"\xfe\xff": "UTF-16 text (re-export it as UTF-8)",
}
_BLANK_LINES = re.compile(rb"\n(?:\r?\n)+")
_DUPLICATED = re.compile(r"^(.*)_duplicated_\d+$")  # how Polars renames a repeated header name


class ReadSpec(BaseModel):
    """How a dataset's landing files are read."""

    dataset_format: str = Field(description="The dataset's declared format: csv or parquet.")
    delimiter: str = Field(default=",", description="CSV delimiter.")
    columns: list[str] = Field(default_factory=list, description="Declared source column names.")
    reject_missing: bool = Field(default=False, description="Reject files lacking any of them.")


class FileContent(BaseModel):
    """The rows of one file (with ``_missing_fields``), and what was unusual about it."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    frame: pl.DataFrame = Field(description="Data rows; no lineage columns but _missing_fields.")
    format: str = Field(description="Format actually read: csv, csv+gzip, parquet, ...")
    notes: list[str] = Field(default_factory=list, description="Unusual but handled.")
    missing_columns: list[str] = Field(default_factory=list, description="Declared, absent.")


class FileRejectedError(Exception):
    """A file that cannot become rows without losing or inventing data."""

    def __init__(
        self, reason: str, *, format: str = "", missing_columns: list[str] | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.format = format
        self.missing_columns = missing_columns or []


def read_file(path: Path, spec: ReadSpec) -> FileContent:
    """The rows of the file at ``path``, or :class:`FileRejectedError`.

    An uncompressed CSV or Parquet file is parsed from the file itself (Polars maps it), never
    held as bytes too: at 10M rows a day that copy was 1.4 GB next to the parsed frame. Only
    its first bytes (format, header) and its end (a last line cut short) are read apart. Gzip,
    empty files and CSV files with blank lines are read whole, as :func:`read_content` does.
    """
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if head.startswith(GZIP_MAGIC) or not head.strip():
        return read_content(path.read_bytes(), path.name, spec)
    lower, notes = path.name.lower(), []
    if lower.endswith(".gz"):
        notes.append("named .gz but not compressed: read as is")
    if head.startswith(PARQUET_MAGIC):
        return _parquet_content(path, lower, "", notes, spec)
    fmt = "csv"
    _reject_other_content(head, fmt)
    frame = _read_csv(path, spec, fmt)
    if frame.height and frame.select(pl.all_horizontal(pl.all().is_null()).any()).item():
        return read_content(path.read_bytes(), path.name, spec)  # blank lines to drop
    short = _short_last_line(path, spec.delimiter, frame.width) if frame.height else 0
    return _csv_content(frame, short, _first_line(head), lower, fmt, notes, spec)


def _short_last_line(path: Path, delimiter: str, expected: int) -> int:
    """:func:`_fields_missing_at_end` of the file's end; the whole file if its last record
    starts before the last MiB (a huge quoted value)."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        handle.seek(max(0, size - _TAIL_BYTES))
        tail = handle.read()
    missing = _fields_missing_at_end(tail, delimiter, expected, whole=size <= _TAIL_BYTES)
    if missing is None:
        missing = _fields_missing_at_end(path.read_bytes(), delimiter, expected)
    return missing or 0


def read_content(data: bytes, name: str, spec: ReadSpec) -> FileContent:
    """The rows of a file named ``name`` holding ``data``, or :class:`FileRejectedError`."""
    lower, notes, compression = name.lower(), [], ""
    if data.startswith(GZIP_MAGIC):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise FileRejectedError(
                f"damaged or cut-short gzip stream ({exc})", format="gzip"
            ) from exc
        compression = "+gzip"
        if not lower.endswith(".gz"):
            notes.append("gzip-compressed although not named .gz: decompressed")
    elif lower.endswith(".gz"):
        notes.append("named .gz but not compressed: read as is")
    if data.startswith(PARQUET_MAGIC):
        return _parquet_content(data, lower, compression, notes, spec)
    fmt = "csv" + compression
    _reject_other_content(data, fmt)
    if not data[:_SNIFF_BYTES].strip() and not data.strip():
        return FileContent(
            frame=pl.DataFrame(), format=fmt, notes=[*notes, "empty file: no header, no rows"]
        )
    frame = _read_csv(data, spec, fmt)
    if frame.height and frame.select(pl.all_horizontal(pl.all().is_null()).any()).item():
        data, dropped = _drop_blank_lines(data)  # only when a row came out all-null
        if dropped:
            frame = _read_csv(data, spec, fmt)
    short = _fields_missing_at_end(data, spec.delimiter, frame.width) if frame.height else 0
    return _csv_content(frame, short or 0, _first_line(data), lower, fmt, notes, spec)


def _parquet_content(
    source: bytes | Path, lower: str, compression: str, notes: list[str], spec: ReadSpec
) -> FileContent:
    fmt = "parquet" + compression
    frame = _read_parquet(source, spec, fmt)
    if not lower.endswith(".parquet"):
        notes.append(f"a Parquet file named {_suffix(lower)}: read as Parquet")
    if spec.dataset_format != "parquet":
        notes.append(f"Parquet in a {spec.dataset_format} dataset: values read as text")
    missing = check_header(frame.columns, spec, None, fmt)
    frame = frame.with_columns(pl.lit(0, pl.Int64).alias(MISSING_FIELDS))
    return _content(frame, fmt, notes, missing)


def _csv_content(
    frame: pl.DataFrame,
    short: int,
    first_line: str,
    lower: str,
    fmt: str,
    notes: list[str],
    spec: ReadSpec,
) -> FileContent:
    if lower.endswith(".parquet"):
        notes.append("named .parquet but holds text: read as CSV")
    if spec.dataset_format == "parquet":
        notes.append("CSV in a parquet dataset: values kept as text")
    missing = check_header(frame.columns, spec, first_line, fmt)
    is_last = pl.int_range(pl.len()) == pl.len() - 1
    frame = frame.with_columns(
        pl.when(is_last).then(short).otherwise(0).cast(pl.Int64).alias(MISSING_FIELDS)
    )
    return _content(frame, fmt, notes, missing)


def _content(frame: pl.DataFrame, fmt: str, notes: list[str], missing: list[str]) -> FileContent:
    if missing:
        notes.append(f"lacks declared column(s) {', '.join(missing)}")
    if frame.height == 0:
        notes.append("header only: no data rows")
    return FileContent(frame=frame, format=fmt, notes=notes, missing_columns=missing)


def _suffix(lower: str) -> str:
    return lower[lower.index(".") :] if "." in lower else "without extension"


def _reject_other_content(data: bytes, fmt: str) -> None:
    head = data[:_SNIFF_BYTES]
    for magic, what in _KNOWN.items():
        if head.startswith(magic):
            raise FileRejectedError(f"{what}, not CSV or Parquet", format=fmt)
    if b"\x00" in head:
        raise FileRejectedError("binary content (NUL bytes), not CSV text", format=fmt)


def _read_parquet(source: bytes | Path, spec: ReadSpec, fmt: str) -> pl.DataFrame:
    try:
        frame = pl.read_parquet(io.BytesIO(source) if isinstance(source, bytes) else source)
        if spec.dataset_format != "parquet":  # bronze of a CSV dataset holds text
            frame = frame.select(pl.all().cast(pl.String))
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        raise FileRejectedError(f"not a readable Parquet file: {_first(exc)}", format=fmt) from exc
    return frame


def _drop_blank_lines(data: bytes) -> tuple[bytes, int]:
    """``data`` without blank lines outside quotes (Polars makes each an all-null row), and
    how many runs of them were dropped.

    Only blank lines are visited (not rows): a quote count between them says whether a blank
    line is a record separator or part of a quoted value.
    """
    if b'"' not in data:
        return _BLANK_LINES.subn(b"\n", data)
    kept, start, scanned, quotes, dropped = [], 0, 0, 0, 0
    for match in _BLANK_LINES.finditer(data):
        quotes += data.count(b'"', scanned, match.start())
        scanned = match.end()
        if quotes % 2 == 0:
            kept.append(data[start : match.start() + 1])
            start, dropped = match.end(), dropped + 1
    kept.append(data[start:])
    return (b"".join(kept), dropped) if dropped else (data, 0)


def _read_csv(source: bytes | Path, spec: ReadSpec, fmt: str) -> pl.DataFrame:
    try:
        return pl.read_csv(
            io.BytesIO(source) if isinstance(source, bytes) else source,
            infer_schema=False,
            separator=spec.delimiter,
            truncate_ragged_lines=False,  # a longer line is an error, never silently cut
        )
    except pl.exceptions.NoDataError:
        return pl.DataFrame()
    except (pl.exceptions.PolarsError, pl.exceptions.PanicException, ValueError) as exc:
        message = str(exc)
        if "utf-8" in message.lower():
            reason = "not valid UTF-8 text (re-export it as UTF-8)"
        elif "more fields" in message:
            reason = (
                "a line has more fields than the header (an unquoted delimiter inside a value?); "
                "its extra fields would be lost"
            )
        elif "not properly escaped" in message:
            reason = "a quoted value is never closed (the file was cut inside quotes?)"
        else:
            reason = f"not a readable CSV: {_first(exc)}"
        raise FileRejectedError(reason, format=fmt) from exc


def _first(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:300]


def _first_line(data: bytes) -> str:
    end = data.find(b"\n", 0, _SNIFF_BYTES)
    line = data[: end if end >= 0 else _SNIFF_BYTES].decode("utf-8", errors="replace")
    return line.removeprefix("\ufeff").rstrip("\r")


def _show(names: list[str]) -> str:
    shown = [repr(n if len(n) <= 40 else n[:40] + "...") for n in names[:5]]
    more = f" (+{len(names) - 5} more)" if len(names) > 5 else ""
    return ", ".join(shown) + more


def _delimiter_hint(first_line: str | None, spec: ReadSpec) -> str:
    """``: wrong delimiter? this file looks `;`-separated`` when another delimiter fits better."""
    if not first_line:
        return ""
    declared = set(spec.columns)
    best, best_score = "", 1  # at least two names must fit
    for delimiter, shown in _DELIMITERS.items():
        if delimiter == spec.delimiter:
            continue
        parts = [p.strip().strip('"') for p in first_line.split(delimiter)]
        fits = [p in declared if declared else bool(IDENTIFIER.match(p)) for p in parts]
        if sum(fits) > best_score:
            best, best_score = shown, sum(fits)
    return f": wrong delimiter? this file looks {best}-separated" if best else ""


def check_header(names: list[str], spec: ReadSpec, first_line: str | None, fmt: str) -> list[str]:
    """The declared columns ``names`` lacks; :class:`FileRejectedError` if the header cannot enter.

    Rejected: names that are not text; repeated names (also when only the case differs); with
    declared columns, a header sharing none of them, or a name differing from a declared one only
    by case; names schema evolution must not add (``_``-prefixed, reserved for lineage, or not
    an identifier of at most 128 characters); and lacking declared columns if the spec says so.
    """

    def reject(reason: str, missing: list[str] | None = None) -> FileRejectedError:
        return FileRejectedError(reason, format=fmt, missing_columns=missing)

    binary = [n for n in names if "\ufffd" in n or not n.replace("\t", " ").isprintable()]
    if binary:
        raise reject(f"the header is not text (binary or not UTF-8): {_show(binary)}")
    repeated = [n for n in names if (m := _DUPLICATED.match(n)) and m.group(1) in names]
    counts = Counter(n.lower() for n in names)
    repeated += [n for n in names if counts[n.lower()] > 1 and n not in repeated]
    if repeated:
        raise reject(f"repeated column name(s) in the header: {_show(repeated)}")
    declared = spec.columns
    hint = _delimiter_hint(first_line, spec)
    if declared and not set(declared) & set(names):
        raise reject(
            f"the header does not fit the declared columns: {len(names)} column(s) found, "
            f"{len(declared)} declared, none in common{hint}"
        )
    new = [n for n in names if n not in declared]
    by_case = {d.lower(): d for d in declared}
    cased = [f"{n!r} (declared {by_case[n.lower()]!r})" for n in new if n.lower() in by_case]
    if cased:
        raise reject(f"column name(s) differ from declared ones only by case: {', '.join(cased)}")
    reserved = [n for n in new if n.startswith("_")]
    if reserved:
        raise reject(
            f"column name(s) starting with '_' are reserved for lineage: {_show(reserved)}"
        )
    invalid = [n for n in new if not IDENTIFIER.match(n) or len(n) > MAX_NAME_LENGTH]
    if invalid:
        raise reject(
            f"column name(s) that schema evolution must not add (not an identifier of at most "
            f"{MAX_NAME_LENGTH} characters): {_show(invalid)}{hint}"
        )
    missing = [c for c in declared if c not in names]
    if missing and spec.reject_missing:
        raise reject(f"lacks declared column(s) {', '.join(missing)}", missing)
    return missing


def _fields_missing_at_end(
    data: bytes, delimiter: str, expected: int, *, whole: bool = True
) -> int | None:
    """Fields the last record lacks: a writer that died mid-row leaves a short last line.

    Polars fills a short line with nulls (indistinguishable from empty fields), so the last
    record's fields are counted again: it starts after the last line break outside quotes (an
    even number of ``"`` before it, i.e. after it, as a file Polars parsed has paired quotes;
    only the last record is scanned) and its fields are the delimiters outside quotes plus one,
    so quoted line breaks and delimiters, escaped quotes and huge fields are all handled.
    With ``whole=False``, ``data`` is the file's end only: None when the last record does not
    start in it.
    """
    end = len(data)
    while end and data[end - 1] in b"\r\n":
        end -= 1
    quotes_after, pos = 0, end
    while True:
        newline = data.rfind(b"\n", 0, pos)
        if newline < 0:
            return 0 if whole else None  # a single line: the header
        quotes_after += data.count(b'"', newline, pos)
        if quotes_after % 2 == 0:  # Polars parsed the file: its quotes pair up, so the
            break  # quotes before this line break are even too
        pos = newline
    outside_quotes = data[newline + 1 : end].split(b'"')[::2]
    separator = delimiter.encode()
    fields = 1 + sum(part.count(separator) for part in outside_quotes)
    return max(0, expected - fields)
