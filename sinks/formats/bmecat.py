"""BMEcat 2005 catalogs (``T_NEW_CATALOG``), one file per customer of a quoting channel.

Element order and length limits follow ``bmecat_2005.xsd`` (BME e.V.); every file also
validates against 2005.1. Each customer gets ``<file_name_for(id)>.xml`` with the products
that have at least one of that customer's effective tiers (``WriteContext.customer_tiers``:
``golden.pricing.effective_tiers``, the rule the portal and the price API use too), in the
channel's main currency: one ``PRODUCT_PRICE`` per tier, ascending by ``LOWER_BOUND``
(= ``min_quantity``), ``net_list`` for list tiers and ``net_customer`` for group and customer
tiers, per one ``C62`` (piece), amounts rounded half away from zero to two decimals. Tiers with
a validity go into a ``PRODUCT_PRICE_DETAILS`` per distinct (valid_from, valid_to) with
``DATETIME type="valid_start_date"`` / ``"valid_end_date"`` (the ERP's dates, both inclusive).

Free text is cut to the schema's maximum (the field specs truncate too: short description 150
characters, manufacturer 50, feature values 60); identifiers that exceed theirs are refused
(the sku as ``SUPPLIER_PID``, 32, fails the write: ``SinkInputError``). The classification
(``classification_system``, ``classification_group``, e.g. ``ECLASS-13.0`` and a group id from
a value map) is its own ``PRODUCT_FEATURES`` with ``REFERENCE_FEATURE_SYSTEM_NAME`` and
``REFERENCE_FEATURE_GROUP_ID``, apart from the free color/size features, which belong to no
classification system.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, field_validator

from contracts.customers import Customer, CustomerList, CustomersOption, ErpCustomers
from contracts.formats import FieldSpec, FormatSpec, WriteContext
from contracts.snapshots import FeedFile
from contracts.text import escape, escaped, file_name_for
from sinks.xml_text import (
    CHUNK_ROWS,
    SinkInputError,
    element,
    markup,
    money,
    require_values,
    required_element,
    truncated,
    write_document,
)

log = logging.getLogger(__name__)

BMECAT_NS = "http://www.bmecat.org/bmecat/2005"
PRICE_TYPES = {"list": "net_list", "group": "net_customer", "customer": "net_customer"}
# ISO 639-1 (our locales) -> ISO 639-2/T (BMEcat's dtLANG); every value is in the 2005 schema.
LANGUAGES = {
    "ar": "ara", "bg": "bul", "ca": "cat", "cs": "ces", "da": "dan", "de": "deu", "el": "ell",
    "en": "eng", "es": "spa", "et": "est", "eu": "eus", "fi": "fin", "fr": "fra", "ga": "gle",
    "gl": "glg", "he": "heb", "hr": "hrv", "hu": "hun", "is": "isl", "it": "ita", "ja": "jpn",
    "ko": "kor", "lt": "lit", "lv": "lav", "mt": "mlt", "nb": "nob", "nl": "nld", "nn": "nno",
    "no": "nor", "pl": "pol", "pt": "por", "ro": "ron", "ru": "rus", "sk": "slk", "sl": "slv",
    "sr": "srp", "sv": "swe", "tr": "tur", "uk": "ukr", "zh": "zho",
}  # fmt: skip
FEATURE_NAMES = {"deu": ("Farbe", "Größe"), "fra": ("Couleur", "Taille")}
_DEFAULT_FEATURE_NAMES = ("Color", "Size")
_ORDER_DETAILS = (
    "<PRODUCT_ORDER_DETAILS><ORDER_UNIT>C62</ORDER_UNIT><CONTENT_UNIT>C62</CONTENT_UNIT>"
    "<NO_CU_PER_OU>1</NO_CU_PER_OU><PRICE_QUANTITY>1</PRICE_QUANTITY>"
    "<QUANTITY_MIN>1</QUANTITY_MIN><QUANTITY_INTERVAL>1</QUANTITY_INTERVAL>"
    "</PRODUCT_ORDER_DETAILS>"
)
_FOOTER = "</T_NEW_CATALOG>\n</BMECAT>\n"
_MAX_SUPPLIER_PID, _MAX_MIME_SOURCE = 32, 255  # CATALOG_ID's 20: contracts.customers
_ROW = "_row"


# --- options -----------------------------------------------------------------------------------


class Supplier(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(min_length=1, max_length=250)
    """``SUPPLIER_ID``"""
    name: str = Field(min_length=1)
    """``SUPPLIER_NAME`` (cut to 50 characters)"""


class Options(BaseModel):
    """Who the catalogs are from and for."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    supplier: Supplier
    customers: CustomersOption = Field(
        description="[{id, name, group}, ...] typed by hand, or {from: erp, groups, ids, "
        "active_only}: the ERP customer master's customers with their price groups"
    )
    """a hand-typed list (id, name, group), or ``{from: erp, ...}``: the ERP's customer master,
    resolved when the channel is written (``golden.customers.select_customers``)"""
    catalog_version: str = Field(default="1.0", pattern=r"^[0-9]{1,3}\.[0-9]{1,3}$")
    """``CATALOG_VERSION``, ``major.minor``; every snapshot is a complete ``T_NEW_CATALOG``
    and ``GENERATION_DATE`` tells them apart"""

    @field_validator("customers")
    @classmethod
    def _one_file_per_customer(cls, customers: CustomerList) -> CustomerList:
        """At least one customer, and each customer's catalog is its own file, also on
        case-insensitive file systems."""
        if isinstance(customers, ErpCustomers):
            return customers
        if not customers:
            msg = "give at least one customer: each gets its own catalog"
            raise ValueError(msg)
        files: dict[str, str] = {}
        for customer in customers:
            file = f"{file_name_for(customer.id)}.xml"
            if file.casefold() in files:
                msg = f"customers {files[file.casefold()]!r} and {customer.id!r} would share the"
                msg += f" catalog file {file}"
                raise ValueError(msg)
            files[file.casefold()] = customer.id
        return customers


# --- fields ------------------------------------------------------------------------------------

FIELDS = (
    FieldSpec(
        "short_description",
        requirement="required",
        max_length=150,
        on_too_long="truncate",
        description="DESCRIPTION_SHORT",
    ),
    FieldSpec(
        "long_description",
        max_length=64_000,
        on_too_long="truncate",
        description="DESCRIPTION_LONG",
    ),
    FieldSpec("gtin", "gtin", description='INTERNATIONAL_PID type="gtin"'),
    FieldSpec("manufacturer_pid", max_length=50, description="MANUFACTURER_PID"),
    FieldSpec(
        "manufacturer_name",
        max_length=50,
        on_too_long="truncate",
        description="MANUFACTURER_NAME (the brand's label)",
    ),
    FieldSpec("feature_color", max_length=60, on_too_long="truncate", description="FEATURE"),
    FieldSpec("feature_size", max_length=60, on_too_long="truncate", description="FEATURE"),
    FieldSpec(
        "classification_system",
        max_length=80,
        pattern=r"^[A-Za-z0-9.-]+$",
        description="REFERENCE_FEATURE_SYSTEM_NAME, e.g. ECLASS-13.0 or ETIM-9.0",
    ),
    FieldSpec(
        "classification_group",
        max_length=60,
        description="REFERENCE_FEATURE_GROUP_ID in that system (e.g. from a value map)",
    ),
    FieldSpec("image", "url", max_length=_MAX_MIME_SOURCE, description="MIME_INFO (normal)"),
)
PRESETS = {
    "quoting": {
        "short_description": {"field": "label"},
        "long_description": {"role": "description"},
        "gtin": {"role": "gtin"},
        "manufacturer_name": {"role": "brand"},
        "feature_color": {"role": "color"},
        "feature_size": {"role": "size"},
        "image": {"field": "image_url"},
    },
}


# --- writer ------------------------------------------------------------------------------------


def write(frame: pl.DataFrame, context: WriteContext) -> list[FeedFile]:
    """One catalog per customer of ``context.options``; rows = products written to it."""
    options = context.options
    if not isinstance(options, Options):
        msg = "bmecat: the channel needs its supplier and customers (format options)"
        raise SinkInputError(msg)
    if isinstance(options.customers, ErpCustomers):
        msg = "bmecat: the customers from the ERP were not resolved before writing"
        raise SinkInputError(msg)
    settings = context.settings
    language, currency = _language(settings.locale), settings.main_currency
    _check_products(frame)
    products = frame.with_row_index(_ROW)
    _check_tiers(context.tiers, frame)
    if context.customer_tiers is None:
        msg = "bmecat: no price resolution for the customers was given to the writer"
        raise SinkInputError(msg)
    files = []
    for customer in options.customers:
        own = context.customer_tiers(customer.id, customer.group)
        own = own.filter(pl.col("currency") == currency)
        prices = _tiers_in_product_order(own, products)
        priced = _with_tiers(products, prices.get_column(_ROW))
        if skipped := products.height - priced.height:
            log.warning(
                "bmecat %s: %d product(s) without a price tier left out", customer.id, skipped
            )
        name = f"{file_name_for(customer.id)}.xml"
        header = _header(options, customer, language, currency, context.created)
        lines = _product_lines(priced, prices, language, currency, CHUNK_ROWS)
        write_document(context.folder / name, header, lines, _FOOTER)
        files.append(FeedFile(context.channel, f"{context.channel}/{name}", priced.height))
    return files


def _check_tiers(tiers: pl.DataFrame | None, frame: pl.DataFrame) -> None:
    """Fails on tiers of the frame's products no catalog can hold."""
    if tiers is None:
        return
    tiers = tiers.join(frame.select("sku"), on="sku", how="semi")
    require_values(tiers, ("sku", "min_quantity", "unit_price", "price_type"), "bmecat tiers")
    unknown = set(tiers.get_column("price_type").unique()) - set(PRICE_TYPES)
    if unknown:
        msg = f"bmecat tiers: unknown price_type {sorted(unknown)}, expected {list(PRICE_TYPES)}"
        raise SinkInputError(msg)


def _with_tiers(products: pl.DataFrame, tier_rows: pl.Series) -> pl.DataFrame:
    """The products that have at least one tier (no copy when all of them have)."""
    rows = tier_rows.unique()
    if rows.len() == products.height:
        return products
    return products.filter(pl.col(_ROW).is_in(rows.implode()))


def _tiers_in_product_order(tiers: pl.DataFrame, products: pl.DataFrame) -> pl.DataFrame:
    """``_row, min_quantity, unit_price, price_type, valid_from, valid_to, opens, closes``
    sorted by product row, then validity group (the group with the lowest quantity first:
    bounds are unique per product, so this orders the groups), then quantity.

    ``opens``/``closes``: the tier is the first/last of its product's (valid_from, valid_to)
    group, where a ``PRODUCT_PRICE_DETAILS`` starts/ends. Fails when a product has two tiers
    for one quantity at its chosen level (the ERP resolution upstream keeps one per tier).
    """
    keyed = tiers.join(products.select("sku", _ROW), on="sku", how="inner")
    if keyed.select(pl.struct(_ROW, "min_quantity").is_duplicated().any()).item():
        msg = "bmecat tiers: several tiers for one sku and min_quantity at one price level"
        raise SinkInputError(msg)
    columns = (_ROW, "min_quantity", "unit_price", "price_type", "valid_from", "valid_to")
    first_bound = pl.col("min_quantity").min().over(_ROW, "valid_from", "valid_to")
    ordered = keyed.select(columns).sort(_ROW, first_bound, "min_quantity")
    key = (_ROW, "valid_from", "valid_to")
    opens = pl.any_horizontal(pl.col(c).ne_missing(pl.col(c).shift(1)) for c in key)
    closes = pl.any_horizontal(pl.col(c).ne_missing(pl.col(c).shift(-1)) for c in key)
    first, last = pl.int_range(pl.len()) == 0, pl.int_range(pl.len()) == pl.len() - 1
    return ordered.with_columns(opens=opens | first, closes=closes | last)


def _product_lines(
    priced: pl.DataFrame, prices: pl.DataFrame, language: str, currency: str, chunk_rows: int
) -> Iterator[pl.DataFrame]:
    """Per chunk of products: each product's opening line, its tier lines, its closing line.

    Interleaving sorted lines instead of aggregating tiers into one string per product avoids
    a string group-by, the slowest step by far (~10 s for 3M tiers).
    """
    columns = set(priced.columns)
    head, tail = _product_head(columns, language), _product_tail(columns)
    tier = _tier(currency)
    rows = prices.get_column(_ROW)
    if max(priced.n_chunks("all"), default=1) > 1:
        priced = priced.rechunk()
    for chunk in priced.iter_slices(chunk_rows):
        first, last = chunk.item(0, _ROW), chunk.item(-1, _ROW)
        start, stop = rows.search_sorted(first, "left"), rows.search_sorted(last, "right")
        parts = [
            _part(chunk, 0, head),
            _part(prices.slice(start, stop - start), 1, tier),
            _part(chunk, 2, tail),
        ]
        yield pl.concat(parts).sort(_ROW, "part", maintain_order=True).select("xml")


def _part(frame: pl.DataFrame, part: int, xml: pl.Expr) -> pl.DataFrame:
    return frame.select(_ROW, pl.lit(part, pl.Int8).alias("part"), xml.alias("xml"))


def _check_products(frame: pl.DataFrame) -> None:
    require_values(frame, ("sku", "short_description"), "bmecat")
    skus = frame.get_column("sku")
    too_long = skus.filter(skus.str.len_chars() > _MAX_SUPPLIER_PID)
    if too_long.len():
        examples = too_long.head(5).to_list()
        msg = f"bmecat: {too_long.len()} sku(s) longer than {_MAX_SUPPLIER_PID}, e.g. {examples}"
        raise SinkInputError(msg)


def _tier(currency: str) -> pl.Expr:
    """One ``PRODUCT_PRICE`` (amount for ``LOWER_BOUND`` = ``min_quantity`` pieces or more),
    opening/closing its validity group's ``PRODUCT_PRICE_DETAILS`` where it is the first/last."""
    validity = markup(
        [
            "<PRODUCT_PRICE_DETAILS>",
            _datetime("valid_start_date", pl.col("valid_from")),
            _datetime("valid_end_date", pl.col("valid_to")),
        ]
    )
    return markup(
        [
            pl.when(pl.col("opens")).then(validity),
            '<PRODUCT_PRICE price_type="',
            pl.col("price_type").replace_strict(PRICE_TYPES, return_dtype=pl.String),
            '">',
            *required_element("PRICE_AMOUNT", money(pl.col("unit_price")), escape_value=False),
            f"<PRICE_CURRENCY>{currency}</PRICE_CURRENCY>",
            *required_element(
                "LOWER_BOUND", pl.col("min_quantity").cast(pl.String), escape_value=False
            ),
            "</PRODUCT_PRICE>",
            pl.when(pl.col("closes")).then(pl.lit("</PRODUCT_PRICE_DETAILS>")),
        ]
    )


def _datetime(kind: str, date: pl.Expr) -> pl.Expr:
    """``<DATETIME type="kind"><DATE>YYYY-MM-DD</DATE></DATETIME>``, null for an open end."""
    text = pl.concat_str(pl.lit("<DATE>"), date.dt.to_string("%Y-%m-%d"), pl.lit("</DATE>"))
    return element("DATETIME", text, f' type="{kind}"', escape_value=False)


def _language(locale: str) -> str:
    language = locale.split("_")[0]
    if len(language) == 3:
        return language
    if language not in LANGUAGES:
        msg = f"no ISO 639-2 code known for locale {locale!r}; add it to LANGUAGES"
        raise SinkInputError(msg)
    return LANGUAGES[language]


def _header(
    options: Options, customer: Customer, language: str, currency: str, generated_at: dt.datetime
) -> str:
    supplier = options.supplier
    catalog_name = escape(f"{supplier.name} - {customer.name}"[:100])
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<BMECAT version="2005" xmlns="{BMECAT_NS}">\n<HEADER>\n'
        "<GENERATOR_INFO>Prism</GENERATOR_INFO>\n<CATALOG>"
        f"<LANGUAGE>{language}</LANGUAGE>"
        f"<CATALOG_ID>{escape(customer.id)}</CATALOG_ID>"
        f"<CATALOG_VERSION>{options.catalog_version}</CATALOG_VERSION>"
        f"<CATALOG_NAME>{catalog_name}</CATALOG_NAME>"
        f"{_generation_date(generated_at)}<CURRENCY>{currency}</CURRENCY></CATALOG>\n"
        f'<BUYER><BUYER_ID type="supplier_specific">{escape(customer.id)}</BUYER_ID>'
        f"<BUYER_NAME>{escape(customer.name[:50])}</BUYER_NAME></BUYER>\n"
        f'<SUPPLIER><SUPPLIER_ID type="supplier_specific">{escape(supplier.id)}</SUPPLIER_ID>'
        f"<SUPPLIER_NAME>{escape(supplier.name[:50])}</SUPPLIER_NAME></SUPPLIER>\n"
        "</HEADER>\n<T_NEW_CATALOG>\n"
    )


def _generation_date(generated_at: dt.datetime) -> str:
    """``DATETIME type="generation_date"``; the time zone only when ``generated_at`` has one."""
    parts = f"<DATE>{generated_at:%Y-%m-%d}</DATE><TIME>{generated_at:%H:%M:%S}</TIME>"
    offset = generated_at.utcoffset()
    if offset is not None:
        minutes = int(offset.total_seconds()) // 60
        sign = "-" if minutes < 0 else "+"
        hours, minutes = divmod(abs(minutes), 60)
        parts += f"<TIMEZONE>{sign}{hours:02d}:{minutes:02d}</TIMEZONE>"
    return f'<DATETIME type="generation_date">{parts}</DATETIME>'


def _text(name: str, value: pl.Expr, max_chars: int, attributes: str = "") -> pl.Expr:
    """``element`` of ``value`` cut to ``max_chars``, null when nothing is left after escaping
    (the schema's text types need at least one character)."""
    text = escaped(truncated(value, max_chars))
    return pl.when(text.str.len_bytes() > 0).then(
        pl.concat_str(pl.lit(f"<{name}{attributes}>"), text, pl.lit(f"</{name}>"))
    )


def _product_head(columns: set[str], language: str) -> pl.Expr:
    """``PRODUCT`` up to and including ``PRODUCT_ORDER_DETAILS``; unmapped fields left out."""
    short = escaped(truncated(pl.col("short_description"), 150))
    short = pl.when(short.str.len_bytes() > 0).then(short).otherwise(escaped(pl.col("sku")))
    details: list[pl.Expr | str] = ["<DESCRIPTION_SHORT>", short, "</DESCRIPTION_SHORT>"]
    optional = (
        ("long_description", "DESCRIPTION_LONG", 64_000, ""),
        ("gtin", "INTERNATIONAL_PID", 100, ' type="gtin"'),
        ("manufacturer_pid", "MANUFACTURER_PID", 50, ""),
        ("manufacturer_name", "MANUFACTURER_NAME", 50, ""),
    )
    for column, tag, limit, attributes in optional:
        if column in columns:
            details.append(_text(tag, pl.col(column), limit, attributes))
    return markup(
        [
            '<PRODUCT mode="new">',
            *required_element("SUPPLIER_PID", pl.col("sku")),
            "<PRODUCT_DETAILS>",
            *details,
            "</PRODUCT_DETAILS>",
            *_classification(columns),
            *_features(columns, language),
            _ORDER_DETAILS,
        ]
    )


def _product_tail(columns: set[str]) -> pl.Expr:
    return markup([_mime_info() if "image" in columns else "", "</PRODUCT>"])


def _classification(columns: set[str]) -> list[pl.Expr]:
    """``PRODUCT_FEATURES`` naming the product's group in a classification system (the
    schema's order: system name, then group id), null without a group."""
    if "classification_group" not in columns:
        return []
    parts: list[pl.Expr | str] = ["<PRODUCT_FEATURES>"]
    if "classification_system" in columns:
        system = _text("REFERENCE_FEATURE_SYSTEM_NAME", pl.col("classification_system"), 80)
        parts.append(system)
    group = _text("REFERENCE_FEATURE_GROUP_ID", pl.col("classification_group"), 60)
    parts += [group, "</PRODUCT_FEATURES>"]
    return [pl.when(group.is_not_null()).then(markup(parts))]


def _features(columns: set[str], language: str) -> list[pl.Expr]:
    """``PRODUCT_FEATURES`` with color and size (names in the catalog's language), null when
    the product has neither."""
    color_name, size_name = FEATURE_NAMES.get(language, _DEFAULT_FEATURE_NAMES)
    features = [
        _feature(name, pl.col(column))
        for column, name in (("feature_color", color_name), ("feature_size", size_name))
        if column in columns
    ]
    if not features:
        return []
    body = markup(["<PRODUCT_FEATURES>", *features, "</PRODUCT_FEATURES>"])
    return [pl.when(pl.any_horizontal(f.is_not_null() for f in features)).then(body)]


def _feature(name: str, value: pl.Expr) -> pl.Expr:
    fvalue = _text("FVALUE", value, 60)
    return pl.concat_str(
        pl.lit(f"<FEATURE><FNAME>{escape(name)}</FNAME>"), fvalue, pl.lit("</FEATURE>")
    )


def _mime_info() -> pl.Expr:
    """The product image, when there is one whose URL fits ``MIME_SOURCE`` (255 characters).

    ``MIME_TYPE`` is given for JPEG and GIF only: the schema's pattern admits no other image type.
    """
    url = pl.col("image")
    usable = url.str.len_chars() <= _MAX_MIME_SOURCE
    extension = url.str.extract(r"(?i)\.(jpe?g|gif)(?:[?#]|$)").str.to_lowercase()
    mime_type = extension.replace_strict(
        {"jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif"}, return_dtype=pl.String
    )
    mime = markup(
        [
            "<MIME_INFO><MIME>",
            element("MIME_TYPE", mime_type, escape_value=False),
            element("MIME_SOURCE", url),
            "<MIME_PURPOSE>normal</MIME_PURPOSE></MIME></MIME_INFO>",
        ]
    )
    return pl.when(usable).then(mime)


SPEC = FormatSpec(
    name="bmecat",
    description="BMEcat 2005 T_NEW_CATALOG, one catalog per customer with its price tiers",
    fields=FIELDS,
    writer=write,
    presets=PRESETS,
    public=False,
    options=Options,
    notes=(
        "one file per customer: <customer id>.xml (file-name safe), CATALOG_ID = customer id",
        "tiers per customer: its own, else its group's, else list (per sku, never mixed)",
        "classification_group usually comes from a value map (category -> ECLASS group)",
    ),
)
