"""BMEcat 2005 catalog (``T_NEW_CATALOG``) for one customer of a quoting channel.

Element order and length limits follow ``bmecat_2005.xsd`` (BME e.V.). One ``PRODUCT`` per
product that has at least one tier; one ``PRODUCT_PRICE`` per tier, ascending by ``LOWER_BOUND``
(= ``min_quantity``): ``net_list`` for list tiers, ``net_customer`` for group/customer tiers.
Amounts are rounded half away from zero to two decimals, in the channel's currency, per one
``C62`` (piece). Free text is cut to the schema's maximum length (names 150 characters, brand
50, feature values 60); identifiers that exceed theirs fail instead (``SinkInputError``).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from contracts.config import Customer, QuotingChannel
from contracts.golden import localized
from contracts.text import escape
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
_CATALOG_VERSION = re.compile(r"[0-9]{1,3}\.[0-9]{1,3}")
_MAX_SUPPLIER_PID, _MAX_CATALOG_ID, _MAX_MIME_SOURCE = 32, 20, 255
_ROW = "_row"


def write_bmecat(
    products: pl.DataFrame,
    tiers: pl.DataFrame,
    channel: QuotingChannel,
    customer: Customer,
    path: Path,
    catalog_version: str,
    generated_at: dt.datetime,
    chunk_rows: int = CHUNK_ROWS,
) -> int:
    """Write ``customer``'s catalog: ``products`` priced by ``tiers`` (that customer's effective
    tiers: ``sku, min_quantity, unit_price, price_type``), in ``channel.currency``.

    ``catalog_version`` is ``major.minor`` (e.g. ``"1.0"``). Products without a tier are left
    out; returns the number of products written.
    """
    _check_header_values(customer, catalog_version)
    _check_products(products, localized("name", channel.locale))
    _check_tiers(tiers, channel.currency)
    products = products.with_row_index(_ROW)
    prices = _tiers_in_product_order(tiers, products)
    priced = _with_tiers(products, prices.get_column(_ROW))
    if skipped := products.height - priced.height:
        log.warning("bmecat %s: %d product(s) without a price tier left out", customer.id, skipped)
    header = _header(channel, customer, catalog_version, generated_at)
    lines = _product_lines(priced, prices, channel, chunk_rows)
    write_document(path, header, lines, "</T_NEW_CATALOG>\n</BMECAT>\n")
    return priced.height


def _with_tiers(products: pl.DataFrame, tier_rows: pl.Series) -> pl.DataFrame:
    """The products that have at least one tier (no copy when all of them have)."""
    rows = tier_rows.unique()
    if rows.len() == products.height:
        return products
    return products.filter(pl.col(_ROW).is_in(rows.implode()))


def _tiers_in_product_order(tiers: pl.DataFrame, products: pl.DataFrame) -> pl.DataFrame:
    """``_row, min_quantity, unit_price, price_type`` sorted by product row, then quantity.

    Fails when a product has two tiers for one quantity (precedence must be applied upstream).
    """
    keyed = tiers.join(products.select("sku", _ROW), on="sku", how="inner")
    columns = (_ROW, "min_quantity", "unit_price", "price_type")
    ordered = keyed.select(columns).sort(_ROW, "min_quantity")
    same = (pl.col(_ROW) == pl.col(_ROW).shift()) & (
        pl.col("min_quantity") == pl.col("min_quantity").shift()
    )
    if ordered.select(same.any()).item():
        msg = "bmecat tiers: several tiers for one sku and min_quantity (precedence not applied)"
        raise SinkInputError(msg)
    return ordered


def _product_lines(
    priced: pl.DataFrame, prices: pl.DataFrame, channel: QuotingChannel, chunk_rows: int
) -> Iterator[pl.DataFrame]:
    """Per chunk of products: each product's opening line, its tier lines, its closing line.

    Interleaving sorted lines instead of aggregating tiers into one string per product avoids
    a string group-by, the slowest step by far (~10 s for 3M tiers).
    """
    head, tail = _product_head(channel.locale), _product_tail()
    tier = _tier(channel.currency)
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


def _check_header_values(customer: Customer, catalog_version: str) -> None:
    if not _CATALOG_VERSION.fullmatch(catalog_version):
        msg = f"catalog_version {catalog_version!r} is not 'major.minor' like '1.0'"
        raise SinkInputError(msg)
    if not 0 < len(customer.id) <= _MAX_CATALOG_ID:
        msg = f"customer id {customer.id!r} must be 1-{_MAX_CATALOG_ID} characters (CATALOG_ID)"
        raise SinkInputError(msg)


def _check_products(products: pl.DataFrame, name: str) -> None:
    require_values(products, ("sku", name), "bmecat")
    skus = products.get_column("sku")
    too_long = skus.filter(skus.str.len_chars() > _MAX_SUPPLIER_PID)
    if too_long.len():
        examples = too_long.head(5).to_list()
        msg = f"bmecat: {too_long.len()} sku(s) longer than {_MAX_SUPPLIER_PID}, e.g. {examples}"
        raise SinkInputError(msg)


def _tier(currency: str) -> pl.Expr:
    """One ``PRODUCT_PRICE``: amount for ``LOWER_BOUND`` (= ``min_quantity``) pieces or more."""
    return markup(
        [
            '<PRODUCT_PRICE price_type="',
            pl.col("price_type").replace_strict(PRICE_TYPES),
            '">',
            *required_element("PRICE_AMOUNT", money(pl.col("unit_price")), escape_value=False),
            f"<PRICE_CURRENCY>{currency}</PRICE_CURRENCY>",
            *required_element(
                "LOWER_BOUND", pl.col("min_quantity").cast(pl.String), escape_value=False
            ),
            "</PRODUCT_PRICE>",
        ]
    )


def _check_tiers(tiers: pl.DataFrame, currency: str) -> None:
    """Fail on tiers the catalog cannot express: nulls, unknown types, other currencies."""
    require_values(tiers, ("sku", "min_quantity", "unit_price", "price_type"), "bmecat tiers")
    unknown = set(tiers.get_column("price_type").unique()) - set(PRICE_TYPES)
    if unknown:
        msg = f"bmecat tiers: unknown price_type {sorted(unknown)}, expected {list(PRICE_TYPES)}"
        raise SinkInputError(msg)
    if "currency" in tiers.columns and (tiers.get_column("currency") != currency).any():
        msg = f"bmecat tiers: every tier must be in the channel currency {currency}"
        raise SinkInputError(msg)


def _language(locale: str) -> str:
    language = locale.split("_")[0]
    if len(language) == 3:
        return language
    if language not in LANGUAGES:
        msg = f"no ISO 639-2 code known for locale {locale!r}; add it to LANGUAGES"
        raise SinkInputError(msg)
    return LANGUAGES[language]


def _header(
    channel: QuotingChannel, customer: Customer, version: str, generated_at: dt.datetime
) -> str:
    supplier = channel.supplier
    catalog_name = escape(f"{supplier.name} - {customer.name}"[:100])
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<BMECAT version="2005" xmlns="{BMECAT_NS}">\n<HEADER>\n'
        "<GENERATOR_INFO>Prism</GENERATOR_INFO>\n<CATALOG>"
        f"<LANGUAGE>{_language(channel.locale)}</LANGUAGE>"
        f"<CATALOG_ID>{escape(customer.id)}</CATALOG_ID>"
        f"<CATALOG_VERSION>{version}</CATALOG_VERSION>"
        f"<CATALOG_NAME>{catalog_name}</CATALOG_NAME>"
        f"{_generation_date(generated_at)}<CURRENCY>{channel.currency}</CURRENCY></CATALOG>\n"
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


def _product_head(locale: str) -> pl.Expr:
    """``PRODUCT`` up to and including the opening ``PRODUCT_PRICE_DETAILS`` tag."""
    name, description = localized("name", locale), localized("description", locale)
    return markup(
        [
            '<PRODUCT mode="new">',
            *required_element("SUPPLIER_PID", pl.col("sku")),
            "<PRODUCT_DETAILS>",
            *required_element("DESCRIPTION_SHORT", truncated(pl.col(name), 150)),
            element("DESCRIPTION_LONG", truncated(pl.col(description), 64_000)),
            element("INTERNATIONAL_PID", pl.col("gtin"), ' type="gtin"'),
            element("MANUFACTURER_NAME", truncated(pl.col("brand"), 50)),
            "</PRODUCT_DETAILS>",
            _features(_language(locale)),
            _ORDER_DETAILS,
            "<PRODUCT_PRICE_DETAILS>",
        ]
    )


def _product_tail() -> pl.Expr:
    return markup(["</PRODUCT_PRICE_DETAILS>", _mime_info(), "</PRODUCT>"])


def _features(language: str) -> pl.Expr:
    """``PRODUCT_FEATURES`` with color and size, null when the product has neither."""
    color_name, size_name = FEATURE_NAMES.get(language, _DEFAULT_FEATURE_NAMES)
    features = [
        _feature(color_name, pl.col("color")),
        _feature(size_name, pl.col("size")),
    ]
    any_feature = pl.col("color").is_not_null() | pl.col("size").is_not_null()
    body = markup(["<PRODUCT_FEATURES>", *features, "</PRODUCT_FEATURES>"])
    return pl.when(any_feature).then(body)


def _feature(name: str, value: pl.Expr) -> pl.Expr:
    fvalue = element("FVALUE", truncated(value, 60))
    return pl.concat_str(
        pl.lit(f"<FEATURE><FNAME>{escape(name)}</FNAME>"), fvalue, pl.lit("</FEATURE>")
    )


def _mime_info() -> pl.Expr:
    """The product image, when there is one whose URL fits ``MIME_SOURCE`` (255 characters).

    ``MIME_TYPE`` is given for JPEG and GIF only: the schema's pattern admits no other image type.
    """
    url = pl.col("image_url")
    usable = url.str.len_chars() <= _MAX_MIME_SOURCE
    extension = url.str.extract(r"(?i)\.(jpe?g|gif)(?:[?#]|$)").str.to_lowercase()
    mime_type = extension.replace_strict(
        {"jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif"}
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
