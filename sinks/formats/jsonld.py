"""Website feed: JSON Lines, one schema.org JSON-LD object per line (``products.jsonl``).

The shop embeds each line in a ``<script type="application/ld+json">`` on the product page, so
the objects follow schema.org ``Product``/``Offer`` and Google's merchant-listing rules: the
offer carries the price as a string with exactly two decimals (rounded half away from zero),
``priceCurrency`` (the channel's), ``priceValidUntil``, the schema.org availability URL
(``availabilityStarts`` for backorders) and the offer URL; Google requires ``image``, so the
field is required here.

Variants follow Google's product-variant structured data: the products of one ``item_group``
become ONE ``ProductGroup`` line (at the place of the group's first product) with
``productGroupID``, the group's name, description, brand and category (the first variant's
that has one), ``variesBy`` (the schema.org properties of the variant axes) and ``hasVariant``
(each variant's full ``Product`` with its offer). Products without an item group are one
``Product`` line each. A member whose value is null is left out.

Serialization is vectorized: polars encodes a struct column to JSON per row; the ``null``
members it writes are then cut out with one regex over the known optional keys (safe: inside
a JSON string every ``"`` is escaped, so ``,"key":null`` only matches a real member); each
product's text is made script-safe once; a group's variants are aggregated as a list and
joined (no string group-by, no Python per product or group).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, field_validator

from contracts.formats import Assembly, FieldSpec, FormatSpec, WriteContext
from contracts.mapping import Test
from contracts.snapshots import FeedFile
from sinks.xml_text import SinkInputError, money, require_values

SCHEMA_ORG = "https://schema.org"
FILE = "products.jsonl"
AVAILABILITY = {
    "in_stock": f"{SCHEMA_ORG}/InStock",
    "backorder": f"{SCHEMA_ORG}/BackOrder",
    "out_of_stock": f"{SCHEMA_ORG}/OutOfStock",
}
DEFAULT_VARIES_BY = {
    "color": f"{SCHEMA_ORG}/color",
    "size": f"{SCHEMA_ORG}/size",
    "material": f"{SCHEMA_ORG}/material",
    "pattern": f"{SCHEMA_ORG}/pattern",
    "gender": f"{SCHEMA_ORG}/suggestedGender",
    "age_group": f"{SCHEMA_ORG}/suggestedAge",
}
"""Variant axis attribute codes that name their schema.org property (``Options.varies_by``
adds or overrides codes); an axis neither names is written as its code."""
KILOGRAM = "KGM"
"""UN/CEFACT common code of the kilogram (``QuantitativeValue.unitCode``)."""
OPTIONAL_KEYS = (
    "sku",
    "description",
    "image",
    "gtin",
    "mpn",
    "brand",
    "color",
    "size",
    "material",
    "pattern",
    "category",
    "weight",
    "url",
    "variesBy",
    "priceValidUntil",
    "availabilityStarts",
)
_NULL_MEMBER = r',"(?:' + "|".join(OPTIONAL_KEYS) + r')":null'
_ONE_IMAGE = r'"image":\[("(?:[^"\\]|\\.)*")\]'
_SCRIPT_ESCAPES = {c: f"\\u{ord(c):04x}" for c in "<>&\u2028\u2029"}
_PROPERTY = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_ROW = "_row"
KEY = "sku"
"""The frame's first column, the product's key; written as ``Product.sku`` when mapped."""
_GROUP_MEMBERS = ("name", "description", "brand", "category", "group_url")
_CONTEXT = f'{{"@context":"{SCHEMA_ORG}",'


class Options(BaseModel):
    """How variant axes are named in ``variesBy``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    varies_by: dict[str, str] = Field(default_factory=dict)
    """variant axis attribute code -> schema.org property (``color`` or its URL
    ``https://schema.org/color``), over ``DEFAULT_VARIES_BY``"""

    @field_validator("varies_by")
    @classmethod
    def _properties(cls, value: dict[str, str]) -> dict[str, str]:
        """A bare property name becomes its schema.org URL, as Google's examples write it."""
        out = {}
        for code, prop in value.items():
            if _PROPERTY.fullmatch(prop):
                out[code] = f"{SCHEMA_ORG}/{prop}"
            elif re.fullmatch(r"https?://\S+", prop):
                out[code] = prop
            else:
                msg = f"varies_by.{code}: {prop!r} is neither a property name nor a URL"
                raise ValueError(msg)
        return out


_BACKORDER = Test.model_validate({"field": "availability", "equals": "backorder"})
FIELDS = (
    FieldSpec("name", requirement="required", description="Product.name"),
    FieldSpec("description", requirement="recommended"),
    FieldSpec("image", "url", "required", description="Google requires an image"),
    FieldSpec("additional_images", "list", description="more image URLs, after image in its array"),
    FieldSpec("sku", description="Product.sku: the product's key (field sku only)"),
    FieldSpec("gtin", "gtin", description="GTIN-8/12/13/14, GS1 check digit"),
    FieldSpec("mpn"),
    FieldSpec("brand", description="Product.brand as a Brand's name"),
    FieldSpec("color"),
    FieldSpec("size"),
    FieldSpec("material"),
    FieldSpec("pattern"),
    FieldSpec("category"),
    FieldSpec("weight", "decimal", description="in kilograms (unitCode KGM)"),
    FieldSpec("url", "url", "required", description="the offer's URL: the product page"),
    FieldSpec("price", "money", "required", source="erp"),
    FieldSpec("price_valid_until", "date", source="erp", description="Offer.priceValidUntil"),
    FieldSpec("availability", "enum", "required", allowed=tuple(AVAILABILITY), source="erp"),
    FieldSpec(
        "availability_date",
        "date",
        required_when=_BACKORDER,
        source="erp",
        description="Offer.availabilityStarts (backorders)",
    ),
    FieldSpec("item_group", description="the variant group: its products form a ProductGroup"),
    FieldSpec("group_url", "url", description="ProductGroup.url (the group's first value)"),
)
PRESETS = {
    "website": {
        "name": {"field": "label"},
        "description": {"role": "description"},
        "image": {"field": "image_url"},
        "additional_images": {"field": "additional_images"},
        "sku": {"field": "sku"},
        "gtin": {"role": "gtin"},
        "brand": {"role": "brand"},
        "color": {"role": "color"},
        "size": {"role": "size"},
        "category": {"field": "category_path"},
        "weight": {"role": "weight", "unit": "KILOGRAM"},
        "url": {"field": "url"},
        "price": {"field": "price"},
        "price_valid_until": {"field": "price_valid_until"},
        "availability": {"field": "availability"},
        "availability_date": {"field": "availability_date"},
        "item_group": {"field": "item_group"},
    },
}
_REQUIRED = tuple(f.name for f in FIELDS if f.required)


def write(frame: pl.DataFrame, context: WriteContext) -> list[FeedFile]:
    """Write one line per simple product and per item group; rows = products (variants too)."""
    options = context.options if isinstance(context.options, Options) else Options()
    require_values(frame, [c for c in (KEY, *_REQUIRED) if c in frame.columns], "jsonld")
    _require_known_availability(frame)
    axes = _variant_axes(frame, context)
    written = frame if _maps_sku(context.settings) else frame.drop(KEY)
    lines = _lines(written, axes, context.settings.main_currency, options)
    path: Path = context.folder / FILE
    lines.write_csv(path, include_header=False, quote_style="never")
    return [FeedFile(context.channel, f"{context.channel}/{FILE}", frame.height)]


def _maps_sku(settings: Any) -> bool:
    """Whether the channel maps the target ``sku`` (the frame always has the key column): its
    own ``fields:`` decide, else its preset."""
    fields = getattr(settings, "fields", None) or {}
    if KEY in fields:
        return fields[KEY] is not None
    preset = getattr(settings, "preset", None) or next(iter(PRESETS))
    return KEY in PRESETS.get(preset, {})


def script_safe(json_text: pl.Expr) -> pl.Expr:
    """JSON that can sit inside ``<script type="application/ld+json">``: ``<``, ``>`` and ``&``
    (and U+2028/U+2029, line breaks to JavaScript) as ``\\uXXXX`` escapes, so a product name
    holding ``</script><script>...`` cannot end the element. Outside strings JSON never holds
    these characters, so the replacement keeps the document's meaning."""
    return json_text.str.replace_many(list(_SCRIPT_ESCAPES), list(_SCRIPT_ESCAPES.values()))


def _require_known_availability(frame: pl.DataFrame) -> None:
    if "availability" not in frame.columns:
        return
    unknown = frame.filter(~pl.col("availability").is_in(list(AVAILABILITY)))
    if unknown.height:
        values = unknown.get_column("availability").unique().head(5).to_list()
        msg = f"jsonld: {unknown.height} row(s) with unknown availability, e.g. {values}"
        raise SinkInputError(msg)


def _variant_axes(frame: pl.DataFrame, context: WriteContext) -> pl.Series | None:
    """The golden ``variant_axes`` of the frame's rows (same order), None when unknown."""
    golden = context.golden_columns("variant_axes") if "item_group" in frame else None
    if golden is None:
        return None
    if golden.height != frame.height:
        msg = f"jsonld: {golden.height} golden rows for {frame.height} products"
        raise SinkInputError(msg)
    return golden.get_column("variant_axes")


def _lines(
    frame: pl.DataFrame, axes: pl.Series | None, currency: str, options: Options
) -> pl.DataFrame:
    """One ``line`` per simple product and per item group, in order of first appearance.

    Every product is encoded once (with ``@context``, script-safe) by the streaming engine, on
    all cores; a variant's ``Product`` inside ``hasVariant`` is that text without its
    ``{"@context":...,`` prefix (a slice, no copy).
    """
    columns = set(frame.columns)
    shared = [c for c in _GROUP_MEMBERS if c in columns] if "item_group" in columns else []
    kept = [c for c in ("item_group", *shared) if c in columns]
    arrays = "additional_images" in columns
    line = script_safe(_encoded(_product(columns, currency), image_arrays=arrays))
    rows = frame.lazy().with_row_index(_ROW).select(_ROW, *kept, line.alias("line"))
    if axes is not None:
        rows = rows.with_columns(pl.lit(axes).alias("_axes"))
    encoded = rows.collect(engine="streaming")
    if "item_group" not in columns:
        return encoded.select("line")
    simple = encoded.filter(pl.col("item_group").is_null()).select(_ROW, "line")
    variants = encoded.filter(pl.col("item_group").is_not_null())
    groups = _groups(variants, shared, axes is not None, options)
    return simple.merge_sorted(groups, _ROW).select("line")


def _groups(
    variants: pl.DataFrame, shared: list[str], with_axes: bool, options: Options
) -> pl.DataFrame:
    """``_row, line``: one ``ProductGroup`` per item group at its first product's row.

    The group's members come from its first product that has them; its variants' encoded
    ``Product`` objects are aggregated as a list per group and joined once, then spliced in
    as ``hasVariant``, so no Python code runs per product or per group.
    """
    bodies = pl.col("line").str.slice(len(_CONTEXT))  # '"@type":"Product",...}'
    aggregations = [
        pl.col(_ROW).first(),
        *(pl.col(c).drop_nulls().first() for c in shared),
        bodies.alias("_variants"),
    ]
    if with_axes:
        aggregations.append(pl.col("_axes").explode().drop_nulls().alias("_axes"))
    grouped = variants.group_by("item_group", maintain_order=True).agg(aggregations)
    members: list[pl.Expr] = [
        pl.lit(SCHEMA_ORG).alias("@context"),
        pl.lit("ProductGroup").alias("@type"),
        pl.col("item_group").alias("productGroupID"),
    ]
    members += [pl.col(c) for c in ("name", "description") if c in shared]
    if "group_url" in shared:
        members.append(pl.col("group_url").alias("url"))
    if "brand" in shared:
        members.append(_typed("brand", "Brand", name=pl.col("brand")))
    if "category" in shared:
        members.append(pl.col("category"))
    if with_axes:
        members.append(_varies_by(options))
    head = script_safe(_encoded(pl.struct(members))).str.head(-1)
    joined = pl.col("_variants").list.join(",{")
    line = pl.concat_str(head, pl.lit(',"hasVariant":[{'), joined, pl.lit("]}"))
    return grouped.select(_ROW, line.alias("line"))


def _varies_by(options: Options) -> pl.Expr:
    """The groups' axes (first appearance first) as schema.org property URLs, else codes."""
    names = DEFAULT_VARIES_BY | options.varies_by
    mapped = pl.col("_axes").list.eval(pl.element().replace(names)).list.unique(maintain_order=True)
    return pl.when(mapped.list.len() > 0).then(mapped).alias("variesBy")


def _encoded(document: pl.Expr, *, image_arrays: bool = False) -> pl.Expr:
    """``document`` as JSON text without null members; with ``image_arrays``, an ``image``
    array of one URL becomes that URL (a product without additional images)."""
    text = document.struct.json_encode().str.replace_all(_NULL_MEMBER, "")
    return text.str.replace_all(_ONE_IMAGE, r'"image":${1}') if image_arrays else text


def _product(columns: set[str], currency: str) -> pl.Expr:
    """The JSON-LD ``Product`` over the mapped columns; key order is output order,
    ``@context`` and ``@type`` first (so every optional member follows a comma)."""
    members: list[pl.Expr] = [
        pl.lit(SCHEMA_ORG).alias("@context"),
        pl.lit("Product").alias("@type"),
    ]
    if KEY in columns:
        members.append(pl.col(KEY))
    members += [pl.col(c) for c in ("name", "description") if c in columns]
    if "image" in columns:
        members.append(_image(columns))
    members += [pl.col(c) for c in ("gtin", "mpn") if c in columns]
    if "brand" in columns:
        members.append(_typed("brand", "Brand", name=pl.col("brand")))
    members += [
        pl.col(c) for c in ("color", "size", "material", "pattern", "category") if c in columns
    ]
    if "weight" in columns:
        value = pl.col("weight").cast(pl.Float64)
        members.append(
            _typed("weight", "QuantitativeValue", value=value, unitCode=pl.lit(KILOGRAM))
        )
    members.append(_offer(columns, currency))
    return pl.struct(members)


def _image(columns: set[str]) -> pl.Expr:
    """The image URL, or an array of it and the additional images (collapsed again to a
    string by ``_encoded`` where there are none)."""
    if "additional_images" not in columns:
        return pl.col("image")
    extra = pl.col("additional_images").list.drop_nulls()
    extra = extra.fill_null(pl.lit([], pl.List(pl.String)))
    return pl.concat_list(pl.col("image"), extra).alias("image")


def _typed(key: str, type_name: str, **members: pl.Expr) -> pl.Expr:
    """``key: {"@type": type_name, **members}``, null (left out) when the first member is null."""
    first = next(iter(members.values()))
    typed = pl.struct(pl.lit(type_name).alias("@type"), *(e.alias(k) for k, e in members.items()))
    return pl.when(first.is_not_null()).then(typed).alias(key)


def _offer(columns: set[str], currency: str) -> pl.Expr:
    members: list[pl.Expr] = [pl.lit("Offer").alias("@type")]
    if "price" in columns:
        members.append(money(pl.col("price")).alias("price"))
    members.append(pl.lit(currency).alias("priceCurrency"))
    if "price_valid_until" in columns:
        valid = pl.col("price_valid_until").dt.to_string("%Y-%m-%d")
        members.append(valid.alias("priceValidUntil"))
    if "availability" in columns:
        availability = pl.col("availability").replace_strict(AVAILABILITY, return_dtype=pl.String)
        members.append(availability.alias("availability"))
        if "availability_date" in columns:
            starts = pl.col("availability_date").dt.to_string("%Y-%m-%d")
            backorder = pl.col("availability") == "backorder"
            members.append(pl.when(backorder).then(starts).alias("availabilityStarts"))
    if "url" in columns:
        members.append(pl.col("url"))
    return pl.struct(members).alias("offers")


SPEC = FormatSpec(
    name="jsonld",
    description="Website feed: JSON Lines of schema.org Product / ProductGroup JSON-LD",
    fields=FIELDS,
    writer=write,
    presets=PRESETS,
    public=True,
    options=Options,
    notes=(
        "variants (item_group set) are one ProductGroup line per group with hasVariant",
        "variesBy from the golden variant axes; varies_by maps other axis codes",
    ),
    assembly=Assembly(),
)
