"""Google Merchant Center product feed: RSS 2.0 with the ``g:`` namespace.

Follows Google's "RSS 2.0 specification" and "Product data specification": one ``<item>`` per
product with ``g:`` attributes; price is ``"12.34 EUR"`` (public list price, rounded half away
from zero); ``g:availability_date`` (``YYYY-MM-DDThh:mmZ``, midnight UTC of the golden date) is
written for ``backorder`` only; an optional value that is null leaves its element out.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from contracts.config import MarketplaceChannel
from contracts.golden import list_price, localized
from contracts.text import escape, escaped
from sinks.product_urls import product_urls
from sinks.xml_text import (
    CHUNK_ROWS,
    element,
    markup,
    money,
    render,
    require_values,
    required_element,
    write_document,
)

GOOGLE_NS = "http://base.google.com/ns/1.0"
_FOOTER = "</channel>\n</rss>\n"


def write_google_merchant(
    products: pl.DataFrame,
    channel: MarketplaceChannel,
    path: Path,
    chunk_rows: int = CHUNK_ROWS,
) -> int:
    """Write ``products`` (golden rows to publish, each with a list price) to ``path``.

    Returns the number of items written, one per row.
    """
    name, description = localized("name", channel.locale), localized("description", channel.locale)
    price = list_price(channel.currency)
    required = ("sku", name, description, price, "availability")
    require_values(products, required, "google_merchant")
    item = _item(channel, escaped(product_urls(products, channel.product_url)))
    write_document(path, _header(channel), render(products, item, chunk_rows), _FOOTER)
    return products.height


def _header(channel: MarketplaceChannel) -> str:
    """RSS channel head; the config has no feed description, so the title serves as one."""
    title, link = escape(channel.title), escape(channel.site_url)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<rss version="2.0" xmlns:g="{GOOGLE_NS}">\n<channel>\n'
        f"<title>{title}</title>\n<link>{link}</link>\n<description>{title}</description>\n"
    )


def _item(channel: MarketplaceChannel, link: pl.Expr) -> pl.Expr:
    locale = channel.locale
    backorder = pl.col("availability") == "backorder"
    available_from = pl.when(backorder).then(
        pl.col("availability_date").dt.strftime("%Y-%m-%dT00:00Z")
    )
    price = pl.concat_str(
        money(pl.col(list_price(channel.currency))), pl.lit(f" {channel.currency}")
    )
    return markup(
        [
            "<item>",
            *required_element("g:id", pl.col("sku")),
            *required_element("g:title", pl.col(localized("name", locale))),
            *required_element("g:description", pl.col(localized("description", locale))),
            *required_element("g:link", link, escape_value=False),
            element("g:image_link", pl.col("image_url")),
            *required_element("g:availability", pl.col("availability")),
            element("g:availability_date", available_from, escape_value=False),
            *required_element("g:price", price, escape_value=False),
            element("g:brand", pl.col("brand")),
            element("g:gtin", pl.col("gtin")),
            element("g:item_group_id", pl.col("item_group")),
            element("g:product_type", pl.col(localized("category_path", locale))),
            "<g:condition>new</g:condition>",
            element("g:color", pl.col("color")),
            element("g:size", pl.col("size")),
            "</item>",
        ]
    )
