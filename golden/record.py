"""Assembles the golden record: PIM master data + the ERP's prices and availability."""

from __future__ import annotations

import datetime as dt

import polars as pl

from contracts.golden import golden_products_schema
from golden.availability import availability
from golden.pricing import list_prices, price_tiers


def golden_price_tiers(
    prices: pl.LazyFrame, master: pl.LazyFrame, as_of: dt.date, currencies: tuple[str, ...]
) -> pl.LazyFrame:
    """Price tiers valid on ``as_of`` in a published currency, for skus the PIM knows (others
    are quarantined)."""
    tiers = price_tiers(prices, as_of, currencies)
    return tiers.join(master.select("sku"), on="sku", how="semi")


def golden_products(
    master: pl.LazyFrame,
    tiers: pl.LazyFrame,
    stock: pl.LazyFrame,
    supply: pl.LazyFrame,
    as_of: dt.date,
    locales: tuple[str, ...],
    currencies: tuple[str, ...],
) -> pl.LazyFrame:
    """One row per PIM product with list prices per currency and availability on ``as_of``."""
    schema = golden_products_schema(locales, currencies)
    stock_state = availability(master.select("sku", "family"), stock, supply, as_of)
    joined = master.join(list_prices(tiers, currencies), on="sku", how="left").join(
        stock_state, on="sku", how="left"
    )
    return joined.with_columns(
        pl.col("available_qty").fill_null(0),
        pl.col("availability").fill_null("out_of_stock"),
        pl.col("availability_estimated").fill_null(False),
    ).select([pl.col(name).cast(dtype) for name, dtype in schema.items()])
