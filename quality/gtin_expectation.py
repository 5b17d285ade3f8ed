"""The GS1 GTIN check digit as a great-expectations expectation (polars twin: ``quality.gtin``).

Great-expectations has no GTIN expectation, so this module registers one (a column map metric
for the pandas engine, which is the one Prism validates feeds with).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import ColumnMapExpectation
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnMapMetricProvider,
    column_condition_partial,
)

from contracts.gtin import GTIN_SHAPE, WEIGHTS


def gtin_valid_pandas(column: pd.Series) -> pd.Series:
    """The same verdict as ``gtin_valid`` for non-null values of a pandas column.

    The digits are read as one matrix of bytes (a value that is not 8, 12, 13 or 14 ASCII
    digits counts as "00000000000000" there, and fails its shape anyway)."""
    text = column.astype("string")
    shaped = text.str.fullmatch(GTIN_SHAPE).fillna(False).astype(bool)  # "$" passes a final "\n"
    digits = text.where(shaped, "0" * 14).str.zfill(14)
    ascii_digits = "".join(digits.tolist()).encode("ascii")
    matrix = np.frombuffer(ascii_digits, dtype=np.uint8).reshape(-1, 14).astype(np.int64) - 48
    check = (10 - (matrix[:, :13] @ np.array(WEIGHTS)) % 10) % 10
    return shaped & pd.Series(check == matrix[:, 13], index=text.index)


class ColumnValuesValidGtin(ColumnMapMetricProvider):
    condition_metric_name = "column_values.valid_gtin"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, **kwargs: object) -> pd.Series:
        return gtin_valid_pandas(column)


class ExpectColumnValuesToBeValidGtin(ColumnMapExpectation):
    """Expect column values to be GTIN-8/12/13/14 with a correct GS1 check digit."""

    map_metric = "column_values.valid_gtin"
    success_keys = ("mostly",)
