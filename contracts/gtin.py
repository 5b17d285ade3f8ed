"""The GS1 GTIN check digit as a polars predicate, for every layer that checks GTINs (the
great-expectations twin is ``quality.gtin_expectation``, imported only when a suite runs)."""

from __future__ import annotations

import polars as pl

GTIN_SHAPE = r"^(?:[0-9]{8}|[0-9]{12}|[0-9]{13}|[0-9]{14})$"
"""ASCII digits only: a ``\\d`` class also matches other scripts' digits in both engines."""
WEIGHTS = tuple(3 if i % 2 == 0 else 1 for i in range(13))
"""Weights of the first 13 digits of a GTIN left-padded to 14 digits."""


def gtin_valid(column: pl.Expr) -> pl.Expr:
    """GS1 check digit for GTIN-8/12/13/14; null counts as valid (a GTIN is optional).

    A well-formed GTIN is at most 14 ASCII digits, so it is read as one integer and its digits
    are taken by integer arithmetic (one cast per value instead of one per digit); a value of
    any other shape is no number here and fails."""
    well_formed = column.str.contains(GTIN_SHAPE)
    number = pl.when(well_formed).then(column).cast(pl.Int64, strict=False)
    weighted = pl.sum_horizontal(_digit(number, i) * w for i, w in enumerate(WEIGHTS))
    check = (10 - weighted % 10) % 10
    return column.is_null() | (well_formed & (check == _digit(number, 13)))


def _digit(number: pl.Expr, index: int) -> pl.Expr:
    """Digit ``index`` (0 = leftmost) of ``number`` written with 14 digits."""
    return number // 10 ** (13 - index) % 10
