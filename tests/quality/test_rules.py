from __future__ import annotations

import polars as pl
import pytest

from quality.rules import gtin_valid


@pytest.mark.parametrize(
    ("gtin", "valid"),
    [
        ("4006381333931", True),  # GTIN-13
        ("4006381333932", False),
        ("96385074", True),  # GTIN-8
        ("96385075", False),
        ("036000291452", True),  # GTIN-12 (UPC-A)
        ("10036000291459", True),  # GTIN-14
        ("400638133393", False),  # 12 digits, wrong check digit
        ("40063813339X1", False),
        ("", False),
        ("123", False),
        (None, True),  # optional
    ],
)
def test_gtin_check_digit(gtin: str | None, valid: bool) -> None:
    frame = pl.DataFrame({"gtin": [gtin]}, schema={"gtin": pl.String})
    assert frame.select(gtin_valid(pl.col("gtin"))).item() is valid
