"""Tabular product files whose columns are entirely the channel's mapping: CSV, TSV, JSON Lines
and XLSX, one row per product (variants included), in the frame's order.

The four formats share one writer and one field declaration. The format is *extensible*: a
channel may map any column name; ``FIELDS`` only declares the well-known columns of the presets
whose values need a kind (money, dates, quantities, URLs, GTINs, lists), so they are checked
and formatted like every other channel's fields. Nothing is required: what a file needs is the
preset's (and the shop's) business. The frame's product key ``sku`` is written only when the
channel maps a target named ``sku`` (the ``demo_shop`` preset does); every other column is a
mapped target, in mapping order.

Cells. Money: two decimals, rounded half away from zero (as ``sinks.xml_text.money``), with
``decimal_comma`` as ``12,50``. Dates: ``date_format`` (strftime, default ISO ``%Y-%m-%d``).
Lists: joined with ``list_separator`` (JSON Lines: arrays). Null: ``null_value`` (default the
empty cell; JSON Lines: ``null``). CSV/TSV quoting follows RFC 4180 (``quoting``: only where
needed, all cells, or all but numbers); XLSX cells are typed (strings never become formulas or
links, money and quantities are numbers, dates are dates); JSON Lines carries money as a string
(``"12.35"``) so no reader turns it into a binary float.

Formula guard (``formula_guard: on``, the CSV/TSV default). A text cell a spreadsheet would run
as a formula gets a leading apostrophe. Not every leading ``-`` is a formula: product text very
often starts with a bullet list (``- 100 % cotton``), and an apostrophe before each such
description corrupts the text a shop imports by machine. The rule (``FORMULA``):

- always: a cell starting with ``=``, ``@``, tab, carriage return, ``{`` (an array formula
  such as ``{=HYPERLINK(...)}``) or the full-width equals, plus, minus or at sign (U+FF1D,
  U+FF0B, U+FF0D, U+FF20, which some spreadsheets fold to ASCII);
- a cell starting with ``+`` or ``-`` only when what follows is formula syntax: right after the
  sign a digit, ``.``, ``(``, another operator (``= + - @``), ``$`` or a quote (``-1+2``,
  ``+49 30 1234``); or a cell reference (``-A1*3``, ``+$B$2``); or anywhere in the cell a
  function call (a name directly followed by ``(``: ``- x HYPERLINK(...)``), a DDE call
  (``|``: ``-cmd|' /C calc'!A0``) or another sheet's cell (``!A1``).

So ``- bullet list`` and ``-Blau`` stay as they are, while ``-1+2`` and ``-A1*3`` are guarded.
A phone number such as ``+49 30 1234`` *is* guarded: a spreadsheet evaluates it (``+49`` becomes
the number 49 or an error), which is exactly the damage the guard prevents; a channel read only
by machines that needs the raw text sets ``formula_guard: off``. XLSX and JSON Lines default to
``off``: an XLSX string cell is never evaluated, and JSON is no spreadsheet, so an apostrophe
there would only change the data.

Variant imports (``parent_rows: true``): before the first variant of each variant group
(``item_group`` of the golden record) one parent row is written; the variants of a group
follow their parent together, in their first appearance's place; simple products stay where
they are. The parent row's ``parent_id_column`` (default: the first column) holds the group's
code, the columns in ``parent_blank`` (default ``price``, ``gtin``, ``available_qty``) and
``parent_reference_column`` stay empty, the columns in ``parent_collect`` hold every distinct
value of the group (``parent_collect_separator``), every other column the group's first
variant's value. Each variant gets the group's code in ``parent_reference_column`` (default
``parent``; appended when the mapping has no such column); ``type_column`` (appended likewise)
tells ``type_values.simple``, ``.parent`` and ``.variant`` rows apart (WooCommerce's ``simple``,
``variable``, ``variation``). Data rows written (``FeedFile.rows``) include the parent rows.

Presets (field mappings only; the dialect is the channel's options):

- ``demo_shop`` (the default): the demo shop's feed, exactly the columns of the former shop CSV
  (``sku, item_group, parent, name, description, brand, gtin, color, size, category_path,
  price, currency, availability, availability_date, available_qty, image_url, url``); the
  default options are its dialect (UTF-8 without BOM, comma, LF, quotes where needed).
- ``shopware6``: the column names of Shopware 6's "Default product" import/export profile
  (``product_number, active, stock, name, description, price_gross, manufacturer_name,
  cover_media_url``). A Shopware channel sets ``delimiter: ";"`` (the profile's default) and
  keeps ``decimal_comma: false`` (Shopware reads prices as PHP floats, ``12.50``). Shopware
  needs a net price and a tax for a new product: map ``price_net`` and ``tax_id`` (or
  ``tax_rate``) from your own sources, and ``categories`` (category ids, ``|`` separated) if you
  have them. Its variants link by ``parent_id``, the parent's Shopware id, which Prism does not
  know, so the preset exports variants as products of their own; with ids at hand, set
  ``parent_rows: true, parent_reference_column: parent_id`` and map ``id``.
- ``woocommerce``: the default column names of WooCommerce's product CSV importer (``SKU,
  Type, Name, Published, Description, In stock?, Stock, Regular price, Categories, Images,
  GTIN, UPC, EAN, or ISBN, Attribute 1 name, Attribute 1 value(s), Attribute 1 global``, the
  same for attribute 2). A WooCommerce channel sets ``list_separator: ", "`` (images) and, for
  variable products, ``parent_rows: true, parent_reference_column: Parent, type_column: Type,
  parent_blank: [Regular price, Stock, "GTIN, UPC, EAN, or ISBN"], parent_collect:
  [Attribute 1 value(s), Attribute 2 value(s)]``. Commas inside attribute values and category
  names are escaped (``\\,``) as the importer expects; the attribute names (``Color``,
  ``Size``) appear only where the product has the value.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from contracts.formats import Assembly, FieldSpec, FormatSpec, WriteContext
from contracts.snapshots import FeedFile
from sinks.xlsx_sheet import SheetColumn, SheetError, check_sheet_name, write_sheet
from sinks.xml_text import CHUNK_ROWS, SinkInputError, money

KEY = "sku"
"""The frame's product key: written only when the channel maps a target of that name."""
BOM = b"\xef\xbb\xbf"
_LS, _PS = "\u2028".encode(), "\u2029".encode()
_MONEY_2 = pl.Decimal(38, 2)
_GROUP, _ROW, _ORDER, _KIND = "__group", "__row", "__order", "__kind"

_ALWAYS = "=@\t\r{\uff1d\uff0b\uff0d\uff20"
FORMULA = (
    "(?s)^(?:[" + _ALWAYS + "]"
    r"|[+\-](?:[0-9.(=+\-@$\"']"  # a number, a parenthesis, an operator, a reference, a string
    r"|\$?[A-Za-z]{1,3}\$?[0-9]"  # a cell reference: -A1*3, +$B$2
    r"|.*[A-Za-z_][A-Za-z0-9_.]*\("  # a function call anywhere: - x HYPERLINK(...)
    r"|.*\|"  # a DDE call: -cmd|' /C calc'!A0
    r"|.*!\$?[A-Za-z]{1,3}\$?[0-9]))"  # another sheet's cell: -Sheet1!A1
)
"""A text cell a spreadsheet runs as a formula (see the module docstring for the rule)."""


def guarded(text: pl.Expr) -> pl.Expr:
    """``text`` with a leading apostrophe where ``FORMULA`` holds; null stays null.

    Narrower than ``contracts.text.neutralized``: a leading ``-`` or ``+`` counts only when
    formula syntax follows, so bullet lists and words keep their text."""
    return (
        pl.when(text.str.contains(FORMULA)).then(pl.concat_str(pl.lit("'"), text)).otherwise(text)
    )


# --- options -----------------------------------------------------------------------------------


class TypeValues(BaseModel):
    """The ``type_column`` values of simple products, parent rows and variants."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    simple: str = "simple"
    parent: str = "variable"
    variant: str = "variation"


def _plain_file_name(value: str) -> str:
    if not value or value in {".", ".."} or "/" in value or "\\" in value or "\0" in value:
        msg = f"{value!r} must be a plain file name such as 'products.csv'"
        raise ValueError(msg)
    return value


class _Options(BaseModel):
    """What every tabular format shares: the file, the formula guard, variant parent rows."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: ClassVar[str]

    file_name: str
    formula_guard: Literal["on", "off"] = "on"
    parent_rows: bool = False
    """write one parent row before each variant group (shop variant imports)"""
    parent_id_column: str | None = None
    """the parent row's column that gets the group's code (default: the first column)"""
    parent_reference_column: str = "parent"
    """the variants' column that gets their parent's code (appended when not mapped)"""
    parent_blank: tuple[str, ...] = ("price", "gtin", "available_qty")
    """columns left empty in parent rows (variant-level values)"""
    parent_collect: tuple[str, ...] = ()
    """columns whose parent-row value is every distinct value of the group"""
    parent_collect_separator: str = ", "
    type_column: str | None = None
    """a column telling simple products, parent rows and variants apart (appended if needed)"""
    type_values: TypeValues = TypeValues()

    _file = field_validator("file_name")(_plain_file_name)

    @model_validator(mode="after")
    def _distinct_columns(self) -> _Options:
        if self.type_column is not None and self.type_column == self.parent_reference_column:
            msg = "type_column and parent_reference_column must be different columns"
            raise ValueError(msg)
        if self.parent_id_column is not None and self.parent_id_column in (
            self.parent_reference_column,
            self.type_column,
        ):
            msg = "parent_id_column must differ from parent_reference_column and type_column"
            raise ValueError(msg)
        return self


class _ListOptions(_Options):
    list_separator: str = Field(default="|", min_length=1)
    """between the items of a list column (e.g. image URLs)"""
    null_value: str = ""
    """the text of a cell without a value"""


def _check_date_format(value: str) -> str:
    try:
        pl.Series([dt.date(2026, 12, 24)]).dt.strftime(value)
    except pl.exceptions.PolarsError:
        msg = f"{value!r} is not a date format such as '%Y-%m-%d' or '%d.%m.%Y'"
        raise ValueError(msg) from None
    return value


class _TextOptions(_ListOptions):
    """The dialect of a delimited text file (RFC 4180 quoting)."""

    delimiter: str = ","
    bom: bool = False
    """start the file with a UTF-8 byte order mark (for spreadsheets that guess the encoding)"""
    decimal_comma: bool = False
    """money and decimals as ``12,50``"""
    quoting: Literal["necessary", "all", "non_numeric"] = "necessary"
    line_ending: Literal["lf", "crlf"] = "lf"
    date_format: str = "%Y-%m-%d"

    _date = field_validator("date_format")(_check_date_format)

    @field_validator("delimiter")
    @classmethod
    def _one_byte(cls, value: str) -> str:
        if len(value) != 1 or not value.isascii() or value in "\"\r\n'" or value.isalnum():
            msg = f"{value!r}: the delimiter is one ASCII punctuation character, space or tab"
            raise ValueError(msg)
        return value

    @model_validator(mode="after")
    def _comma_apart(self) -> _TextOptions:
        if self.decimal_comma and self.delimiter == ",":
            msg = "decimal_comma needs a delimiter other than ','"
            raise ValueError(msg)
        return self


class CsvOptions(_TextOptions):
    kind: ClassVar[str] = "csv"
    file_name: str = "products.csv"


class TsvOptions(_TextOptions):
    kind: ClassVar[str] = "tsv"
    file_name: str = "products.tsv"
    delimiter: str = "\t"


class JsonlOptions(_Options):
    """One JSON object per line; lists are arrays, null is null, money a string."""

    kind: ClassVar[str] = "jsonl"
    file_name: str = "products.jsonl"
    formula_guard: Literal["on", "off"] = "off"
    date_format: str = "%Y-%m-%d"

    _date = field_validator("date_format")(_check_date_format)


class XlsxOptions(_ListOptions):
    """One worksheet; cells typed (numbers, dates, strings), strings never become formulas."""

    kind: ClassVar[str] = "xlsx"
    file_name: str = "products.xlsx"
    formula_guard: Literal["on", "off"] = "off"
    sheet_name: str = "Products"

    _excel_sheet_name = field_validator("sheet_name")(check_sheet_name)


_OPTIONS: dict[str, type[_Options]] = {
    o.kind: o for o in (CsvOptions, TsvOptions, JsonlOptions, XlsxOptions)
}


# --- fields and presets ------------------------------------------------------------------------

FIELDS = (
    # the demo shop (and any channel using these names)
    FieldSpec("price", "money", description="unit list price, two decimals", source="erp"),
    FieldSpec("availability_date", "date", description="backorders: when", source="erp"),
    FieldSpec("available_qty", "integer", description="available stock", source="erp"),
    FieldSpec("url", "url", description="the product page"),
    FieldSpec("image_url", "url", description="the main image"),
    FieldSpec("gtin", "gtin", description="GTIN-8/12/13/14, GS1 check digit"),
    FieldSpec("images", "list", description="every image URL"),
    FieldSpec("additional_images", "list", description="every image URL but the main one"),
    FieldSpec("categories", "list", description="category codes"),
    # Shopware 6, "Default product" profile
    FieldSpec("stock", "integer", description="Shopware: stock", source="erp"),
    FieldSpec("price_gross", "money", description="Shopware: gross price", source="erp"),
    FieldSpec("price_net", "money", description="Shopware: net price", source="erp"),
    FieldSpec("cover_media_url", "url", description="Shopware: main image to download"),
    # WooCommerce product CSV importer
    FieldSpec("Regular price", "money", description="WooCommerce: price", source="erp"),
    FieldSpec("Sale price", "money", description="WooCommerce: sale price", source="erp"),
    FieldSpec("Stock", "integer", description="WooCommerce: stock quantity", source="erp"),
    FieldSpec("Images", "list", description="WooCommerce: image URLs, the first is the main"),
    FieldSpec("GTIN, UPC, EAN, or ISBN", "gtin", description="WooCommerce: global unique id"),
)
_SPECS = {f.name: f for f in FIELDS}

_ESCAPE_COMMAS = {"replace": {"pattern": ",", "with": "\\,"}}
"""WooCommerce splits list cells at commas; an escaped comma stays part of the value."""


def _woo_attribute(number: int, role: str, name: str) -> dict[str, Any]:
    """Attribute ``number`` of a WooCommerce row: named only where the product has the value."""
    only_if_valued = [{"replace": {"pattern": "(?s)^.+$", "with": name}}]
    return {
        f"Attribute {number} name": {"role": role, "transform": only_if_valued},
        f"Attribute {number} value(s)": {"role": role, "transform": [_ESCAPE_COMMAS]},
        f"Attribute {number} global": {
            "role": role,
            "transform": [{"replace": {"pattern": "(?s)^.+$", "with": "1"}}],
        },
    }


PRESETS: dict[str, dict[str, Any]] = {
    "demo_shop": {
        "sku": {"field": "sku"},
        "item_group": {"field": "item_group"},
        "parent": {"field": "parent"},
        "name": {"field": "label"},
        "description": {"role": "description"},
        "brand": {"role": "brand"},
        "gtin": {"role": "gtin"},
        "color": {"role": "color"},
        "size": {"role": "size"},
        "category_path": {"field": "category_path"},
        "price": {"field": "price"},
        "currency": {"field": "currency"},
        "availability": {"field": "availability"},
        "availability_date": {"field": "availability_date"},
        "available_qty": {"field": "available_qty"},
        "image_url": {"field": "image_url"},
        "url": {"field": "url"},
    },
    "shopware6": {
        "product_number": {"field": "sku"},
        "active": {"constant": "1"},
        "stock": {"field": "available_qty"},
        "name": {"field": "label"},
        "description": {"role": "description"},
        "price_gross": {"field": "price"},
        "manufacturer_name": {"role": "brand"},
        "cover_media_url": {"field": "image_url"},
    },
    "woocommerce": {
        "SKU": {"field": "sku"},
        "Type": {"constant": "simple"},
        "Name": {"field": "label"},
        "Published": {"constant": "1"},
        "Description": {"role": "description"},
        "In stock?": {
            "field": "availability",
            "map": {"in_stock": "1", "backorder": "0", "out_of_stock": "0"},
        },
        "Stock": {"field": "available_qty"},
        "Regular price": {"field": "price"},
        "Categories": {"field": "category_path", "transform": [_ESCAPE_COMMAS]},
        "Images": {"field": "images"},
        "GTIN, UPC, EAN, or ISBN": {"role": "gtin"},
        **_woo_attribute(1, "color", "Color"),
        **_woo_attribute(2, "size", "Size"),
    },
}


# --- the writer --------------------------------------------------------------------------------


def write(frame: pl.DataFrame, context: WriteContext) -> list[FeedFile]:
    """Write the channel's rows in its format (told by the options' type, else the channel's
    ``format``); one file."""
    return write_chunked(frame, context, CHUNK_ROWS)


def write_chunked(frame: pl.DataFrame, context: WriteContext, chunk_rows: int) -> list[FeedFile]:
    """``write``, formatting and writing ``chunk_rows`` rows at a time (bounded memory)."""
    options = _options(context)
    columns = written_columns(frame, context.settings)
    groups = context.golden_columns("item_group") if options.parent_rows else None
    rows, columns = with_parent_rows(frame, columns, options, groups)
    path: Path = context.folder / options.file_name
    if isinstance(options, _TextOptions):
        _write_text(rows, columns, options, path, chunk_rows)
    elif isinstance(options, JsonlOptions):
        _write_jsonl(rows, columns, options, path, chunk_rows)
    elif isinstance(options, XlsxOptions):
        _write_xlsx(rows, columns, options, path, chunk_rows)
    return [FeedFile(context.channel, f"{context.channel}/{options.file_name}", rows.height)]


def _options(context: WriteContext) -> _Options:
    if isinstance(context.options, _Options):
        return context.options
    format_name = getattr(context.settings, "format", "csv")
    return _OPTIONS.get(format_name, CsvOptions).model_validate({})


def written_columns(frame: pl.DataFrame, settings: Any) -> list[str]:
    """The frame's mapped targets in order; the key ``sku`` only when the channel maps a target
    of that name (its own ``fields:`` decide, else its preset)."""
    fields = getattr(settings, "fields", None) or {}
    if KEY in fields:
        keyed = fields[KEY] is not None
    else:
        preset = getattr(settings, "preset", None) or next(iter(PRESETS))
        keyed = KEY in PRESETS.get(preset, {})
    return [c for c in frame.columns if c != KEY or keyed]


def with_parent_rows(
    frame: pl.DataFrame, columns: Sequence[str], options: _Options, golden: pl.DataFrame | None
) -> tuple[pl.DataFrame, list[str]]:
    """The rows to write (``columns`` only, parent rows added when asked) and their columns;
    ``golden``: the frame's golden ``item_group`` (one row per frame row), for parent rows."""
    columns = list(columns)
    types = options.type_values
    if not options.parent_rows:
        if options.type_column is None:
            return frame.select(columns), columns
        columns = _appended(columns, options.type_column)
        frame = frame.with_columns(pl.lit(types.simple).alias(options.type_column))
        return frame.select(columns), columns
    if golden is None or "item_group" not in golden.columns or golden.height != frame.height:
        msg = "tabular: parent_rows needs the golden rows (item_group) of the frame, in order"
        raise SinkInputError(msg)
    if not columns:
        return frame.select(columns), columns
    id_column = options.parent_id_column or columns[0]
    if id_column not in columns:
        msg = f"tabular: parent_id_column {id_column!r} is not a column ({', '.join(columns)})"
        raise SinkInputError(msg)
    reference = options.parent_reference_column
    columns = _appended(columns, reference)
    if options.type_column is not None:
        columns = _appended(columns, options.type_column)
    group = golden.get_column("item_group").cast(pl.String)
    variant = pl.col(_GROUP).is_not_null()
    work = frame.with_columns(
        group.alias(_GROUP), pl.int_range(pl.len(), dtype=pl.Int64).alias(_ROW)
    )
    work = work.with_columns(pl.when(variant).then(pl.col(_GROUP)).alias(reference))
    collect = [
        c
        for c in options.parent_collect
        if c in columns and c not in (reference, options.type_column)
    ]
    work = work.with_columns(
        pl.col(c).cast(pl.String) for c in collect if not _is_text_or_list(work.schema[c])
    )
    if options.type_column is not None:
        kind = pl.when(variant).then(pl.lit(types.variant)).otherwise(pl.lit(types.simple))
        work = work.with_columns(kind.alias(options.type_column))
    children = work.with_columns(
        pl.when(variant)
        .then(pl.col(_ROW).min().over(_GROUP))
        .otherwise(pl.col(_ROW))
        .alias(_ORDER),
        pl.lit(1, pl.Int8).alias(_KIND),
    )
    parents = _parents(work.filter(variant), id_column, reference, collect, options)
    order = [*columns, _ORDER, _KIND, _ROW]
    rows = pl.concat([parents.select(order), children.select(order)], how="vertical")
    return rows.sort([_ORDER, _KIND, _ROW], maintain_order=True).select(columns), columns


def _parents(
    variants: pl.DataFrame, id_column: str, reference: str, collect: list[str], options: _Options
) -> pl.DataFrame:
    """One row per variant group: its first variant with the group's code, blanks, collections."""
    schema = variants.schema
    first = variants.unique(subset=_GROUP, keep="first", maintain_order=True)
    blank = {c for c in (*options.parent_blank, reference) if c in schema and c != id_column}
    parents = first.with_columns(
        pl.col(_GROUP).cast(schema[id_column], strict=False).alias(id_column),
        *(pl.lit(None, schema[c]).alias(c) for c in blank),
        pl.col(_ROW).alias(_ORDER),
        pl.lit(0, pl.Int8).alias(_KIND),
    )
    if options.type_column is not None:
        parents = parents.with_columns(
            pl.lit(options.type_values.parent).alias(options.type_column)
        )
    collect = [c for c in collect if c not in blank and c != id_column]
    if collect:
        separator = options.parent_collect_separator
        values = variants.group_by(_GROUP, maintain_order=True).agg(
            _distinct(c, schema[c], separator) for c in collect
        )
        parents = parents.drop(collect).join(values, on=_GROUP, how="left", maintain_order="left")
    return parents


def _distinct(column: str, dtype: pl.DataType, separator: str) -> pl.Expr:
    """A group's distinct values of ``column`` in first-seen order (a list, or joined text)."""
    if isinstance(dtype, pl.List):
        return pl.col(column).explode().drop_nulls().unique(maintain_order=True)
    joined = pl.col(column).drop_nulls().unique(maintain_order=True).str.join(separator)
    return pl.when(joined.str.len_chars() > 0).then(joined).alias(column)


def _is_text_or_list(dtype: pl.DataType) -> bool:
    return dtype == pl.String or isinstance(dtype, pl.List)


def _appended(columns: list[str], column: str) -> list[str]:
    return columns if column in columns else [*columns, column]


# --- cells -------------------------------------------------------------------------------------


def _kind(name: str, dtype: pl.DataType) -> str:
    """How a column is formatted: by its field spec, else by its dtype."""
    spec = _SPECS.get(name)
    if spec is not None and spec.kind in ("money", "decimal", "list", "date", "integer"):
        return spec.kind
    if isinstance(dtype, pl.Decimal):
        return "money"
    if isinstance(dtype, pl.List):
        return "list"
    if dtype == pl.Date:
        return "date"
    if dtype.is_integer():
        return "integer"
    if dtype.is_float() or dtype == pl.Boolean:
        return "number"
    return "text"


def _money_2(value: pl.Expr) -> pl.Expr:
    """The amount rounded as ``sinks.xml_text.money`` does, kept a number (for the dialect's
    decimal comma and numeric quoting)."""
    return value.round(2, mode="half_away_from_zero").cast(_MONEY_2)


def _decimal_text(value: pl.Expr) -> pl.Expr:
    """A decimal without trailing zeros (``1.500000`` -> ``1.5``)."""
    text = value.cast(pl.String)
    return pl.when(text.str.contains(r"\.")).then(text.str.replace(r"\.?0+$", "")).otherwise(text)


def _text(value: pl.Expr, guard: bool) -> pl.Expr:
    text = value.cast(pl.String)
    return guarded(text) if guard else text


def _joined(value: pl.Expr, separator: str, guard: bool) -> pl.Expr:
    joined = value.cast(pl.List(pl.String)).list.join(separator, ignore_nulls=True)
    return _text(pl.when(joined.str.len_chars() > 0).then(joined), guard)


def text_cells(frame: pl.DataFrame, columns: Sequence[str], options: _TextOptions) -> list[pl.Expr]:
    """The cells of a delimited text file; numbers and dates stay typed for polars' dialect."""
    guard = options.formula_guard == "on"
    cells = []
    for name in columns:
        value, kind = pl.col(name), _kind(name, frame.schema[name])
        if kind == "money":
            cell = _money_2(value)
        elif kind == "decimal":
            cell = _decimal_text(value)
            if options.decimal_comma:
                cell = cell.str.replace(".", ",", literal=True)
        elif kind == "list":
            cell = _joined(value, options.list_separator, guard)
        elif kind in ("date", "integer", "number"):
            cell = value
        else:
            cell = _text(value, guard)
        cells.append(cell.alias(name))
    return cells


def _write_text(
    rows: pl.DataFrame, columns: list[str], options: _TextOptions, path: Path, chunk_rows: int
) -> None:
    cells = text_cells(rows, columns, options)
    dialect: dict[str, Any] = {
        "separator": options.delimiter,
        "quote_style": "always" if options.quoting == "all" else options.quoting,
        "line_terminator": "\r\n" if options.line_ending == "crlf" else "\n",
        "null_value": options.null_value,
        "date_format": options.date_format,
        "decimal_comma": options.decimal_comma,
    }
    write_delimited(path, _chunks(rows, cells, chunk_rows), dialect, bom=options.bom)


def write_delimited(
    path: Path, chunks: Iterator[pl.DataFrame], dialect: dict[str, Any], *, bom: bool = False
) -> None:
    """The header and every chunk's rows as delimited text (``write_csv`` keywords in
    ``dialect``), a byte order mark first when asked; memory bounded by one chunk."""
    with path.open("wb") as out:
        if bom:
            out.write(BOM)
        for index, chunk in enumerate(chunks):
            chunk.write_csv(out, include_header=index == 0, **dialect)


def _chunks(rows: pl.DataFrame, cells: list[pl.Expr], chunk_rows: int) -> Iterator[pl.DataFrame]:
    """``cells`` evaluated ``chunk_rows`` rows at a time; an empty frame still gives its header."""
    if rows.height == 0:
        yield rows.select(cells)
        return
    if max(rows.n_chunks("all"), default=1) > 1:
        rows = rows.rechunk()
    for chunk in rows.iter_slices(chunk_rows):
        yield chunk.select(cells)


def _write_jsonl(
    rows: pl.DataFrame, columns: list[str], options: JsonlOptions, path: Path, chunk_rows: int
) -> None:
    guard = options.formula_guard == "on"
    cells = []
    for name in columns:
        value, kind = pl.col(name), _kind(name, rows.schema[name])
        if kind == "money":
            cell = money(value)
        elif kind == "decimal":
            cell = _decimal_text(value)
        elif kind == "date":
            cell = value.dt.strftime(options.date_format)
        elif kind == "list":
            items = value.cast(pl.List(pl.String))
            cell = items.list.eval(guarded(pl.element())) if guard else items
        elif kind in ("integer", "number"):
            cell = value
        else:
            cell = _text(value, guard)
        cells.append(cell.alias(name))
    with path.open("wb") as out:
        for chunk in _chunks(rows, cells, chunk_rows):
            if chunk.height:
                buffer = io.BytesIO()
                chunk.write_ndjson(buffer)
                out.write(_line_separators_escaped(buffer.getvalue()))


def _line_separators_escaped(lines: bytes) -> bytes:
    """U+2028/U+2029 as ``\\u2028``/``\\u2029``: valid JSON either way, but some line readers
    (``str.splitlines``, JavaScript before ES2019) break a line there. They can only occur
    inside JSON strings, so replacing the bytes keeps every value."""
    return lines.replace(_LS, rb"\u2028").replace(_PS, rb"\u2029")


def _write_xlsx(
    rows: pl.DataFrame, columns: list[str], options: XlsxOptions, path: Path, chunk_rows: int
) -> None:
    """One worksheet, header first, rendered column-wise (``sinks.xlsx_sheet``): money with
    two decimals, dates as Excel dates, numbers and booleans typed, the rest text. An Excel
    sheet holds 1,048,576 rows at most (more: ``SinkInputError``)."""
    guard = options.formula_guard == "on"
    cells = []
    for name in columns:
        value, dtype = pl.col(name), rows.schema[name]
        kind = _kind(name, dtype)
        if kind == "money":
            cell = SheetColumn(name, _money_2(value), "money")
        elif kind == "decimal":
            cell = SheetColumn(name, value.cast(pl.Float64), "number")
        elif kind == "list":
            cell = SheetColumn(name, _joined(value, options.list_separator, guard))
        elif kind == "date":
            cell = SheetColumn(name, value, "date")
        elif kind in ("integer", "number"):
            cell = SheetColumn(name, value, "boolean" if dtype == pl.Boolean else "number")
        else:
            cell = SheetColumn(name, _text(value, guard))
        cells.append(cell)
    null = options.null_value or None
    try:
        write_sheet(rows, path, options.sheet_name, cells, null, chunk_rows)
    except SheetError as error:  # raised before the file is opened
        raise SinkInputError(f"xlsx: {error}") from None


def _spec(
    name: str,
    extension: str,
    description: str,
    options: type[_Options],
    assembly: Assembly | None,
) -> FormatSpec:
    return FormatSpec(
        name=name,
        description=description,
        fields=FIELDS,
        writer=write,
        presets=PRESETS,
        public=True,
        options=options,
        extensible=True,
        notes=(f"one file, default products.{extension}; columns are the channel's mapping",),
        assembly=assembly,
    )


_HEADER = Assembly(header_lines=1)
SPEC_CSV = _spec("csv", "csv", "CSV, columns from the mapping (RFC 4180)", CsvOptions, _HEADER)
SPEC_TSV = _spec(
    "tsv", "tsv", "tab-separated values, columns from the mapping", TsvOptions, _HEADER
)
SPEC_JSONL = _spec("jsonl", "jsonl", "JSON Lines, one object per product", JsonlOptions, Assembly())
SPEC_XLSX = _spec("xlsx", "xlsx", "Excel workbook, one sheet, typed cells", XlsxOptions, None)
SPECS = (SPEC_CSV, SPEC_TSV, SPEC_JSONL, SPEC_XLSX)
