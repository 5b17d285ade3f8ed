"""Availability on the as-of date from ERP stock and supply; pure polars, no Dagster.

Rules, per product:
- ``available_qty`` = sum over warehouses of max(on_hand - reserved, 0), 0 without stock rows;
  > 0 is ``in_stock`` (no date).
- Otherwise ``backorder`` on the next receipt date when it is on or after as_of, else on
  as_of + the product's lead time. A receipt date in the past is ignored rather than trusted:
  the goods did not arrive (or stock would be > 0), so the date is stale and promising it would
  be a date in the past; the lead time is the better promise.
- A product with neither takes its family's average lead time (over the family's products that
  have one, rounded up to whole days), with ``availability_estimated`` true and that estimate
  as ``lead_time_days``; an estimate is never reported unflagged.
- Otherwise ``out_of_stock`` (no date).

Several supply rows for one sku: the earliest receipt date on or after as_of and the longest
lead time count (the later promise). Stock and supply rows for skus not in ``products`` are
ignored here; the quality layer reports them.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

AVAILABILITY_SCHEMA = pl.Schema(
    {
        "sku": pl.String(),
        "available_qty": pl.Int64(),
        "availability": pl.String(),
        "availability_date": pl.Date(),
        "availability_estimated": pl.Boolean(),
        "lead_time_days": pl.Int64(),
    }
)


def availability(
    products: pl.LazyFrame,
    stock: pl.LazyFrame,
    supply: pl.LazyFrame,
    as_of: dt.date,
    family_lead_times: pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """One AVAILABILITY_SCHEMA row per product (``products`` has ``sku, family``), in the order
    of ``products`` (the golden record puts them beside its rows); the left joins from
    ``products`` are what drops stock and supply of unknown skus.

    ``family_lead_times`` (``family, family_lead_time``): the families' averages when
    ``products`` is one shard of the catalog (a family spans shards, its average does not);
    None computes them from ``products``."""
    frame = _with_erp(products, stock, supply, as_of)
    if family_lead_times is None:
        family_lead_times = reduce_family_lead_times(family_lead_sums(frame))
    frame = frame.join(family_lead_times, on="family", how="left", maintain_order="left")
    return frame.select(_state(as_of)).cast(AVAILABILITY_SCHEMA)


def shard_family_lead_sums(
    products: pl.LazyFrame, supply: pl.LazyFrame, as_of: dt.date
) -> pl.LazyFrame:
    """One shard's part of the family averages (``family, lead_total, lead_count``); the
    sums of every shard, reduced by ``reduce_family_lead_times``, give the averages an
    unsharded run computes."""
    empty_stock = pl.LazyFrame(schema={"sku": pl.String, "on_hand": pl.Int64, "reserved": pl.Int64})
    return family_lead_sums(_with_erp(products, empty_stock, supply, as_of))


def family_lead_sums(frame: pl.LazyFrame) -> pl.LazyFrame:
    """``family, lead_total, lead_count`` over the products with a lead time and a family."""
    lead = pl.col("lead_time_days")
    known = frame.filter(lead.is_not_null(), pl.col("family").is_not_null())
    return known.group_by("family").agg(
        lead_total=lead.cast(pl.Int64).sum(), lead_count=lead.count().cast(pl.Int64)
    )


def reduce_family_lead_times(sums: pl.LazyFrame) -> pl.LazyFrame:
    """``family, family_lead_time``: ceil of the mean lead time, in exact integer arithmetic,
    from the sums of one or several shards."""
    total, count = pl.col("lead_total").sum(), pl.col("lead_count").sum()
    return sums.group_by("family").agg(family_lead_time=(total + count - 1) // count)


def _with_erp(
    products: pl.LazyFrame, stock: pl.LazyFrame, supply: pl.LazyFrame, as_of: dt.date
) -> pl.LazyFrame:
    return (
        products.select("sku", "family")
        .join(_available(stock), on="sku", how="left", maintain_order="left")
        .join(_supply(supply, as_of), on="sku", how="left", maintain_order="left")
    )


def _available(stock: pl.LazyFrame) -> pl.LazyFrame:
    free = (pl.col("on_hand") - pl.col("reserved")).clip(lower_bound=0)
    return stock.group_by("sku").agg(available_qty=free.sum())


def _supply(supply: pl.LazyFrame, as_of: dt.date) -> pl.LazyFrame:
    receipt = pl.col("next_receipt_date")
    return supply.group_by("sku").agg(
        lead_time_days=pl.col("lead_time_days").max(),
        next_receipt_date=receipt.filter(receipt >= as_of).min(),
    )


def _state(as_of: dt.date) -> list[pl.Expr]:
    qty = pl.col("available_qty").fill_null(0)
    lead, family_lead = pl.col("lead_time_days"), pl.col("family_lead_time")
    in_stock = qty > 0
    own_date = pl.coalesce(pl.col("next_receipt_date"), _after(as_of, lead))
    estimated = ~in_stock & own_date.is_null() & family_lead.is_not_null()
    date = pl.when(~in_stock).then(pl.coalesce(own_date, _after(as_of, family_lead)))
    state = (
        pl.when(in_stock)
        .then(pl.lit("in_stock"))
        .when(date.is_not_null())
        .then(pl.lit("backorder"))
        .otherwise(pl.lit("out_of_stock"))
    )
    return [
        pl.col("sku"),
        qty.alias("available_qty"),
        state.alias("availability"),
        date.alias("availability_date"),
        estimated.alias("availability_estimated"),
        pl.when(estimated).then(family_lead).otherwise(lead).alias("lead_time_days"),
    ]


def _after(as_of: dt.date, days: pl.Expr) -> pl.Expr:
    return (pl.lit(as_of) + pl.duration(days=days)).cast(pl.Date)
