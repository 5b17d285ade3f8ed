"""Google Merchant Center product feed: RSS 2.0 with the ``g:`` namespace.

Fields follow Google's "Product data specification": limits, allowed values and which
attributes are required (``availability_date`` for backorders; ``brand`` and ``gtin`` for
most products, so recommended here). Google truncates an over-long title or description and
warns, so Prism does the same; an over-long id is refused. Each mapped field becomes one
``<g:field>`` element per item, lists one element per value; ``price`` is ``"12.34 EUR"``
(rounded half away from zero), ``availability_date`` ``YYYY-MM-DDThh:mmZ`` (midnight UTC).
Variants get distinct titles in the default preset: the product's label and its variant
values ("Hemd Blau, M").
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
from pydantic import BaseModel, ConfigDict

from contracts.formats import Assembly, FieldSpec, FormatSpec, WriteContext
from contracts.mapping import Test
from contracts.snapshots import FeedFile
from contracts.text import escape
from sinks.xml_text import CHUNK_ROWS, element, markup, money, render, write_document

GOOGLE_NS = "http://base.google.com/ns/1.0"
FILE = "google_merchant.xml"
AVAILABILITY = ("in_stock", "out_of_stock", "preorder", "backorder")
GENDERS = ("male", "female", "unisex")
AGE_GROUPS = ("newborn", "infant", "toddler", "kids", "adult")
CONDITIONS = ("new", "refurbished", "used")
_FOOTER = "</channel>\n</rss>\n"


class Options(BaseModel):
    """The RSS channel's head; Google reads only the items."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    title: str = "Prism product feed"
    site_url: str = "https://www.example.com/"


_BACKORDER = Test.model_validate({"field": "availability", "in": ["backorder", "preorder"]})
FIELDS = (
    FieldSpec("id", requirement="required", max_length=50, description="the offer's id"),
    FieldSpec("title", requirement="required", max_length=150, on_too_long="truncate"),
    FieldSpec("description", requirement="required", max_length=5000, on_too_long="truncate"),
    FieldSpec("link", "url", "required", max_length=2000),
    FieldSpec("image_link", "url", "required", max_length=2000),
    FieldSpec("additional_image_link", "list", max_items=10, max_length=2000),
    FieldSpec("availability", "enum", "required", allowed=AVAILABILITY, source="erp"),
    FieldSpec("availability_date", "date", required_when=_BACKORDER, source="erp"),
    FieldSpec("price", "money", "required", source="erp"),
    FieldSpec("brand", requirement="recommended", max_length=70, severity_when_missing="warn"),
    FieldSpec(
        "gtin",
        "gtin",
        "recommended",
        description="GTIN-8/12/13/14, GS1 check digit (a wrong one disapproves the item)",
        on_invalid="reject",
    ),
    FieldSpec("mpn", max_length=70),
    FieldSpec("item_group_id", max_length=50),
    FieldSpec("product_type", max_length=750, on_too_long="truncate"),
    FieldSpec("google_product_category", max_length=750),
    FieldSpec("condition", "enum", allowed=CONDITIONS),
    FieldSpec("color", max_length=100, on_too_long="truncate"),
    FieldSpec("size", max_length=100),
    FieldSpec("gender", "enum", allowed=GENDERS),
    FieldSpec("age_group", "enum", allowed=AGE_GROUPS),
    FieldSpec("material", max_length=200),
    FieldSpec("pattern", max_length=100),
    *(FieldSpec(f"custom_label_{i}", max_length=100) for i in range(5)),
)
PRESETS = {
    "google_shopping": {
        "id": {"field": "sku"},
        "title": {"template": "{field.label} {field.variant_values}"},
        "description": {"role": "description", "transform": ["strip_html"]},
        "link": {"field": "url"},
        "image_link": {"field": "image_url"},
        "additional_image_link": {"field": "additional_images"},
        "availability": {"field": "availability"},
        "availability_date": {"field": "availability_date"},
        "price": {"field": "price"},
        "brand": {"role": "brand"},
        "gtin": {"role": "gtin"},
        "item_group_id": {"field": "item_group"},
        "product_type": {"field": "category_path"},
        "condition": {"constant": "new"},
        "color": {"role": "color"},
        "size": {"role": "size"},
    },
}


def write(frame: pl.DataFrame, context: WriteContext) -> list[FeedFile]:
    """Write the channel's items; one per row."""
    options = context.options if isinstance(context.options, Options) else Options()
    path: Path = context.folder / FILE
    currency = context.settings.main_currency
    item = _item(frame.columns, currency)
    write_document(path, _header(options), render(frame, item, CHUNK_ROWS), _FOOTER)
    return [FeedFile(context.channel, f"{context.channel}/{FILE}", frame.height)]


def _header(options: Options) -> str:
    """RSS channel head; the config has no feed description, so the title serves as one."""
    title, link = escape(options.title), escape(options.site_url)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<rss version="2.0" xmlns:g="{GOOGLE_NS}">\n<channel>\n'
        f"<title>{title}</title>\n<link>{link}</link>\n<description>{title}</description>\n"
    )


def _item(columns: list[str], currency: str) -> pl.Expr:
    parts: list[pl.Expr | str] = ["<item>"]
    for name in (c for c in columns if c != "sku"):
        parts.append(_element(name, currency))
    parts.append("</item>")
    return markup(parts)


def _element(name: str, currency: str) -> pl.Expr:
    value = pl.col(name)
    tag = f"g:{name}"
    if name == "price":
        text = pl.concat_str(money(value), pl.lit(f" {currency}"))
        return element(tag, text, escape_value=False)
    if name == "availability_date":
        return element(tag, value.dt.strftime("%Y-%m-%dT00:00Z"), escape_value=False)
    spec = next((f for f in FIELDS if f.name == name), None)
    if spec is not None and spec.kind == "list":
        items = value.list.eval(element(tag, pl.element()))
        joined = items.list.join("")
        return pl.when(joined.str.len_chars() > 0).then(joined)
    return element(tag, value.cast(pl.String))


SPEC = FormatSpec(
    name="google_merchant",
    description="Google Merchant Center RSS 2.0 product feed (g: namespace)",
    fields=FIELDS,
    writer=write,
    presets=PRESETS,
    public=True,
    options=Options,
    assembly=Assembly(first_item=b"<item>", footer=_FOOTER.encode()),
)
