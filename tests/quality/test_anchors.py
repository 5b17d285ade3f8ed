"""Fragment ids: the column-wise sanitizing the lookup pages use agrees with ``Ids.unique``."""

from __future__ import annotations

import polars as pl
import pytest

from quality.report.anchors import Ids, sanitized

TEXTS = [
    "AB-12_x",
    "AB/12 x",
    "Größe 42",
    "U\\u0308ber",  # a combining mark: two code points, two characters replaced
    "tab\\there\\nnewline",
    "emoji \\U0001f600!",
    "",
    "(no identifier)",
]


@pytest.mark.parametrize("text", TEXTS)
def test_sanitized_column_equals_ids_unique(text: str) -> None:
    (column,) = pl.DataFrame({"t": [text]}).select(sanitized(pl.col("t")))["t"]
    assert Ids().claim(f"sku-{column}") == Ids().unique("sku", text)


def test_claim_appends_the_first_free_suffix() -> None:
    ids = Ids.reserving(["a"])
    assert [ids.claim("a"), ids.claim("a"), ids.unique("a"), ids.claim("b")] == [
        "a-2",
        "a-3",
        "a-4",
        "b",
    ]
