"""The golden record contract: the frames every channel view and quality rule reads.

All money is ``pl.Decimal(38, 6)`` (exact; rounded half-up to 2 places only by the sinks).
Dates are ``pl.Date``. Text is ``pl.String``; a missing value is null, never "".

``golden_products``: one row per PIM product (variants included, product models not), unique
sku. First the columns of ``MASTER_SCHEMA``:

    sku              String   PIM identifier (``identifier`` or the identifier attribute)
    uuid             String   Akeneo uuid (null in the CSV export)
    enabled          Boolean
    family           String   as the families export spells it
    family_variant   String   of the product's root model (null for simple products)
    parent           String   nearest product model code (null for simple products)
    item_group       String   root product model code: the variant group
    level            Int64    0 simple, 1 variant of a root model, 2 variant of a sub-model
    categories       List(String)  own and inherited category codes
    category_lineage List(String)  those and all their ancestors, lower-cased (subtree filters)
    variant_axes     List(String)  attribute codes telling the variant from its siblings
    label_attribute  String   the family's ``attribute_as_label``
    main_image_attribute String the family's ``attribute_as_image``
    images           List(String)  image URLs, the family's image first
    image_url        String   the first of ``images``
    pim_source       String   where the row came from, e.g. "products.jsonl:17" (file:line)

then one ``attr.<value column>`` String column per PIM value some channel uses (Akeneo CSV
header names: ``attr.name-de_DE``, ``attr.description-de_DE-ecommerce``, ``attr.color`` (an
option code), ``attr.weight`` + ``attr.weight-unit``, ``attr.price-EUR``), inherited; then per
category tree a channel reads ``category_code:<tree>`` (the deepest category of the product in
that tree) and ``category_path:<tree>:<locale>``; then the ERP part:

    list_price_<CUR> Decimal(38, 6) public unit list price for quantity 1 on the as-of date,
                     one column per configured currency, null when there is none
    list_price_valid_to_<CUR> Date  the end of that price's validity (null: open-ended)
    available_qty    Int64    sum over warehouses of max(on_hand - reserved, 0); 0 without stock
    availability     String   in_stock | backorder | out_of_stock
    availability_date Date    for backorder only
    availability_estimated Boolean  true when the date comes from the family's average lead time
    lead_time_days   Int64

``price_tiers``: every price row valid on the as-of date, one row per tier.
    sku, price_type (list|group|customer), customer_group, customer_id, currency  String
    min_quantity     Int64    tier threshold (>= 1)
    unit_price       Decimal(38, 6)  amount / per_quantity
    valid_from, valid_to Date (null = open-ended)
    erp_source       String   e.g. "prices.csv:12"
"""

from __future__ import annotations

import re

import polars as pl

MONEY = pl.Decimal(38, 6)
AVAILABILITY_VALUES = ("in_stock", "backorder", "out_of_stock")
ATTR = "attr."
"""Prefix of the PIM value columns of the golden record."""

MASTER_SCHEMA = pl.Schema(
    {
        "sku": pl.String(),
        "uuid": pl.String(),
        "enabled": pl.Boolean(),
        "family": pl.String(),
        "family_variant": pl.String(),
        "parent": pl.String(),
        "item_group": pl.String(),
        "level": pl.Int64(),
        "categories": pl.List(pl.String()),
        "category_lineage": pl.List(pl.String()),
        "variant_axes": pl.List(pl.String()),
        "label_attribute": pl.String(),
        "main_image_attribute": pl.String(),
        "images": pl.List(pl.String()),
        "image_url": pl.String(),
        "pim_source": pl.String(),
    }
)
AVAILABILITY_SCHEMA = pl.Schema(
    {
        "available_qty": pl.Int64(),
        "availability": pl.String(),
        "availability_date": pl.Date(),
        "availability_estimated": pl.Boolean(),
        "lead_time_days": pl.Int64(),
    }
)


def attribute_column(value_column: str) -> str:
    """The golden column of a PIM value column, e.g. ``attr.name-de_DE``."""
    return f"{ATTR}{value_column}"


def list_price(currency: str) -> str:
    """Name of the public list price column for ``currency``."""
    return f"list_price_{currency}"


def list_price_columns(columns: list[str]) -> list[str]:
    """The ``list_price_<CUR>`` columns among ``columns`` (not their validity columns)."""
    return [c for c in columns if re.fullmatch(r"list_price_[A-Z]{3}", c)]


def list_price_valid_to(currency: str) -> str:
    """Name of the column with the end of the list price's validity in ``currency``."""
    return f"list_price_valid_to_{currency}"


def erp_schema(currencies: tuple[str, ...]) -> pl.Schema:
    """The ERP columns of ``golden_products`` for the configured currencies."""
    columns: dict[str, pl.DataType] = {}
    for currency in currencies:
        columns[list_price(currency)] = MONEY
        columns[list_price_valid_to(currency)] = pl.Date()
    return pl.Schema(columns | dict(AVAILABILITY_SCHEMA))


PRICE_TIERS_SCHEMA = pl.Schema(
    {
        "sku": pl.String(),
        "price_type": pl.String(),
        "customer_group": pl.String(),
        "customer_id": pl.String(),
        "currency": pl.String(),
        "min_quantity": pl.Int64(),
        "unit_price": MONEY,
        "valid_from": pl.Date(),
        "valid_to": pl.Date(),
        "erp_source": pl.String(),
    }
)

REJECTS_SCHEMA = pl.Schema(
    {
        "sku": pl.String(),
        "field": pl.String(),
        "value": pl.String(),
        "reason": pl.String(),
        "source": pl.String(),
    }
)
"""Input rows that cannot enter the golden record: ``reason`` is a snake_case code
(e.g. ``invalid_amount``, ``missing_identifier``, ``duplicate_sku``), ``source`` is "file:line"
(line numbers count the header of a CSV as line 1, so they match a text editor)."""

GOLDEN_FIELDS: dict[str, str] = {
    "sku": "the product's identifier",
    "uuid": "the Akeneo uuid",
    "family": "the family code",
    "family_variant": "the family variant code (variants)",
    "parent": "the nearest product model code (variants)",
    "item_group": "the root product model code: the variant group (variants)",
    "categories": "every category code of the product (list)",
    "category_code": "the deepest category of the product in the channel's tree",
    "category_path": "labels from the channel's tree root to that category, ' > ' joined",
    "label": "the product's name: the name role, else the family's label attribute",
    "variant_values": "the variant axes' labels (e.g. 'Blau, M'), for distinct variant titles",
    "variant_axes": "the attribute codes of the variant axes (list)",
    "image_url": "the main image URL (the family's image attribute first)",
    "images": "every image URL, the main one first (list)",
    "additional_images": "every image URL but the main one (list)",
    "price": "the list price for one piece in the channel's currency (money)",
    "price_valid_until": "the last day that price is valid (date)",
    "currency": "the channel's currency",
    "availability": "in_stock | backorder | out_of_stock",
    "availability_date": "when a backorder will be available (date)",
    "available_qty": "available stock over all warehouses (integer)",
    "lead_time_days": "the lead time in days (integer)",
    "url": "the product page: the channel's product_url with {sku} filled in",
    "completeness": "the share of the channel's required PIM fields that are filled (0..1)",
}
"""The golden-record fields a channel mapping can name with ``field:``."""
