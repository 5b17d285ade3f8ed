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


def sku_ordered(master: pl.DataFrame) -> pl.LazyFrame:
    """``master`` as the ``golden_products`` input, marked sorted by sku when it already is (a
    PIM export usually comes in sku order): the golden record's sort is then skipped instead
    of copying every column of the catalog (~1 s per 1M rows) into the same order."""
    if master.height and master.get_column("sku").is_sorted():
        return master.lazy().set_sorted("sku")
    return master.lazy()


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
    channel's feed is in sku order without sorting again.

    The ERP part is computed on ``sku, family`` alone, row for row beside the sorted master,
    and put next to it: the wide master columns are never joined (a join copies them all)."""
    ordered = master.sort("sku", maintain_order=True)
    erp = erp_schema(currencies)
    master_columns = [c for c in master.collect_schema().names() if c not in erp]
    keys = ordered.select("sku", "family")  # a sku without prices, stock or supply: out of stock
    prices = keys.select("sku").join(
        list_prices(tiers, currencies), on="sku", how="left", maintain_order="left"
    )
    state = availability(keys, stock, supply, as_of, family_lead_times)
    part = (
        pl.concat([prices, state.drop("sku")], how="horizontal")
        .select(pl.col(name).cast(dtype) for name, dtype in erp.items())
        .with_columns(
            pl.col("available_qty").fill_null(0),
            pl.col("availability").fill_null("out_of_stock"),
            pl.col("availability_estimated").fill_null(False),
        )
    )
    return pl.concat([ordered.select(master_columns), part], how="horizontal")
