"""ERP price, stock and supply rows rendered from the ERP draws, a chunk of products at a time.

Prices are integer cents until rendered as exact decimal text; validity dates are day offsets
from ``as_of``.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import polars as pl

from demo.catalog import FAMILIES, WAREHOUSES
from demo.expressions import decimal_text, lookup, percent_of, shift_days
from sources.erp_files import PRICE_COLUMNS, STOCK_COLUMNS


class _Block(NamedTuple):
    """One kind of price row; ``since``/``until`` are day offsets from ``as_of`` (null = open)."""

    who: pl.Expr
    price_type: str
    group: str | None
    customer: str | None
    currency: str
    cents: pl.Expr
    min_quantity: int
    since: pl.Expr
    until: pl.Expr


def _list_blocks(currency: str, base: pl.Expr) -> list[_Block]:
    """Current list price (+ quantity tiers), the one it replaced yesterday, the next one."""
    since, future = pl.col("since"), pl.col("future_from")
    current_to = pl.when("future").then(future - 1)
    forever = pl.lit(None, pl.Int64)
    old, new = percent_of(base, 93), percent_of(base, 105)
    return [
        _Block(pl.col("priced"), "list", None, None, currency, base, 1, since, current_to),
        _Block(pl.col("change"), "list", None, None, currency, old, 1, pl.lit(-400), pl.lit(-1)),
        _Block(pl.col("future"), "list", None, None, currency, new, 1, future, forever),
        _Block(pl.col("tiers"), "list", None, None, currency, percent_of(base, 95), 10, since,
               current_to),
        _Block(pl.col("tiers"), "list", None, None, currency, percent_of(base, 90), 100, since,
               current_to),
    ]  # fmt: skip


def _price_blocks() -> list[_Block]:
    """Every kind of price row, in output order within a product.

    Block 0 is the current EUR list price: the amount/currency/per-quantity defects go there.
    """
    eur = pl.col("list_cents")
    usd = percent_of(eur, 108)
    start, forever = pl.col("group_since"), pl.lit(None, pl.Int64)
    group, customer = pl.col("group"), pl.col("customer")
    tiers = customer & pl.col("tiers")
    bad_dates = pl.col("defect") == "valid_from_after_valid_to"
    return [
        *_list_blocks("EUR", eur),
        *_list_blocks("USD", usd),
        _Block(pl.col("expired"), "list", None, None, "EUR", percent_of(eur, 90), 1, pl.lit(-900),
               pl.lit(-401)),
        _Block(group, "group", "retail", None, "EUR", percent_of(eur, 97), 1, start, forever),
        _Block(group, "group", "wholesale", None, "EUR", percent_of(eur, 85), 1, start, forever),
        _Block(group, "group", "wholesale", None, "USD", percent_of(usd, 85), 1, start, forever),
        _Block(customer, "customer", None, "C1000", "EUR", percent_of(eur, 90), 1, start, forever),
        _Block(tiers, "customer", None, "C1000", "EUR", percent_of(eur, 87), 10, start, forever),
        _Block(customer, "customer", None, "C2000", "EUR", percent_of(eur, 80), 1, start, forever),
        _Block(tiers, "customer", None, "C2000", "EUR", percent_of(eur, 75), 100, start, forever),
        _Block(bad_dates, "group", "retail", None, "EUR", percent_of(eur, 96), 1, pl.lit(5),
               pl.lit(-5)),
    ]  # fmt: skip


def render_prices(chunk: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """ERP price rows of a chunk of products, sorted by product then row kind."""
    per_quantity = lookup("family_idx", [f.per_quantity for f in FAMILIES])
    parts = [
        chunk.filter(b.who).select(
            "pidx",
            "sku",
            "defect",
            pl.lit(index).alias("block"),
            pl.lit(b.price_type).alias("price_type"),
            pl.lit(b.group, pl.String).alias("customer_group"),
            pl.lit(b.customer, pl.String).alias("customer_id"),
            pl.lit(b.currency).alias("currency"),
            b.cents.cast(pl.Int64).alias("cents"),
            per_quantity.cast(pl.Int64).alias("per_quantity"),
            pl.lit(b.min_quantity, pl.Int64).alias("min_quantity"),
            shift_days(as_of, b.since).alias("valid_from"),
            shift_days(as_of, b.until).alias("valid_to"),
        )
        for index, b in enumerate(_price_blocks())
    ]
    rows = pl.concat(parts).sort("pidx", "block", maintain_order=True)
    return rows.with_columns(_price_defects()).select(PRICE_COLUMNS)


def _price_defects() -> list[pl.Expr]:
    """Inject the amount, currency and per-quantity defects into the current EUR list row."""
    defect = pl.when(pl.col("block") == 0).then(pl.col("defect"))
    amount = decimal_text(pl.col("cents"), 2)
    return [
        pl.when(defect == "amount_decimal_comma")
        .then(amount.str.replace(".", ",", literal=True))
        .when(defect == "amount_not_a_number")
        .then(pl.lit("abc"))
        .when(defect == "amount_zero")
        .then(pl.lit("0.00"))
        .when(defect == "amount_negative")
        .then(pl.concat_str(pl.lit("-"), amount))
        .otherwise(amount)
        .alias("amount"),
        pl.when(defect == "currency_EURO")
        .then(pl.lit("EURO"))
        .otherwise("currency")
        .alias("currency"),
        pl.when(defect == "per_quantity_zero")
        .then(0)
        .otherwise("per_quantity")
        .alias("per_quantity"),
    ]


def render_stock(chunk: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """Stock rows (``on_hand``/``reserved`` per warehouse) of a chunk of products."""
    parts = [
        chunk.filter(f"present_{w}").select(
            "pidx",
            "sku",
            pl.lit(warehouse).alias("warehouse"),
            pl.col(f"on_hand_{w}").cast(pl.Int64).alias("on_hand"),
            pl.col(f"reserved_{w}").cast(pl.Int64).alias("reserved"),
            pl.lit(w).alias("block"),
        )
        for w, warehouse in enumerate(WAREHOUSES)
    ]
    rows = pl.concat(parts).sort("pidx", "block", maintain_order=True)
    return rows.select(STOCK_COLUMNS)


def render_supply(chunk: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """Supply rows: lead time and/or next receipt date; some rows have neither."""
    return chunk.filter("supply_row").select(
        "sku",
        pl.col("lead_time").cast(pl.Int64).alias("lead_time_days"),
        shift_days(as_of, pl.col("receipt")).alias("next_receipt_date"),
    )
