"""Website feed: JSON Lines, one schema.org ``Product`` JSON-LD object per line.

Each object follows schema.org ``Product``/``Offer`` and Google's merchant-listing rules: the
offer carries the public list price as a string with exactly two decimals (rounded half away
from zero), ``priceCurrency``, the schema.org availability URL (``availabilityStarts`` for
backorders) and the product page URL. Variants point at their group with ``isVariantOf``
(a ``ProductGroup`` with ``productGroupID``). A property whose value is null is left out.

Serialization is vectorized: polars encodes a struct column to JSON per row, and the ``null``
members it writes are then cut out with one regex over the known optional keys (safe: inside a
JSON string every ``"`` is escaped, so ``,"key":null`` only matches a real member).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from contracts.config import WebsiteChannel
from contracts.golden import list_price, localized
from sinks.product_urls import product_urls
from sinks.xml_text import SinkInputError, money, require_values

SCHEMA_ORG = "https://schema.org"
AVAILABILITY = {
    "in_stock": f"{SCHEMA_ORG}/InStock",
    "backorder": f"{SCHEMA_ORG}/BackOrder",
    "out_of_stock": f"{SCHEMA_ORG}/OutOfStock",
}
# Akeneo weight units -> UN/CEFACT common codes (schema.org QuantitativeValue.unitCode).
WEIGHT_UNIT_CODES = {
    "MILLIGRAM": "MGM",
    "GRAM": "GRM",
    "KILOGRAM": "KGM",
    "TON": "TNE",
    "OUNCE": "ONZ",
    "POUND": "LBR",
}
OPTIONAL_KEYS = (
    "description",
    "image",
    "gtin",
    "brand",
    "color",
    "size",
    "category",
    "weight",
    "isVariantOf",
    "unitCode",
    "unitText",
    "availabilityStarts",
)
_NULL_MEMBER = r',"(?:' + "|".join(OPTIONAL_KEYS) + r')":null'
_SCRIPT_ESCAPES = {c: f"\\u{ord(c):04x}" for c in "<>&\u2028\u2029"}


def write_website(products: pl.DataFrame, channel: WebsiteChannel, path: Path) -> int:
    """Write ``products`` (golden rows to publish, each with a list price) to ``path``.

    Returns the number of lines written, one per row. Lines are encoded and written by the
    polars streaming engine (all cores, bounded memory, row order kept).
    """
    name, price = localized("name", channel.locale), list_price(channel.currency)
    require_values(products, ("sku", name, price, "availability"), "website")
    _require_known_availability(products)
    document = _product(channel, product_urls(products, channel.product_url))
    line = script_safe(document.struct.json_encode().str.replace_all(_NULL_MEMBER, ""))
    lines = products.lazy().select(line.alias("json"))
    lines.sink_csv(path, include_header=False, quote_style="never", engine="streaming")
    return products.height


def script_safe(json_text: pl.Expr) -> pl.Expr:
    """JSON that can sit inside ``<script type="application/ld+json">``: ``<``, ``>`` and ``&``
    (and U+2028/U+2029, line breaks to JavaScript) as ``\\uXXXX`` escapes, so a product name
    holding ``</script><script>...`` cannot end the element. Outside strings JSON never holds
    these characters, so the replacement keeps the document's meaning."""
    return json_text.str.replace_many(list(_SCRIPT_ESCAPES), list(_SCRIPT_ESCAPES.values()))


def _require_known_availability(products: pl.DataFrame) -> None:
    unknown = products.filter(~pl.col("availability").is_in(list(AVAILABILITY)))
    if unknown.height:
        values = unknown.get_column("availability").unique().head(5).to_list()
        msg = f"website: {unknown.height} row(s) with unknown availability, e.g. {values}"
        raise SinkInputError(msg)


def _product(channel: WebsiteChannel, url: pl.Expr) -> pl.Expr:
    """The JSON-LD ``Product`` as a struct; key order is output order, ``@type`` first."""
    locale = channel.locale
    return pl.struct(
        pl.lit(SCHEMA_ORG).alias("@context"),
        pl.lit("Product").alias("@type"),
        pl.col("sku"),
        pl.col(localized("name", locale)).alias("name"),
        pl.col(localized("description", locale)).alias("description"),
        pl.col("image_url").alias("image"),
        pl.col("gtin"),
        _typed("brand", "Brand", name=pl.col("brand")),
        pl.col("color"),
        pl.col("size"),
        pl.col(localized("category_path", locale)).alias("category"),
        _weight(),
        _typed("isVariantOf", "ProductGroup", productGroupID=pl.col("item_group")),
        _offer(channel, url),
    )


def _typed(key: str, type_name: str, **members: pl.Expr) -> pl.Expr:
    """``key: {"@type": type_name, **members}``, null (left out) when the first member is null."""
    first = next(iter(members.values()))
    typed = pl.struct(pl.lit(type_name).alias("@type"), *(e.alias(k) for k, e in members.items()))
    return pl.when(first.is_not_null()).then(typed).alias(key)


def _weight() -> pl.Expr:
    """``QuantitativeValue`` with a UN/CEFACT ``unitCode``, else the Akeneo unit as text."""
    unit = pl.col("weight_unit")
    code = unit.replace_strict(WEIGHT_UNIT_CODES, default=None, return_dtype=pl.String)
    return _typed(
        "weight",
        "QuantitativeValue",
        value=pl.col("weight").cast(pl.Float64),
        unitCode=code,
        unitText=pl.when(code.is_null()).then(unit),
    )


def _offer(channel: WebsiteChannel, url: pl.Expr) -> pl.Expr:
    backorder = pl.col("availability") == "backorder"
    availability = pl.col("availability").replace_strict(AVAILABILITY, return_dtype=pl.String)
    return pl.struct(
        pl.lit("Offer").alias("@type"),
        money(pl.col(list_price(channel.currency))).alias("price"),
        pl.lit(channel.currency).alias("priceCurrency"),
        availability.alias("availability"),
        pl.when(backorder)
        .then(pl.col("availability_date").dt.to_string("%Y-%m-%d"))
        .alias("availabilityStarts"),
        url.alias("url"),
    ).alias("offers")
