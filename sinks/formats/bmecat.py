"""BMEcat 2005 catalogs (``T_NEW_CATALOG``), one file per customer of a quoting channel.

Element order and length limits follow ``bmecat_2005.xsd`` (BME e.V.); every file also validates
against 2005.1. Each customer gets ``<file_name_for(id)>.xml`` (``.xml.gz`` with ``compress:
gzip``) with the products of its assortment (those its ``filters`` leave in,
``WriteContext.left_out``) that have at least one of its effective tiers (the one precedence
rule of ``golden.pricing.effective_tiers``, handed over as ``WriteContext.price_rule``: the
portal and the price API resolve prices with it too),
in the channel's main currency: one ``PRODUCT_PRICE`` per tier, ascending by ``LOWER_BOUND`` (=
``min_quantity``), ``net_list`` for list tiers and ``net_customer`` for group and customer
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
from contextlib import ExitStack
from dataclasses import dataclass
from typing import BinaryIO, Literal

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field, field_validator

from contracts.customers import Customer, CustomerList, CustomersOption, ErpCustomers
from contracts.formats import Assembly, FieldSpec, FormatSpec, PriceRule, WriteContext
from contracts.golden import PRICE_TIERS_SCHEMA
from contracts.snapshots import FeedFile
from contracts.text import escape, escaped, file_name_for
from sinks.xml_text import (
    CHUNK_ROWS,
    SinkInputError,
    compressed_name,
    document_output,
    element,
    markup,
    money,
    require_values,
    required_element,
    text_buffer,
    truncated,
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
TIER_COLUMNS = ("sku", "min_quantity", "unit_price", "price_type", "valid_from", "valid_to")


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
    compress: Literal["gzip"] | None = None
    """``gzip``: each catalog is ``<name>.xml.gz``, compressed as it is written (what the
    manifest hashes and the feed API serves is the compressed file)"""
    catalog_version: str = Field(default="1.0", pattern=r"^[0-9]{1,3}\.[0-9]{1,3}$")
    """``CATALOG_VERSION``, ``major.minor``; every snapshot is a complete ``T_NEW_CATALOG``
    and ``GENERATION_DATE`` tells them apart"""

    @field_validator("customers")
    @classmethod
    def _one_file_per_customer(cls, customers: CustomerList) -> CustomerList:
        """At least one customer, and each customer's catalog its own file, also on
        case-insensitive file systems (ids that differ only in case are refused already)."""
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
    """One catalog per customer of ``context.options``; rows = products written to it.

    Customers differ only in their prices and assortment, so each chunk of products is
    rendered once with the price sections of all its tier sets (``_Rendered``), and each
    customer's catalog gathers its part (the tier set the price rule chooses per
    product), side by side (``OPEN_CATALOGS`` at a time). Ten catalogs then cost one rendering,
    ten choices of prices and the bytes of ten files, instead of ten renderings.
    """
    options, customers = _options(context)
    if context.price_rule is None:
        msg = "bmecat: no price resolution for the customers was given to the writer"
        raise SinkInputError(msg)
    settings = context.settings
    language, currency = _language(settings.locale), settings.main_currency
    _check_products(frame)
    products = frame.with_row_index(_ROW)
    if max(products.n_chunks("all"), default=1) > 1:
        products = products.rechunk()  # slicing a frame of many small chunks is very slow
    tiers = _keyed_tiers(_channel_tiers(context.tiers, currency, frame), products)
    catalogs = [
        _Catalog(c, compressed_name(f"{file_name_for(c.id)}.xml", options.compress), allowed)
        for c, allowed in zip(
            customers, _assortments(products, context.left_out, customers), strict=True
        )
    ]
    for start in range(0, len(catalogs), OPEN_CATALOGS):
        batch = catalogs[start : start + OPEN_CATALOGS]
        with ExitStack() as files:
            outputs = [
                files.enter_context(document_output(context.folder / c.name, options.compress))
                for c in batch
            ]
            for catalog, out in zip(batch, outputs, strict=True):
                header = _header(options, catalog.customer, language, currency, context.created)
                out.write(header.encode("utf-8"))
            own = _tiers_of(tiers, [c.customer for c in batch])
            _write_products(batch, outputs, products, own, (language, currency), context.price_rule)
            for out in outputs:
                out.write(_FOOTER.encode("utf-8"))
    for catalog in catalogs:
        _log_unpriced(catalog, products.height)
    return [FeedFile(context.channel, f"{context.channel}/{c.name}", c.written) for c in catalogs]


OPEN_CATALOGS = 64
"""Catalogs written side by side (each an open file); more customers take another pass,
which renders the products again."""


@dataclass
class _Catalog:
    """One customer's catalog while it is written."""

    customer: Customer
    name: str
    allowed: pl.Series | None
    """per product row: whether the customer's assortment has it (None: every product)"""
    written: int = 0

    def left_out(self) -> int:
        return 0 if self.allowed is None else self.allowed.len() - int(self.allowed.sum())


def _options(context: WriteContext) -> tuple[Options, tuple[Customer, ...]]:
    """The channel's options and its customers (resolved from the ERP before writing)."""
    options = context.options
    if not isinstance(options, Options):
        msg = "bmecat: the channel needs its supplier and customers (format options)"
        raise SinkInputError(msg)
    if isinstance(options.customers, ErpCustomers):
        msg = "bmecat: the customers from the ERP were not resolved before writing"
        raise SinkInputError(msg)
    return options, options.customers


def _assortments(
    products: pl.DataFrame, left_out: pl.DataFrame | None, customers: tuple[Customer, ...]
) -> list[pl.Series | None]:
    """Per customer, per product row whether its assortment keeps the product (None: all of
    them). Customers whose assortments leave out the same products share one Series, which
    tells the writer that their catalogs may share text."""
    found: list[pl.Series | None] = []
    seen: list[tuple[pl.Series, pl.Series]] = []
    for customer in customers:
        if left_out is None:
            found.append(None)
            continue
        skus = left_out.filter(pl.col("customer_id") == customer.id).get_column("sku").sort()
        if skus.is_empty():
            found.append(None)
            continue
        same = next((allowed for other, allowed in seen if other.equals(skus)), None)
        if same is None:
            same = ~products.get_column("sku").is_in(skus.implode())
            seen.append((skus, same))
        found.append(same)
    return found


def _log_unpriced(catalog: _Catalog, products: int) -> None:
    if skipped := products - catalog.left_out() - catalog.written:
        customer = catalog.customer.id
        log.warning("bmecat %s: %d product(s) without a price tier left out", customer, skipped)


def _tiers_of(tiers: pl.DataFrame, customers: list[Customer]) -> pl.DataFrame:
    """The tiers any of ``customers`` could be given: list tiers, their groups' and their
    own; no other is rendered."""
    groups = [c.group for c in customers if c.group is not None]
    price_type = pl.col("price_type")
    group = (price_type == "group") & pl.col("customer_group").is_in(groups)
    own = (price_type == "customer") & pl.col("customer_id").is_in([c.id for c in customers])
    return tiers.filter((price_type == "list") | group.fill_null(False) | own.fill_null(False))


def _keyed_tiers(tiers: pl.DataFrame, products: pl.DataFrame) -> pl.DataFrame:
    """``tiers`` with their product's ``_row``, sorted by it: a chunk's tiers are a slice."""
    keyed = tiers.join(products.select("sku", _ROW), on="sku", how="inner")
    return keyed.sort(_ROW, maintain_order=True)


def _write_products(
    catalogs: list[_Catalog],
    outputs: list[BinaryIO],
    products: pl.DataFrame,
    tiers: pl.DataFrame,
    locale: tuple[str, str],
    rule: PriceRule,
) -> None:
    """Each chunk of products and its price sections rendered once, then every catalog's
    part of it gathered and written; a product without a price of the customer (or outside
    its assortment) is left out."""
    language, currency = locale
    columns = set(products.columns)
    head, tail = _product_head(columns, language), _product_tail(columns)
    tier = pl.concat_str(_tier(currency), pl.lit("\n"))
    rows = tiers.get_column(_ROW)
    for chunk in products.iter_slices(CHUNK_ROWS):
        first, last = chunk.item(0, _ROW), chunk.item(-1, _ROW)
        start, stop = rows.search_sorted(first, "left"), rows.search_sorted(last, "right")
        own = tiers.slice(start, stop - start)
        rendered = _Rendered.of(chunk, own, head, tail, tier, rule)
        shared: dict[tuple[str | None, int], tuple[int, memoryview]] = {}
        for catalog, out in zip(catalogs, outputs, strict=True):
            products_written, text = _catalog_text(rendered, catalog, shared)
            catalog.written += products_written
            out.write(text)


def _catalog_text(
    rendered: _Rendered,
    catalog: _Catalog,
    shared: dict[tuple[str | None, int], tuple[int, memoryview]],
) -> tuple[int, memoryview]:
    """A catalog's products in the chunk and their text. A customer without prices of its own
    in the chunk gets the text of its group and assortment (``shared``), made once."""
    customer = catalog.customer
    if customer.id in rendered.own_prices:
        chosen = rendered.chosen(customer, catalog.allowed)
        return chosen.height, text_buffer(rendered.text(chosen))
    key = (customer.group, id(catalog.allowed))  # equal assortments share one Series
    if key not in shared:
        chosen = rendered.chosen(customer, catalog.allowed)
        shared[key] = chosen.height, text_buffer(rendered.text(chosen))
    return shared[key]


_LEVEL_KEY = "_level_key"
"""The group of a ``group`` tier, the customer of a ``customer`` tier, "" for ``list``."""
_SET = (_ROW, "price_type", _LEVEL_KEY)
"""A product's tier set at one price level: what one customer's price section is made of."""


@dataclass(frozen=True)
class _Rendered:
    """A chunk of products and the price sections of all their tier sets, rendered once for
    every catalog, as one text column ``pool``: each ``PRODUCT`` up to its prices
    (``prefix``, at the product's position in the chunk), the rest of it (``suffix``, after
    the prefixes), then every tier line, each tier set's lines together (``sets``: ``start``,
    ``count``); every value ends with its line break.
    A catalog's text of the chunk is a gather from ``pool``: no product or price is rendered
    per customer, and no string is built per customer but the one buffer written.
    """

    pool: pl.Series
    sets: pl.DataFrame
    first: int
    products: int
    own_prices: frozenset[str]
    """the customers with ``customer`` tiers in the chunk: only they need a text of their
    own; the others' text is that of any customer of the same group and assortment"""
    rule: PriceRule

    @classmethod
    def of(
        cls,
        chunk: pl.DataFrame,
        tiers: pl.DataFrame,
        head: pl.Expr,
        tail: pl.Expr,
        tier: pl.Expr,
        rule: PriceRule,
    ) -> _Rendered:
        text = chunk.select(
            prefix=pl.concat_str(head, pl.lit("\n")),
            suffix=pl.concat_str(tail, pl.lit("\n")),
        )
        ordered = _tier_sets(tiers)
        lines = ordered.select(tier.alias("xml")).get_column("xml")
        pool = pl.concat([text.get_column("prefix"), text.get_column("suffix"), lines])
        pool = pool.rechunk()  # a gather from one chunk is ~20x faster
        sets = _sets(ordered)
        customers = sets.filter(pl.col("price_type") == "customer").get_column(_LEVEL_KEY)
        own = frozenset(customers.drop_nulls().unique())
        return cls(pool, sets, chunk.item(0, _ROW), chunk.height, own, rule)

    def chosen(self, customer: Customer, allowed: pl.Series | None) -> pl.DataFrame:
        """The tier set ``customer`` gets per product of the chunk (the price rule on one
        row per set: the level decides), by product; none for a product outside ``allowed``.
        Fails when a chosen set has two tiers for one quantity (the ERP resolution upstream
        keeps one per tier)."""
        price_type, key = pl.col("price_type"), pl.col(_LEVEL_KEY)
        own = (price_type == "customer") & (key == customer.id)
        group = pl.lit(False)
        if customer.group is not None:
            group = (price_type == "group") & (key == customer.group)
        sets = self.sets.filter(
            (price_type == "list") | own.fill_null(False) | group.fill_null(False)
        )
        if allowed is not None:
            sets = sets.filter(allowed.gather(sets.get_column(_ROW)))
        levels = self.rule(sets, customer.id, customer.group).select("sku", "price_type")
        chosen = sets.join(levels, on=["sku", "price_type"], how="semi").sort(_ROW)
        if chosen.get_column("repeated").any():
            msg = "bmecat tiers: several tiers for one sku and min_quantity at one price level"
            raise SinkInputError(msg)
        return chosen

    def text(self, chosen: pl.DataFrame) -> pl.Series:
        """The chunk's lines of one catalog: per chosen set its product's prefix, the set's
        tier lines and the product's suffix, gathered from ``pool`` in that order."""
        product = (chosen.get_column(_ROW) - self.first).to_numpy().astype(np.int64)
        start = chosen.get_column("start").to_numpy().astype(np.int64)
        length = chosen.get_column("count").to_numpy().astype(np.int64) + 2
        block = np.repeat(np.arange(len(length)), length)
        within = np.arange(int(length.sum())) - np.repeat(np.cumsum(length) - length, length)
        line = 2 * self.products + start[block] + within - 1
        index = np.where(within == 0, product[block], line)
        index = np.where(within == length[block] - 1, self.products + product[block], index)
        return self.pool.gather(index)


def _sets(ordered: pl.DataFrame) -> pl.DataFrame:
    """One row per tier set of ``ordered`` (``_tier_sets``): its key and first tier (what
    the price rule needs), where its lines ``start`` and how many (``count``), and whether
    it has two tiers for one quantity (``repeated``). Sets are runs of ``ordered``, found by
    their boundaries (a group-by on the set key costs ~3x more)."""
    opens_set = pl.any_horizontal(pl.col(c).ne_missing(pl.col(c).shift(1)) for c in _SET)
    marked = ordered.with_row_index("start").with_columns(
        _new=opens_set | (pl.int_range(pl.len()) == 0)
    )
    marked = marked.with_columns(_set=pl.col("_new").cum_sum())
    repeated = marked.filter(pl.struct("_set", "min_quantity").is_duplicated()).get_column("_set")
    columns = (
        *_SET,
        "sku",
        "currency",
        "customer_id",
        "customer_group",
        *TIER_COLUMNS[1:],
        "start",
    )
    sets = marked.filter(pl.col("_new")).select(list(dict.fromkeys(columns)))
    ends = pl.concat(
        [sets.get_column("start").slice(1), pl.Series([ordered.height], dtype=pl.UInt32)]
    )
    return sets.with_columns(
        count=ends - sets.get_column("start"),
        repeated=pl.int_range(1, sets.height + 1, dtype=pl.UInt32).is_in(repeated.implode()),
    )


def _tier_sets(tiers: pl.DataFrame) -> pl.DataFrame:
    """``tiers`` (of one chunk, with ``_row``) keyed by tier set (``_SET``) and ordered as a
    section prints them: by set, then validity group (the group with the lowest quantity
    first: bounds are unique per set, so this orders the groups), then quantity.

    ``opens``/``closes``: the tier is the first/last of its set's (valid_from, valid_to) group,
    where a ``PRODUCT_PRICE_DETAILS`` starts/ends.
    """
    price_type = pl.col("price_type")
    level_key = (
        pl.when(price_type == "customer")
        .then(pl.col("customer_id"))
        .when(price_type == "group")
        .then(pl.col("customer_group"))
        .otherwise(pl.lit(""))
    )
    keyed = tiers.with_columns(level_key.alias(_LEVEL_KEY))
    first_bound = pl.col("min_quantity").min().over(*_SET, "valid_from", "valid_to")
    ordered = keyed.sort(*_SET, first_bound, "min_quantity", nulls_last=True)
    key = (*_SET, "valid_from", "valid_to")
    opens = pl.any_horizontal(pl.col(c).ne_missing(pl.col(c).shift(1)) for c in key)
    closes = pl.any_horizontal(pl.col(c).ne_missing(pl.col(c).shift(-1)) for c in key)
    first, last = pl.int_range(pl.len()) == 0, pl.int_range(pl.len()) == pl.len() - 1
    return ordered.with_columns(opens=opens | first, closes=closes | last)


def _channel_tiers(tiers: pl.DataFrame | None, currency: str, frame: pl.DataFrame) -> pl.DataFrame:
    """The tiers of the frame's products in ``currency``; fails on tiers no catalog can hold."""
    if tiers is None:
        return pl.DataFrame(schema=PRICE_TIERS_SCHEMA)
    tiers = tiers.filter(pl.col("currency") == currency)
    tiers = tiers.join(frame.select("sku"), on="sku", how="semi")
    require_values(tiers, ("sku", "min_quantity", "unit_price", "price_type"), "bmecat tiers")
    unknown = set(tiers.get_column("price_type").unique()) - set(PRICE_TYPES)
    if unknown:
        msg = f"bmecat tiers: unknown price_type {sorted(unknown)}, expected {list(PRICE_TYPES)}"
        raise SinkInputError(msg)
    return tiers


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
        "one file per customer: <customer id>.xml (file-name safe), CATALOG_ID = customer id;"
        " compress: gzip writes <customer id>.xml.gz",
        "a customer's filters (or its ERP group's group_filters) limit its catalog's products",
        "tiers per customer: its own, else its group's, else list (per sku, never mixed)",
        "classification_group usually comes from a value map (category -> ECLASS group)",
    ),
    assembly=Assembly(
        first_item=b'<PRODUCT mode="new">',
        footer=_FOOTER.encode(),
        applies=lambda options: options is None or options.compress is None,
    ),
)
