"""Writes one channel's feed for a snapshot: picks the writer for the channel's format and
gives it only what the channel may carry (public channels never see group or customer prices)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import polars as pl

from contracts.config import (
    Channel,
    MarketplaceChannel,
    PortalChannel,
    QuotingChannel,
    ShopChannel,
    WebsiteChannel,
)
from contracts.snapshots import FeedFile
from contracts.text import file_name_for
from golden.pricing import customer_tiers
from sinks.bmecat import write_bmecat
from sinks.google_merchant import write_google_merchant
from sinks.portal_sql import load_portal_snapshot
from sinks.shop_csv import write_shop_csv
from sinks.website_jsonld import write_website

FILE_NAMES = {
    "jsonld": "products.jsonl",
    "csv": "products.csv",
    "google_merchant": "google_merchant.xml",
}


BMECAT_VERSION = "1.0"
"""Every snapshot is a complete T_NEW_CATALOG; GENERATION_DATE tells versions apart."""


def portal_tiers(tiers: pl.DataFrame, channel: PortalChannel) -> pl.DataFrame:
    return tiers.filter(
        pl.col("price_type").is_in(channel.price_types),
        pl.col("currency").is_in(channel.currencies),
    )


def write_channel_feed(
    name: str,
    channel: Channel,
    products: pl.DataFrame,
    tiers: pl.DataFrame,
    folder: Path,
    snapshot_id: str,
    created: dt.datetime,
) -> list[FeedFile]:
    """Write the feed into ``folder`` (the channel's staging folder); return its files.

    ``products`` are the channel's publishable products; ``tiers`` all valid price tiers. A
    portal is loaded into the snapshot's own tables instead, reported as ``kind="table"``.
    """
    tiers = tiers.join(products.select("sku"), on="sku", how="semi")
    if isinstance(channel, WebsiteChannel | ShopChannel | MarketplaceChannel):
        writers: dict[str, Callable[..., int]] = {
            "jsonld": write_website,
            "csv": write_shop_csv,
            "google_merchant": write_google_merchant,
        }
        writer = writers[channel.format]
        path = folder / FILE_NAMES[channel.format]
        return [FeedFile(name, f"{name}/{path.name}", writer(products, channel, path))]
    if isinstance(channel, QuotingChannel):
        files = []
        for customer in channel.customers:
            own = customer_tiers(tiers.lazy(), customer.id, customer.group, channel.currency)
            path = folder / f"{file_name_for(customer.id)}.xml"
            rows = write_bmecat(
                products, own.collect(), channel, customer, path, BMECAT_VERSION, created
            )
            files.append(FeedFile(name, f"{name}/{path.name}", rows))
        return files
    counts = load_portal_snapshot(products, portal_tiers(tiers, channel), channel, snapshot_id)
    return [FeedFile(name, table, rows, kind="table") for table, rows in counts.items()]
