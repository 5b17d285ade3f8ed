"""The GS1 GTIN check digit as a great-expectations expectation (polars twin: ``quality.gtin``).

Great-expectations has no GTIN expectation, so this module registers one (a column map metric
for the pandas engine, which is the one Prism validates feeds with).
"""

from __future__ import annotations

import pandas as pd
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import ColumnMapExpectation
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnMapMetricProvider,
    column_condition_partial,
)

from contracts.gtin import GTIN_SHAPE, WEIGHTS


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
