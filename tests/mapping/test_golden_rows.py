"""Golden rows named by a mask: the same rows as a filter, copied only when collected."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from mapping.golden_rows import GoldenRows

SOURCE = pl.DataFrame({"sku": ["A", "B", "C", "D"], "brand": ["x", "y", "z", "w"]})


@pytest.mark.parametrize(
    "mask", [[True, False, True, True], [False] * 4, [True] * 4, [None, True, None, True]]
)
def test_rows_are_the_masked_source_rows_then_the_added_columns(mask: list[bool | None]) -> None:
    flags = pl.Series(mask, dtype=pl.Boolean)
    expected = SOURCE.filter(flags.fill_null(False))
    added = pl.DataFrame({"_url": [f"u/{s}" for s in expected["sku"]]}, schema={"_url": pl.String})
    rows = GoldenRows.where(SOURCE, flags, added)
    assert_frame_equal(rows.collect(), pl.concat([expected, added], how="horizontal"))
    assert rows.columns() == ["sku", "brand", "_url"]
    assert rows.lazy().select("_url").collect()["_url"].to_list() == added["_url"].to_list()


def test_a_subset_keeps_the_flagged_rows_of_the_rows() -> None:
    added = pl.DataFrame({"n": [1, 2, 3]})
    rows = GoldenRows.where(SOURCE, pl.Series([True, False, True, True]), added)
    subset = rows.subset(pl.Series([False, True, True]))
    assert subset.collect().rows() == [("C", "z", 2), ("D", "w", 3)]
    assert rows.collect().height == 3  # the original is unchanged


def test_without_added_columns_the_rows_are_the_source_columns() -> None:
    rows = GoldenRows.where(SOURCE, pl.Series([False, True, False, False]))
    assert rows.collect().rows() == [("B", "y")]
    assert rows.subset(pl.Series([False])).collect().height == 0
