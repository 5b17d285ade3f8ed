"""The GS1 GTIN check digit as a polars predicate, for every layer that checks GTINs (the
great-expectations twin is ``quality.gtin_expectation``, imported only when a suite runs)."""

from __future__ import annotations

import polars as pl

GTIN_SHAPE = r"^(?:[0-9]{8}|[0-9]{12}|[0-9]{13}|[0-9]{14})$"
"""ASCII digits only: a ``\\d`` class also matches other scripts' digits in both engines."""
WEIGHTS = tuple(3 if i % 2 == 0 else 1 for i in range(13))
"""Weights of the first 13 digits of a GTIN left-padded to 14 digits."""


def gtin_valid(column: pl.Expr) -> pl.Expr:
    """GS1 check digit for GTIN-8/12/13/14; null counts as valid (a GTIN is optional)."""
    digits = column.str.zfill(14)
    weighted = pl.sum_horizontal(
        digits.str.slice(i, 1).cast(pl.Int32, strict=False) * w for i, w in enumerate(WEIGHTS)
    )
    check = (10 - weighted % 10) % 10
    well_formed = column.str.contains(GTIN_SHAPE)
    last = digits.str.slice(13, 1).cast(pl.Int32, strict=False)
    return column.is_null() | (well_formed & (check == last))
