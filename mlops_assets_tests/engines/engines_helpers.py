"""Comparing one transform's result on two engines, row for row."""

import polars as pl
from polars.testing import assert_frame_equal

_WIDEN = (pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64, pl.Int8, pl.Int16, pl.Int32)


def normalise(frame: pl.DataFrame) -> pl.DataFrame:
    """The types a result is stored with: integers as Int64 (the Delta writer widens Polars'
    UInt32 counts the same way), floats as Float64, timestamps as microseconds in UTC."""
    exprs: list[pl.Expr] = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if dtype in _WIDEN:
            col = col.cast(pl.Int64)
        elif dtype == pl.Float32:
            col = col.cast(pl.Float64)
        elif isinstance(dtype, pl.Datetime):
            if dtype.time_zone is None:
                raise AssertionError(f"{name}: a naive timestamp has no instant to compare")
            col = col.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
        exprs.append(col)
    return frame.select(exprs)


def assert_same_rows(
    expected: pl.DataFrame, got: pl.DataFrame, *, rel_tol: float = 1e-9, abs_tol: float = 1e-9
) -> None:
    """Same columns (names, order, stored types) and the same multiset of rows.

    Rows are sorted by every non-float column, then by the floats, so row order never matters;
    strings, integers, booleans and timestamps compare exactly, floats within the tolerance.
    """
    assert got.columns == expected.columns
    left, right = normalise(expected), normalise(got)
    assert dict(right.schema) == dict(left.schema)
    floats = [n for n, t in left.schema.items() if t == pl.Float64]
    keys = [n for n in left.columns if n not in floats] + floats
    if keys:
        left = left.sort(keys, nulls_last=True)
        right = right.sort(keys, nulls_last=True)
    assert_frame_equal(left, right, check_exact=False, rel_tol=rel_tol, abs_tol=abs_tol)
