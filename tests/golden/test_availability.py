from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from contracts.golden import MASTER_SCHEMA, erp_schema
from golden.availability import (
    AVAILABILITY_SCHEMA,
    availability,
    reduce_family_lead_times,
    shard_family_lead_sums,
)
from sources.erp_files import STOCK_SCHEMA, SUPPLY_SCHEMA

AS_OF = dt.date(2026, 11, 22)
D = dt.date
Stock = tuple[str, int, int]  # sku, on_hand, reserved
Supply = tuple[str, int | None, dt.date | None]  # sku, lead_time_days, next_receipt_date


def run(
    products: list[tuple[str, str | None]], stock: list[Stock], supply: list[Supply]
) -> pl.DataFrame:
    stock_frame = pl.LazyFrame(
        [(sku, f"W{i}", on_hand, reserved, f"stock.csv:{i + 2}")
         for i, (sku, on_hand, reserved) in enumerate(stock)],
        schema=STOCK_SCHEMA,
        orient="row",
    )  # fmt: skip
    supply_frame = pl.LazyFrame(
        [(*row, f"supply.csv:{i + 2}") for i, row in enumerate(supply)],
        schema=SUPPLY_SCHEMA,
        orient="row",
    )
    product_frame = pl.LazyFrame(products, schema=["sku", "family"], orient="row")
    return availability(product_frame, stock_frame, supply_frame, AS_OF).collect().sort("sku")


@pytest.mark.parametrize(
    ("stock", "supply", "expected"),
    [
        # in stock: free quantity summed over warehouses, reserved > on_hand clamped to 0
        ([("A", 5, 2), ("A", 1, 4), ("A", 3, 0)], [], (6, "in_stock", None, False, None)),
        ([("A", 5, 2)], [("A", 7, D(2026, 12, 1))], (3, "in_stock", None, False, 7)),
        # negative on_hand does not eat another warehouse's stock
        ([("A", -4, 0), ("A", 2, 0)], [], (2, "in_stock", None, False, None)),
        # nothing free: the next receipt date, when it is not in the past
        ([("A", 2, 2)], [("A", 7, D(2026, 12, 1))], (0, "backorder", D(2026, 12, 1), False, 7)),
        ([], [("A", None, AS_OF)], (0, "backorder", AS_OF, False, None)),
        # else as_of + the lead time; a past receipt date is ignored
        ([("A", 0, 3)], [("A", 10, None)], (0, "backorder", D(2026, 12, 2), False, 10)),
        ([], [("A", 10, D(2026, 11, 21))], (0, "backorder", D(2026, 12, 2), False, 10)),
        ([], [("A", 0, None)], (0, "backorder", AS_OF, False, 0)),
        # neither and no family average: out of stock
        ([], [], (0, "out_of_stock", None, False, None)),
        ([("A", 1, 1)], [("A", None, D(2026, 1, 1))], (0, "out_of_stock", None, False, None)),
    ],
)
def test_availability_of_one_product(
    stock: list[Stock], supply: list[Supply], expected: tuple[object, ...]
) -> None:
    result = run([("A", "shirts")], stock, supply)
    assert result.schema == AVAILABILITY_SCHEMA
    assert result.drop("sku").rows() == [expected]


def test_the_family_average_lead_time_is_rounded_up_and_flagged() -> None:
    products = [("A", "f"), ("B", "f"), ("C", "f"), ("D", "f"), ("E", "g"), ("F", None)]
    supply: list[Supply] = [("A", 3, None), ("B", 4, None), ("D", None, D(2026, 1, 1))]
    result = run(products, [("C", 0, 0), ("E", 1, 0)], supply)
    assert result.rows() == [
        ("A", 0, "backorder", D(2026, 11, 25), False, 3),
        ("B", 0, "backorder", D(2026, 11, 26), False, 4),
        ("C", 0, "backorder", D(2026, 11, 26), True, 4),  # ceil((3 + 4) / 2) = 4
        ("D", 0, "backorder", D(2026, 11, 26), True, 4),  # past receipt ignored
        ("E", 1, "in_stock", None, False, None),
        ("F", 0, "out_of_stock", None, False, None),  # no family, no average
    ]


def test_an_exact_family_average_is_not_rounded() -> None:
    result = run([("A", "f"), ("B", "f"), ("C", "f")], [], [("A", 2, None), ("B", 6, None)])
    assert result.filter(pl.col("sku") == "C").drop("sku").rows() == [
        (0, "backorder", D(2026, 11, 26), True, 4)
    ]


def test_unknown_skus_are_ignored_and_each_product_has_one_row() -> None:
    result = run(
        [("A", "f"), ("B", "f")],
        [("A", 1, 0), ("GHOST", 9, 0)],
        [("GHOST", 1, None), ("A", 2, None)],
    )
    assert result.select("sku", "available_qty", "availability").rows() == [
        ("A", 1, "in_stock"),
        ("B", 0, "backorder"),
    ]
    assert result["lead_time_days"].to_list() == [2, 2]


def test_several_supply_rows_give_the_earliest_coming_receipt_and_longest_lead_time() -> None:
    supply: list[Supply] = [
        ("A", 3, D(2026, 12, 10)),
        ("A", 9, D(2026, 12, 5)),
        ("A", None, D(2026, 11, 1)),
    ]
    result = run([("A", "f")], [], supply)
    assert result.drop("sku").rows() == [(0, "backorder", D(2026, 12, 5), False, 9)]


def test_the_output_types_match_the_golden_record() -> None:
    golden = dict(MASTER_SCHEMA) | dict(erp_schema(("EUR",)))
    assert {name: golden.get(name) for name in AVAILABILITY_SCHEMA} == dict(AVAILABILITY_SCHEMA)


def test_family_averages_from_shards_are_the_whole_catalogs() -> None:
    """A family spans shards: each shard's lead-time sums, reduced, give every shard the
    averages (and so the estimates) of an unsharded run."""
    products = [("A", "shirts"), ("B", "shirts"), ("C", "shirts"), ("D", "shoes"), ("E", "shoes")]
    supply: list[Supply] = [("A", 3, None), ("B", 8, None), ("D", 5, None)]
    whole = run(products, [], supply)
    supply_frame = pl.LazyFrame(
        [(*row, f"supply.csv:{i + 2}") for i, row in enumerate(supply)],
        schema=SUPPLY_SCHEMA,
        orient="row",
    )
    no_stock = pl.LazyFrame(schema=STOCK_SCHEMA)
    shards = [products[:2], products[2:]]
    frames = [pl.LazyFrame(s, schema=["sku", "family"], orient="row") for s in shards]
    sums = pl.concat([shard_family_lead_sums(f, supply_frame, AS_OF) for f in frames])
    averages = reduce_family_lead_times(sums)
    parts = [availability(f, no_stock, supply_frame, AS_OF, averages) for f in frames]
    assert pl.concat(parts).collect().sort("sku").equals(whole)
    assert whole.filter(pl.col("sku") == "C")["lead_time_days"].item() == 6  # ceil(11 / 2)
