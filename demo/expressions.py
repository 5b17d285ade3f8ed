"""Polars expressions the draws and renderers share: index lookups, exact decimal text, percent
of a cent amount, day offsets from the as-of date. Integer cents and day offsets stay integers
until they are rendered, so the files are exact and independent of float formatting."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import polars as pl


def lookup(column: str | pl.Expr, values: Sequence[Any], default: Any = None) -> pl.Expr:
    """Map an integer index column onto ``values``; indexes outside map to ``default``."""
    expr = pl.col(column) if isinstance(column, str) else column
    return expr.replace_strict(dict(enumerate(values)), default=default)


def decimal_text(scaled: pl.Expr, places: int) -> pl.Expr:
    """Render an integer count of ``10**-places`` units as an exact decimal string ("-1.50")."""
    unit = 10**places
    sign = pl.when(scaled < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    whole = (scaled.abs() // unit).cast(pl.String)
    return pl.concat_str(
        sign, whole, pl.lit("."), (scaled.abs() % unit).cast(pl.String).str.zfill(places)
    )


def percent_of(cents: pl.Expr, percent: int | pl.Expr) -> pl.Expr:
    """``percent`` of an integer cent amount, rounded half up to whole cents."""
    return (cents * percent + 50) // 100


def shift_days(as_of: dt.date, offsets: pl.Expr) -> pl.Expr:
    """``as_of`` shifted by an integer day-offset column (null stays null)."""
    return pl.lit(as_of) + pl.duration(days=offsets)
