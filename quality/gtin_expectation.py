"""The GS1 GTIN check digit, as a polars predicate and as a great-expectations expectation.

Great-expectations has no GTIN expectation, so this module registers one (a column map metric
for the pandas engine, which is the one Prism validates feeds with).
"""

from __future__ import annotations

import pandas as pd
import polars as pl
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import ColumnMapExpectation
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnMapMetricProvider,
    column_condition_partial,
)

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


def gtin_valid_pandas(column: pd.Series) -> pd.Series:
    """The same verdict as ``gtin_valid`` for non-null values of a pandas column."""
    text = column.astype("string")
    shaped = text.str.fullmatch(GTIN_SHAPE).fillna(False).astype(bool)  # "$" passes a final "\n"
    digits = text.where(shaped, "0" * 14).str.zfill(14)
    weighted = sum(digits.str[i].astype(int) * w for i, w in enumerate(WEIGHTS))
    check = (10 - weighted % 10) % 10
    return shaped & (check == digits.str[13].astype(int))


class ColumnValuesValidGtin(ColumnMapMetricProvider):
    condition_metric_name = "column_values.valid_gtin"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, **kwargs: object) -> pd.Series:
        return gtin_valid_pandas(column)


class ExpectColumnValuesToBeValidGtin(ColumnMapExpectation):
    """Expect column values to be GTIN-8/12/13/14 with a correct GS1 check digit."""

    map_metric = "column_values.valid_gtin"
    success_keys = ("mostly",)
