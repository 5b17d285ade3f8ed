"""The B2B portal: the channel's products, prices and availability as SQL tables.

Format ``sql``. The products table holds ``sku``, every mapped field (the columns are the
mapping: ``extensible``) and the availability columns; ``prices`` every tier the portal may
carry (its ``price_types`` and ``currencies``: list, customer-group and customer prices with
their quantity breaks and validity); ``availability`` one row per product (a view of the
products table). Money and decimal fields are exact and numeric (``sinks.portal_sql``: NUMERIC
on PostgreSQL, integer micro-units plus a numeric view column on SQLite). Loading goes into the
snapshot's own tables; the publish switches the views to them in one transaction
(``sinks.portal_sql``), so readers never see a half load. List fields are stored as text joined
with ``" | "``.
"""

from __future__ import annotations

import polars as pl

from contracts.formats import FieldSpec, FormatSpec, WriteContext
from contracts.snapshots import FeedFile
from sinks.portal_sql import AVAILABILITY_COLUMNS, load_portal_snapshot

LIST_SEPARATOR = " | "

FIELDS = (
    FieldSpec("name", requirement="required", description="the product's name"),
    FieldSpec("description", requirement="recommended"),
    FieldSpec("brand"),
    FieldSpec("gtin", "gtin"),
    FieldSpec("image_url", "url"),
    FieldSpec("weight", "decimal", description="kilograms"),
)
PRESETS = {
    "portal": {
        "item_group": {"field": "item_group"},
        "parent": {"field": "parent"},
        "family": {"field": "family"},
        "name": {"field": "label"},
        "description": {"role": "description"},
        "brand": {"role": "brand"},
        "gtin": {"role": "gtin"},
        "color": {"role": "color"},
        "size": {"role": "size"},
        "category_path": {"field": "category_path"},
        "image_url": {"field": "image_url"},
        "weight": {"role": "weight", "unit": "KILOGRAM"},
    },
}


def write(frame: pl.DataFrame, context: WriteContext) -> list[FeedFile]:
    """Load the snapshot's tables; report them as ``kind="table"`` files."""
    url = context.settings.url
    if not url:
        msg = f"channels.{context.channel}.url: a sql channel needs a database URL"
        raise ValueError(msg)
    lists = [n for n, t in frame.schema.items() if isinstance(t, pl.List)]
    products = frame.with_columns(pl.col(lists).list.join(LIST_SEPARATOR))
    own = [c for c in AVAILABILITY_COLUMNS if c not in products.columns]
    products = pl.concat([products, context.golden.select(own)], how="horizontal")
    counts = load_portal_snapshot(url, products, context.tiers, context.snapshot_id)
    return [FeedFile(context.channel, table, rows, kind="table") for table, rows in counts.items()]


SPEC = FormatSpec(
    name="sql",
    description="B2B portal: products, prices (every tier) and availability in a SQL database",
    fields=FIELDS,
    writer=write,
    presets=PRESETS,
    public=False,
    target="sql",
    extensible=True,
)
