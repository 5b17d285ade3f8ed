"""The golden record contract: the frames every sink and quality rule reads.

All money is ``pl.Decimal(38, 6)`` (exact; rounded half-up to 2 places only by the sinks).
Dates are ``pl.Date``. Text is ``pl.String``; a missing value is null, never "".

``golden_products``: one row per PIM product (variants included, product models not), unique sku.
    sku              String   PIM identifier (``identifier`` or the ``sku`` value)
    uuid             String   Akeneo uuid, null in the CSV export
    enabled          Boolean
    family           String
    parent           String   nearest product model code, null for simple products
    item_group       String   root product model code (the variant group), null for simple ones
    categories       List(String)
    brand, gtin, image_url, color, size   String (image_url = media_base_url + PIM media path)
    weight           Decimal(38, 6), weight_unit String (Akeneo metric unit, e.g. KILOGRAM)
    name_<locale>, description_<locale>, category_path_<locale>   String, one per configured
                     locale; description is taken in the configured scope; category_path is the
                     localized labels from the tree root down to the deepest of the product's
                     categories, joined with " > "
    pim_source       String   where the row came from, e.g. "products.jsonl:17" (file:line)
    list_price_<CUR> Decimal(38, 6) public unit list price for quantity 1 on the as-of date,
                     one column per configured currency, null when there is none
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

import polars as pl

MONEY = pl.Decimal(38, 6)
AVAILABILITY_VALUES = ("in_stock", "backorder", "out_of_stock")


def localized(column: str, locale: str) -> str:
    """Name of a per-locale golden column, e.g. ``localized("name", "de_DE") == "name_de_DE"``."""
    return f"{column}_{locale}"


def list_price(currency: str) -> str:
    """Name of the public list price column for ``currency``."""
    return f"list_price_{currency}"


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


def golden_products_schema(locales: tuple[str, ...], currencies: tuple[str, ...]) -> pl.Schema:
    """The exact schema of ``golden_products`` for a configuration's locales and currencies."""
    columns: dict[str, pl.DataType] = {
        "sku": pl.String(),
        "uuid": pl.String(),
        "enabled": pl.Boolean(),
        "family": pl.String(),
        "parent": pl.String(),
        "item_group": pl.String(),
        "categories": pl.List(pl.String),
        "brand": pl.String(),
        "gtin": pl.String(),
        "image_url": pl.String(),
        "color": pl.String(),
        "size": pl.String(),
        "weight": MONEY,
        "weight_unit": pl.String(),
    }
    for locale in locales:
        for column in ("name", "description", "category_path"):
            columns[localized(column, locale)] = pl.String()
    columns["pim_source"] = pl.String()
    for currency in currencies:
        columns[list_price(currency)] = MONEY
    columns |= {
        "available_qty": pl.Int64(),
        "availability": pl.String(),
        "availability_date": pl.Date(),
        "availability_estimated": pl.Boolean(),
        "lead_time_days": pl.Int64(),
    }
    return pl.Schema(columns)


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
