"""The price API's data in a snapshot: the price channel's policy, customers, products and tiers.

Written when the price channel (``serve.prices.channel``) is staged, as ``kind="serving"``
files of that channel: hashed in the manifest like every file, but no feed (never served as
one, never delivered, no delta). ``prism serve`` loads them into its indexes before it switches
to the snapshot, so a request never reads the files.

    _prices/policy.json        {"channel", "currency", "currencies"}: the currency a request
                               gets by default (the channel's main one) and all it may ask for
    _prices/customers.parquet  customer_id, customer_group, name: the channel's customers
    _prices/products.parquet   sku, availability, availability_date, availability_estimated:
                               every product the channel published, sorted by sku
    _prices/tiers.parquet      the channel's tiers of those products (``PRICE_TIERS_SCHEMA``
                               without erp_source), sorted by sku: what its writer priced from
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from contracts.customers import Customer
from contracts.golden import PRICE_TIERS_SCHEMA
from contracts.snapshots import FeedFile

PRICE_FOLDER = "_prices"
"""In the snapshot folder (no channel name starts with ``_``)."""
POLICY = f"{PRICE_FOLDER}/policy.json"
CUSTOMERS = f"{PRICE_FOLDER}/customers.parquet"
PRODUCTS = f"{PRICE_FOLDER}/products.parquet"
TIERS = f"{PRICE_FOLDER}/tiers.parquet"
SERVING = "serving"
"""``FeedFile.kind`` of these files."""
PRODUCT_COLUMNS = ("sku", "availability", "availability_date", "availability_estimated")
TIER_COLUMNS = tuple(c for c in PRICE_TIERS_SCHEMA if c != "erp_source")
CUSTOMER_SCHEMA = pl.Schema(
    {"customer_id": pl.String(), "customer_group": pl.String(), "name": pl.String()}
)


def write_price_data(
    snapshot: Path,
    channel: str,
    currencies: Sequence[str],
    customers: Sequence[Customer],
    products: pl.DataFrame,
    tiers: pl.DataFrame,
) -> list[FeedFile]:
    """Write the four files into the staged ``snapshot`` folder; return them as
    ``kind="serving"`` files of ``channel``. ``currencies``: the main one first;
    ``products``: ``PRODUCT_COLUMNS`` of the published products; ``tiers``: their tiers."""
    (snapshot / PRICE_FOLDER).mkdir(parents=True, exist_ok=True)
    policy = {"channel": channel, "currency": currencies[0], "currencies": list(currencies)}
    (snapshot / POLICY).write_text(json.dumps(policy, indent=2), encoding="utf-8")
    rows = [(c.id, c.group, c.name) for c in customers]
    people = pl.DataFrame(rows, schema=CUSTOMER_SCHEMA, orient="row")
    frames = {
        CUSTOMERS: people,
        PRODUCTS: products.select(PRODUCT_COLUMNS).sort("sku"),
        TIERS: tiers.select(TIER_COLUMNS).sort("sku", maintain_order=True),
    }
    for path, frame in frames.items():
        frame.write_parquet(snapshot / path)
    files = [FeedFile(channel, POLICY, len(currencies), kind=SERVING)]
    return files + [FeedFile(channel, p, f.height, kind=SERVING) for p, f in frames.items()]
