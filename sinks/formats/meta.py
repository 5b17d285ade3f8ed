"""Meta (Facebook and Instagram) commerce catalog data feed: one CSV file, one row per item.

Meta reads CSV, TSV and RSS/ATOM XML feeds; CSV is the simplest that carries every field: a
header row of field names, comma separated, RFC 4180 quoting (a field with a comma, quote or
line break in double quotes, a quote doubled), UTF-8. Fields follow Meta's catalog field
reference: ``id`` (at most 100 characters), ``title`` (200) and ``description`` (9999, plain
text) are required, as are ``availability`` (``in stock``, ``out of stock``, ``preorder``,
``available for order``, ``discontinued``: U.S. English with spaces, unlike Google's codes),
``condition`` (``new``, ``refurbished``, ``used``), ``price``, ``link`` and ``image_link``.
``brand`` is required too, but Meta accepts a GTIN or MPN in its place, so a missing brand is
only reported. Meta truncates nothing itself, yet rejects an over-long title or description;
Prism cuts them at a word boundary and reports it (``on_too_long="truncate"``).

Cells: ``price`` and ``sale_price`` as ``12.35 EUR`` (two decimals, rounded half away from
zero, the channel's currency), ``additional_image_link`` up to 20 URLs comma separated (a comma
inside a URL percent-encoded, so it cannot split one), numbers as digits, a null value an empty
cell. Text cells a spreadsheet would run as a formula get a leading apostrophe by the rule of
``sinks.formats.tabular.FORMULA`` (merchants open these files in spreadsheets; a bullet list
``- ...`` is left alone); ``formula_guard: off`` switches that off.

The default preset ``meta_catalog`` maps the golden record like the Google preset: distinct
variant titles (the product's label and its variant values), the description without markup,
Prism's availability codes mapped to Meta's words (``backorder`` is ``available for order``),
``condition`` ``new``, variants grouped by ``item_group_id``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, field_validator

from contracts.formats import Assembly, FieldSpec, FormatSpec, WriteContext
from contracts.snapshots import FeedFile
from sinks.formats.tabular import guarded, write_delimited
from sinks.xml_text import CHUNK_ROWS, money

FILE = "meta_catalog.csv"
AVAILABILITY = ("in stock", "out of stock", "preorder", "available for order", "discontinued")
CONDITIONS = ("new", "refurbished", "used")
GENDERS = ("female", "male", "unisex")
AGE_GROUPS = ("adult", "all ages", "teen", "kids", "toddler", "infant", "newborn")
MONEY_FIELDS = ("price", "sale_price")
_DIALECT: dict[str, Any] = {"separator": ",", "quote_style": "necessary", "line_terminator": "\n"}


class Options(BaseModel):
    """The file's name and the spreadsheet formula guard."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    file_name: str = FILE
    formula_guard: Literal["on", "off"] = "on"

    @field_validator("file_name")
    @classmethod
    def _plain(cls, value: str) -> str:
        if not value or value in {".", ".."} or "/" in value or "\\" in value:
            msg = f"{value!r} must be a plain file name such as 'meta_catalog.csv'"
            raise ValueError(msg)
        return value


FIELDS = (
    FieldSpec("id", requirement="required", max_length=100, description="the item's id"),
    FieldSpec("title", requirement="required", max_length=200, on_too_long="truncate"),
    FieldSpec(
        "description",
        requirement="required",
        max_length=9999,
        on_too_long="truncate",
        description="plain text, no markup",
    ),
    FieldSpec("availability", "enum", "required", allowed=AVAILABILITY, source="erp"),
    FieldSpec("condition", "enum", "required", allowed=CONDITIONS),
    FieldSpec("price", "money", "required", source="erp", description="e.g. '9.99 USD'"),
    FieldSpec("link", "url", "required", description="the product page"),
    FieldSpec("image_link", "url", "required", description="the main image"),
    FieldSpec(
        "brand",
        requirement="required",
        max_length=100,
        severity_when_missing="warn",
        description="required unless the item has a GTIN or MPN",
    ),
    FieldSpec("sale_price", "money", source="erp"),
    FieldSpec("item_group_id", description="the variant group; variants share it"),
    FieldSpec("google_product_category", description="Google's category id or path"),
    FieldSpec("fb_product_category", description="Meta's category id or path"),
    FieldSpec("color", max_length=200),
    FieldSpec("size", max_length=200),
    FieldSpec("gender", "enum", allowed=GENDERS),
    FieldSpec("age_group", "enum", allowed=AGE_GROUPS),
    FieldSpec("material", max_length=200),
    FieldSpec("pattern", max_length=100),
    FieldSpec("additional_image_link", "list", max_items=20, max_length=2000),
    FieldSpec("gtin", "gtin", description="GTIN-8/12/13/14, GS1 check digit"),
    FieldSpec("mpn", max_length=100),
    FieldSpec("quantity_to_sell_on_facebook", "integer", source="erp"),
    FieldSpec("product_type", max_length=750, on_too_long="truncate"),
    *(FieldSpec(f"custom_label_{i}", max_length=100) for i in range(5)),
)
PRESETS = {
    "meta_catalog": {
        "id": {"field": "sku"},
        "title": {"template": "{field.label} {field.variant_values}"},
        "description": {"role": "description", "transform": ["strip_html"]},
        "availability": {
            "field": "availability",
            "map": {
                "in_stock": "in stock",
                "out_of_stock": "out of stock",
                "backorder": "available for order",
            },
        },
        "condition": {"constant": "new"},
        "price": {"field": "price"},
        "link": {"field": "url"},
        "image_link": {"field": "image_url"},
        "brand": {"role": "brand"},
        "additional_image_link": {"field": "additional_images"},
        "gtin": {"role": "gtin"},
        "item_group_id": {"field": "item_group"},
        "product_type": {"field": "category_path"},
        "color": {"role": "color"},
        "size": {"role": "size"},
        "gender": {"role": "gender", "label": False},
        "age_group": {"role": "age_group", "label": False, "map": {"all_ages": "all ages"}},
        "material": {"role": "material"},
        "pattern": {"role": "pattern"},
        "quantity_to_sell_on_facebook": {"field": "available_qty"},
    },
}
_KINDS = {f.name: f.kind for f in FIELDS}


def write(frame: pl.DataFrame, context: WriteContext) -> list[FeedFile]:
    """Write the channel's items; one row per item."""
    return write_chunked(frame, context, CHUNK_ROWS)


def write_chunked(frame: pl.DataFrame, context: WriteContext, chunk_rows: int) -> list[FeedFile]:
    """``write``, formatting ``chunk_rows`` rows at a time (bounded memory)."""
    options = context.options if isinstance(context.options, Options) else Options()
    currency = context.settings.main_currency
    guard = options.formula_guard == "on"
    cells = [_cell(name, currency, guard) for name in frame.columns if name in _KINDS]
    path: Path = context.folder / options.file_name
    write_delimited(path, _chunks(frame, cells, chunk_rows), _DIALECT)
    return [FeedFile(context.channel, f"{context.channel}/{options.file_name}", frame.height)]


def _chunks(frame: pl.DataFrame, cells: list[pl.Expr], chunk_rows: int) -> Iterator[pl.DataFrame]:
    """The cells ``chunk_rows`` rows at a time; an empty frame still gives the header."""
    if frame.height == 0:
        yield frame.select(cells)
        return
    if max(frame.n_chunks("all"), default=1) > 1:
        frame = frame.rechunk()  # slicing a frame of many small chunks is very slow
    for chunk in frame.iter_slices(chunk_rows):
        yield chunk.select(cells)


def _cell(name: str, currency: str, guard: bool) -> pl.Expr:
    """One field's cell text (null: an empty cell)."""
    value = pl.col(name)
    kind = _KINDS[name]
    if kind == "money":
        return pl.concat_str(money(value), pl.lit(f" {currency}")).alias(name)
    if kind == "integer":
        return value.cast(pl.String).alias(name)
    if kind == "list":
        items = value.cast(pl.List(pl.String)).list.eval(
            pl.element().str.replace_all(",", "%2C", literal=True)
        )
        joined = items.list.join(",", ignore_nulls=True)
        text: pl.Expr = pl.when(joined.str.len_chars() > 0).then(joined)
    else:
        text = value.cast(pl.String)
    return (guarded(text) if guard else text).alias(name)


SPEC = FormatSpec(
    name="meta_catalog",
    description="Meta (Facebook, Instagram) commerce catalog data feed, CSV",
    fields=FIELDS,
    writer=write,
    presets=PRESETS,
    public=True,
    options=Options,
    notes=("one file, default meta_catalog.csv; Meta also accepts TSV and XML",),
    assembly=Assembly(header_lines=1),
)
