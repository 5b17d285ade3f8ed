"""The golden record: master data as it comes, then the ERP columns of the configured currencies."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
from factories import golden_products as golden_frame
from factories import price_tiers, product, tier

from contracts.golden import erp_schema
from golden.record import golden_price_tiers, golden_products, sku_ordered
from sources.erp_files import PRICES_SCHEMA, STOCK_SCHEMA, SUPPLY_SCHEMA

AS_OF = dt.date(2026, 6, 15)
CURRENCIES = ("EUR", "USD")


def master(*skus: str) -> pl.LazyFrame:
    """Master rows in the given (unsorted) order, without the ERP columns."""
    rows = golden_frame(*(product(s, family="f") for s in skus))
    frame = rows.drop(erp_schema(CURRENCIES).names())
    order = {sku: i for i, sku in enumerate(skus)}
    return frame.sort(pl.col("sku").replace_strict(order)).lazy()


def stock(*rows: tuple[str, int, int]) -> pl.LazyFrame:
    data = [(s, "W1", on_hand, reserved, f"stock.csv:{i + 2}") for i, (s, on_hand, reserved) in
            enumerate(rows)]  # fmt: skip
    return pl.LazyFrame(data, schema=STOCK_SCHEMA, orient="row")


def supply(*rows: tuple[str, int | None, dt.date | None]) -> pl.LazyFrame:
    data = [(*row, f"supply.csv:{i + 2}") for i, row in enumerate(rows)]
    return pl.LazyFrame(data, schema=SUPPLY_SCHEMA, orient="row")


def test_rows_are_sorted_by_sku_with_master_columns_first_then_the_erp_part() -> None:
    tiers = price_tiers(
        tier("B", "10", valid_to=dt.date(2026, 12, 31)),
        tier("B", "11", currency="USD"),
        tier("GHOST", "1"),
    ).lazy()
    result = golden_products(
        master("C", "B", "A"), tiers, stock(("A", 3, 1)), supply(), AS_OF, CURRENCIES
    ).collect()
    assert result["sku"].to_list() == ["A", "B", "C"]
    master_columns = master("A").collect_schema().names()
    assert result.columns == [*master_columns, *erp_schema(CURRENCIES)]
    assert dict(result.select(erp_schema(CURRENCIES).names()).schema) == dict(
        erp_schema(CURRENCIES)
    )
    erp = result.select("sku", *erp_schema(CURRENCIES).names()).rows()
    assert erp == [
        ("A", None, None, None, None, 2, "in_stock", None, False, None),
        ("B", Decimal(10), dt.date(2026, 12, 31), Decimal(11), None, 0, "out_of_stock", None,
         False, None),
        ("C", None, None, None, None, 0, "out_of_stock", None, False, None),
    ]  # fmt: skip


def test_master_value_and_category_columns_pass_through_untouched() -> None:
    frame = master("A").with_columns(pl.lit("Rot").alias("attr.color-de_DE"))
    result = golden_products(
        frame, price_tiers().lazy(), stock(), supply(), AS_OF, CURRENCIES
    ).collect()
    assert result.item(0, "attr.color-de_DE") == "Rot"
    assert result.item(0, "category_path:*:de_DE") == "Clothing (de) > Tops (de)"


def test_price_tiers_are_kept_for_known_skus_in_published_currencies() -> None:
    rows = pl.LazyFrame(
        [
            ("A", "list", None, None, "EUR", Decimal(10), 1, 1, None, None, "prices.csv:2"),
            ("A", "list", None, None, "CHF", Decimal(9), 1, 1, None, None, "prices.csv:3"),
            ("GHOST", "list", None, None, "EUR", Decimal(1), 1, 1, None, None, "prices.csv:4"),
        ],
        schema=PRICES_SCHEMA,
        orient="row",
    )
    result = golden_price_tiers(rows, master("A"), AS_OF, CURRENCIES).collect()
    assert result.select("sku", "currency", "erp_source").rows() == [("A", "EUR", "prices.csv:2")]


def test_a_master_in_sku_order_or_not_gives_the_same_golden_record() -> None:
    tiers = price_tiers(tier("B", "10"), tier("C", "12")).lazy()
    args = (tiers, stock(("A", 3, 1), ("C", 1, 0)), supply(), AS_OF, CURRENCIES)
    shuffled = golden_products(sku_ordered(master("C", "A", "B").collect()), *args).collect()
    in_order = golden_products(sku_ordered(master("A", "B", "C").collect()), *args).collect()
    assert shuffled["sku"].to_list() == ["A", "B", "C"]
    assert shuffled.equals(in_order)


def test_the_erp_part_stays_beside_its_row_when_a_sku_repeats() -> None:
    """A repeated sku (the blocking sku_unique check fails the run) keeps one row per master
    row rather than multiplying rows with the ERP's."""
    result = golden_products(
        master("A", "A", "B"), price_tiers(tier("A", "5")).lazy(), stock(("A", 2, 0)),
        supply(), AS_OF, CURRENCIES,
    ).collect()  # fmt: skip
    assert result.select("sku", "list_price_EUR", "available_qty").rows() == [
        ("A", Decimal(5), 2), ("A", Decimal(5), 2), ("B", None, 0),
    ]  # fmt: skip
