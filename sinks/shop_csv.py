"""Shop feed: one CSV row per product (variants included), UTF-8 without BOM, header, comma.

Variants carry ``item_group`` (root product model) and ``parent`` (nearest model) so a shop can
group them. ``price`` is the public list price with exactly two decimals (rounded half away
from zero), ``availability_date`` is ``YYYY-MM-DD`` (backorders only), a null value is an empty
cell. Quoting follows RFC 4180 (cells with a comma, quote or line break are quoted).

Text cells a spreadsheet would evaluate as a formula (starting with ``=``, ``+``, ``-``, ``@``,
tab or carriage return; OWASP "CSV injection") get a leading apostrophe; numbers (price,
quantity) and dates are not touched.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from contracts.config import ShopChannel
from contracts.golden import list_price, localized
from contracts.text import neutralized
from sinks.product_urls import product_urls
from sinks.xml_text import require_values

MONEY_2 = pl.Decimal(38, 2)
COLUMNS = (
    "sku",
    "item_group",
    "parent",
    "name",
    "description",
    "brand",
    "gtin",
    "color",
    "size",
    "category_path",
    "price",
    "currency",
    "availability",
    "availability_date",
    "available_qty",
    "image_url",
    "url",
)


def write_shop_csv(products: pl.DataFrame, channel: ShopChannel, path: Path) -> int:
    """Write ``products`` (golden rows to publish, each with a list price) to ``path``.

    Returns the number of data rows written (the header not counted). Rows are formatted and
    written by the polars streaming engine (all cores, bounded memory, row order kept).
    """
    name, price = localized("name", channel.locale), list_price(channel.currency)
    require_values(products, ("sku", name, price, "availability"), "shop")
    rows = products.lazy().select(_columns(channel, product_urls(products, channel.product_url)))
    rows.sink_csv(path, date_format="%Y-%m-%d", engine="streaming")
    return products.height


def _columns(channel: ShopChannel, url: pl.Expr) -> list[pl.Expr]:
    locale = channel.locale
    text = {
        "name": pl.col(localized("name", locale)),
        "description": pl.col(localized("description", locale)),
        "category_path": pl.col(localized("category_path", locale)),
        "currency": pl.lit(channel.currency),
        "url": url,
    }
    price = pl.col(list_price(channel.currency)).round(2, mode="half_away_from_zero")
    numbers = {
        "price": price.cast(MONEY_2),
        "availability_date": pl.col("availability_date"),
        "available_qty": pl.col("available_qty"),
    }
    exprs = []
    for column in COLUMNS:
        if column in numbers:
            exprs.append(numbers[column].alias(column))
            continue
        exprs.append(neutralized(text.get(column, pl.col(column))).alias(column))
    return exprs
