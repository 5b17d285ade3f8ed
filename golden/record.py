"""Assembles the golden record: PIM master data + the ERP's prices and availability."""

from __future__ import annotations

import datetime as dt

import polars as pl

from contracts.golden import erp_schema
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
    currencies: tuple[str, ...],
    family_lead_times: pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """One row per PIM product, by sku: its master data columns as they come
    (``MASTER_SCHEMA`` and the ``attr.*``/category columns the channels need), then list prices
    per currency and availability on ``as_of`` (``erp_schema``). Sorted once here, every
    channel's feed is in sku order without sorting again."""
    stock_state = availability(
        master.select("sku", "family"), stock, supply, as_of, family_lead_times
    )
    joined = master.join(list_prices(tiers, currencies), on="sku", how="left").join(
        stock_state, on="sku", how="left"
    )
    erp = erp_schema(currencies)
    master_columns = [c for c in master.collect_schema().names() if c not in erp]
    return (
        joined.with_columns(
            pl.col("available_qty").fill_null(0),
            pl.col("availability").fill_null("out_of_stock"),
            pl.col("availability_estimated").fill_null(False),
        )
        .select(*master_columns, *(pl.col(name).cast(dtype) for name, dtype in erp.items()))
        .sort("sku")
    )
