"""Mapping sources and conditions compiled into polars expressions over the golden record.

Everything here runs once per channel and run, building expressions; evaluating them is
polars' vectorized work. A source that cannot be built (an unknown attribute, golden field or
role, a unit that does not convert) raises ``MappingError`` with the key path of the mapping.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import polars as pl

from contracts.config import AttributeRoles
from contracts.golden import (
    ATTR,
    GOLDEN_FIELDS,
    MONEY,
    list_price,
    list_price_valid_to,
)
from contracts.mapping import (
    All,
    AnyOf,
    AttributeSource,
    Condition,
    ConstantSource,
    FirstSource,
    GoldenSource,
    LookupFile,
    Not,
    RoleSource,
    Source,
    TemplateSource,
    Test,
    ValueMap,
)
from contracts.suggestions import hint
from golden.categories import code_column, path_column
from golden.media import media_url
from mapping import model as pim
from mapping.model import PimModel
from mapping.units import UNITS, factor

_URL_SAFE = r"^[A-Za-z0-9._~-]*$"
_MAX_MEASURE = 10**15
URL_COLUMN = "_url"
COMPLETENESS_COLUMN = "_completeness"
LIST_FIELDS = frozenset({"categories", "images", "additional_images", "variant_axes"})


class MappingError(ValueError):
    """A channel mapping cannot be built; the message starts with the key path."""


@dataclass(frozen=True)
class Context:
    """The channel a mapping is compiled for."""

    channel: str
    locale: str
    scope: str
    tree: str
    currency: str
    fallback_locales: tuple[str, ...]
    """label fallbacks after ``locale``: the other configured locales, in order"""
    roles: AttributeRoles
    model: PimModel
    columns: frozenset[str]
    product_url: str | None
    media_base_url: str
    requested: set[str] = field(default_factory=set)
    """every attribute code the channel's mapping reads (what the PIM read must keep)"""

    def path(self, target: str) -> str:
        return f"channels.{self.channel}.fields.{target}"


@dataclass
class Built:
    """A compiled source: its expression and what the checks need to know about it."""

    expr: pl.Expr
    attribute: str | None = None
    """the PIM attribute behind the value (to name in findings), if one"""
    system: str = "pim"
    """where the value comes from: ``pim`` (content), ``structure`` (the PIM's catalog
    structure), ``erp`` or ``config`` (constants, the product URL): findings name the PIM row,
    the ERP snapshot or the configuration to fix; completeness counts ``pim`` fields"""
    label_fallbacks: list[tuple[str, pl.Expr, pl.Expr]] = field(default_factory=list)
    """(attribute, option codes, True where a label came from another locale or the code)"""


def compile_source(source: Source, ctx: Context, path: str, limit: int | None) -> Built:
    """The expression of one source, with its modifiers (map, when, transforms) applied."""
    from mapping.transforms import TransformError, apply

    built = _base(source, ctx, path)
    expr = built.expr
    if source.map is not None:
        expr = _mapped(expr, source.map, source.strict, ctx, f"{path}.map")
    if source.when is not None:
        expr = pl.when(condition(source.when, ctx, f"{path}.when")).then(expr)
    try:
        expr = apply(expr, source.transform, limit)
    except TransformError as error:
        raise MappingError(f"{path}.transform: {error}") from None
    built.expr = expr
    return built


def _base(source: Source, ctx: Context, path: str) -> Built:
    if isinstance(source, AttributeSource):
        return attribute_value(
            source.attribute,
            ctx,
            path,
            locale=source.locale,
            scope=source.scope,
            label=source.label,
            unit=source.unit,
            currency=source.currency,
            separator=source.separator,
        )
    if isinstance(source, RoleSource):
        attribute = ctx.roles.attribute(source.role)
        if source.role not in ctx.roles.names():
            known = ", ".join(ctx.roles.names())
            close = hint(source.role, ctx.roles.names())
            raise MappingError(f"{path}: unknown role {source.role!r} (roles: {known}){close}")
        if attribute is None:
            return Built(pl.lit(None, pl.String))
        return attribute_value(
            attribute, ctx, path, label=source.label, unit=source.unit, separator=source.separator
        )
    if isinstance(source, GoldenSource):
        expr = golden_field(source.field, ctx, path, source.currency)
        return Built(expr, system=field_system(source.field))
    if isinstance(source, ConstantSource):
        return Built(pl.lit(source.constant), system="config")
    if isinstance(source, TemplateSource):
        return _template(source, ctx, path)
    if isinstance(source, FirstSource):
        parts = [
            compile_source(s, ctx, f"{path}.first[{i}]", None) for i, s in enumerate(source.first)
        ]
        expr = pl.coalesce(*(_empty_as_null(p.expr) for p in parts))
        attribute = next((p.attribute for p in parts if p.attribute), None)
        fallbacks = [f for p in parts for f in p.label_fallbacks]
        return Built(expr, attribute, parts[0].system, fallbacks)
    msg = f"{path}: unknown source {source!r}"
    raise MappingError(msg)


def _empty_as_null(expr: pl.Expr) -> pl.Expr:
    """For fallbacks: an empty text counts as missing (a PIM may hold "")."""
    return pl.when(expr.cast(pl.String).str.len_chars() > 0).then(expr)


# --- attributes --------------------------------------------------------------------------------


def value_columns(attribute: str, locale: str, scope: str, suffix: str = "") -> list[str]:
    """The golden columns a value may be in, most specific first."""
    names = [
        "-".join(p for p in (attribute, loc, sc) if p)
        for loc in (locale, None)
        for sc in (scope, None)
    ]
    return [f"{ATTR}{n}{suffix}" for n in dict.fromkeys(names)]


def _present(columns: list[str], ctx: Context) -> pl.Expr:
    found = [pl.col(c) for c in columns if c in ctx.columns]
    return pl.coalesce(*found) if found else pl.lit(None, pl.String)


def attribute_value(
    code: str,
    ctx: Context,
    path: str,
    *,
    locale: str | None = None,
    scope: str | None = None,
    label: bool = True,
    unit: str | None = None,
    currency: str | None = None,
    separator: str = ", ",
) -> Built:
    """An attribute's value in the channel's locale and scope, typed by the attribute."""
    known = ctx.model.attribute(code)
    if known is None and ctx.model.known:
        close = hint(code, ctx.model.attributes)
        raise MappingError(f"{path}: the PIM has no attribute {code!r}{close}")
    spelled = known.code if known else code
    ctx.requested.add(spelled)
    kind = known.type if known else ""
    locale, scope = locale or ctx.locale, scope or ctx.scope
    if kind == pim.PRICES:
        wanted = currency or ctx.currency
        expr = _present(value_columns(spelled, locale, scope, f"-{wanted}"), ctx)
        return Built(expr.cast(MONEY, strict=False), spelled)
    raw = _present(value_columns(spelled, locale, scope), ctx)
    if kind == "" and unit is not None:
        kind = pim.METRIC  # an export without attributes: a unit asked for means a metric
    if kind == pim.METRIC:
        return Built(_metric(raw, spelled, locale, scope, unit, ctx, path), spelled)
    if unit is not None:
        raise MappingError(f"{path}.unit: {spelled!r} is not a metric attribute")
    if kind == pim.BOOLEAN:
        return Built(raw.replace_strict({"1": True, "0": False}, default=None), spelled)
    if kind == pim.DATE:
        return Built(raw.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False), spelled)
    if kind == pim.NUMBER:
        return Built(raw.cast(MONEY, strict=False), spelled)
    if kind in pim.MEDIA:
        return Built(media_url(raw, ctx.media_base_url), spelled)
    if kind in (pim.SELECT, pim.MULTISELECT) and label:
        return _labels(raw, spelled, kind == pim.MULTISELECT, locale, separator, ctx)
    return Built(raw, spelled)


def _metric(
    raw: pl.Expr, code: str, locale: str, scope: str, unit: str | None, ctx: Context, path: str
) -> pl.Expr:
    """The amount as a decimal, converted to ``unit`` when one is asked for."""
    amount = raw.str.strip_chars().cast(MONEY, strict=False)
    if unit is None:
        return amount
    source_unit = _present(value_columns(code, locale, scope, "-unit"), ctx)
    if factor(unit, unit) is None:
        raise MappingError(f"{path}.unit: unknown unit {unit!r} (units: {', '.join(UNITS)})")
    # Decimal products must fit 38 digits: an amount no measure reaches is no value (null)
    # rather than an overflow that would stop the run.
    plausible = pl.when(amount.abs() < _MAX_MEASURE).then(amount)
    converted = pl.lit(None, MONEY)
    for other in UNITS:
        multiplier = factor(other, unit)
        if multiplier is None:
            continue
        scaled = amount if multiplier == 1 else plausible * pl.lit(multiplier, pl.Decimal(38, 12))
        same = source_unit.str.to_uppercase() == other
        converted = pl.when(same).then(scaled.cast(MONEY)).otherwise(converted)
    return converted


def _labels(
    codes: pl.Expr, attribute: str, multi: bool, locale: str, separator: str, ctx: Context
) -> Built:
    """Option codes -> labels in ``locale``, else in the other locales in order, else the code;
    the fallback is flagged so the channel reports it."""
    order = [locale, *(loc for loc in ctx.fallback_locales if loc != locale)]
    maps = [ctx.model.option_labels(attribute, loc) for loc in order]

    def label_of(code: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        key = code.str.to_lowercase()
        found = [key.replace_strict(m, default=None, return_dtype=pl.String) for m in maps if m]
        own = found[0] if maps[0] else pl.lit(None, pl.String)
        value = pl.coalesce(*found, code) if found else code
        return value, own.is_null() & code.is_not_null()

    if not multi:
        value, fell_back = label_of(codes)
        return Built(value, attribute, label_fallbacks=[(attribute, codes, fell_back)])
    items = codes.str.split(",")
    labelled = items.list.eval(label_of(pl.element().str.strip_chars())[0]).list.join(separator)
    fell_back = items.list.eval(label_of(pl.element().str.strip_chars())[1]).list.any()
    return Built(labelled, attribute, label_fallbacks=[(attribute, codes, fell_back)])


# --- golden fields -----------------------------------------------------------------------------

ERP_FIELDS = frozenset(
    {
        "price",
        "price_valid_until",
        "availability",
        "availability_date",
        "available_qty",
        "lead_time_days",
    }
)
CONFIG_FIELDS = frozenset({"currency", "url", "completeness"})
STRUCTURE_FIELDS = frozenset(
    {"sku", "uuid", "family", "family_variant", "parent", "item_group", "categories"}
    | {"variant_axes"}
)
"""PIM fields that are the catalog's structure, not content a merchandiser fills (a simple
product has no parent: no gap in completeness)."""


def field_system(name: str) -> str:
    """Where a golden field's value comes from: ``erp``, ``config``, ``structure`` (the PIM's
    catalog structure) or ``pim`` (the PIM's content: labels, images, category paths)."""
    if name in ERP_FIELDS:
        return "erp"
    if name in CONFIG_FIELDS:
        return "config"
    return "structure" if name in STRUCTURE_FIELDS else "pim"


def golden_field(name: str, ctx: Context, path: str, currency: str | None = None) -> pl.Expr:
    """A golden-record field as the channel sees it (its locale, tree, currency)."""
    if name not in GOLDEN_FIELDS:
        known = ", ".join(sorted(GOLDEN_FIELDS))
        close = hint(name, GOLDEN_FIELDS)
        raise MappingError(f"{path}: unknown golden-record field {name!r} (fields: {known}){close}")
    money = currency or ctx.currency
    if name == "price":
        return _column(list_price(money), ctx, MONEY)
    if name == "price_valid_until":
        return _column(list_price_valid_to(money), ctx, pl.Date())
    if name == "currency":
        return pl.lit(money)
    if name == "category_path":
        return _column(path_column(ctx.tree, ctx.locale), ctx, pl.String())
    if name == "category_code":
        return _column(code_column(ctx.tree), ctx, pl.String())
    if name == "label":
        return product_label(ctx, path)
    if name == "variant_values":
        return variant_values(ctx, path)
    if name == "additional_images":
        return pl.col("images").list.slice(1)
    if name == "url":
        if ctx.product_url is None:
            raise MappingError(f"{path}: the field url needs the channel's product_url")
        return pl.col(URL_COLUMN)
    if name == "completeness":
        return pl.col(COMPLETENESS_COLUMN)
    return _column(name, ctx, None)


def _column(name: str, ctx: Context, dtype: Any) -> pl.Expr:
    if name in ctx.columns:
        return pl.col(name)
    return pl.lit(None, dtype or pl.String)


def product_label(ctx: Context, path: str) -> pl.Expr:
    """The name role in the channel's locale, else the family's label attribute's value."""
    named = (
        attribute_value(ctx.roles.name, ctx, path, label=True).expr
        if ctx.roles.name
        else pl.lit(None, pl.String)
    )
    family = pl.lit(None, pl.String)
    for code in ctx.model.label_attributes:
        value = attribute_value(code, ctx, path).expr
        chosen = pl.col("label_attribute").str.to_lowercase() == code.lower()
        family = pl.when(chosen).then(value).otherwise(family)
    return pl.coalesce(_empty_as_null(named), family)


def variant_values(ctx: Context, path: str) -> pl.Expr:
    """The labels of the variant's axes in the channel's locale, ", " joined (e.g. "Blau, M"),
    in the order of the variant's own axes (level 1 first, each level as its family variant
    lists them), so every source of the same catalog writes the same title; an axis the PIM
    does not name, or one without a value, is left out.

    A variant has at most as many axes as the catalog: the label at each of those places is
    picked by the axis named there, and the present ones are joined, in flat string
    operations (a list of labels per row, gathered and joined, cost several times as much). A
    row naming more axes than that (a repeated axis) takes the list way, only for itself."""
    position = {a.lower(): i for i, a in enumerate(ctx.model.axes)}
    if not position:
        return pl.lit(None, pl.String)
    labels = [attribute_value(a, ctx, path).expr.cast(pl.String) for a in ctx.model.axes]
    named = pl.col("variant_axes")
    places = []
    for place in range(len(position)):
        axis = named.list.get(place, null_on_oob=True).str.to_lowercase()
        places.append(pl.coalesce(pl.when(axis == a).then(labels[i]) for a, i in position.items()))
    joined = pl.concat_str(places, separator=", ", ignore_nulls=True)
    more = named.list.len() > len(position)
    shown = pl.when(more).then(_listed_axes(pl.when(more).then(named), position, labels))
    return shown.otherwise(joined).replace("", None)


def _listed_axes(named: pl.Expr, position: dict[str, int], labels: list[pl.Expr]) -> pl.Expr:
    """``variant_values`` by lists: the labels gathered in the order of the axes ``named``."""
    order = named.list.eval(
        pl.element()
        .str.to_lowercase()
        .replace_strict(position, default=None, return_dtype=pl.Int64)
    )
    shown = pl.concat_list(labels).list.gather(order.list.drop_nulls()).list.drop_nulls()
    return shown.list.join(", ")


def product_urls(frame: pl.DataFrame, template: str, channel: str) -> pl.Series:
    """``template`` with every ``{sku}`` replaced by the percent-encoded sku (RFC 3986); skus
    are nearly always URL-safe, so only the few that are not go through ``urllib``."""
    if "{sku}" not in template:
        raise MappingError(f"channels.{channel}.product_url: {template!r} has no '{{sku}}'")
    skus = frame.get_column("sku")
    unsafe = skus.filter(~skus.str.contains(_URL_SAFE)).unique().to_list()
    encoded = pl.col("sku")
    if unsafe:
        encoded = encoded.replace({sku: quote(sku, safe="") for sku in unsafe})
    pieces: list[pl.Expr] = []
    for index, literal in enumerate(template.split("{sku}")):
        if index:
            pieces.append(encoded)
        pieces.append(pl.lit(literal))
    return frame.select(pl.concat_str(pieces).alias(URL_COLUMN)).to_series()


# --- templates, maps, conditions ----------------------------------------------------------------


def _template(source: TemplateSource, ctx: Context, path: str) -> Built:
    """Placeholders filled; a missing one is dropped with the text before it (the first one
    with the text after it), so no stray separators remain."""
    text = source.template
    literals: list[str] = []
    values: list[Built] = []
    rest = text
    for name in source.placeholders():
        before, _, rest = rest.partition("{" + name + "}")
        literals.append(before)
        values.append(_placeholder(name, ctx, f"{path}.template"))
    tail = rest
    if not values:
        return Built(pl.lit(text), system="config")
    # Each placeholder is referenced once (polars' eager engine would evaluate a repeated
    # subexpression again).
    texts = [v.expr.cast(pl.String).replace("", None) for v in values]
    between = set(literals[1:])
    if len(between) <= 1:
        # one separator between every pair (the usual "{a} {b}"): the present values joined
        # by it, with no per-row list work
        separator = between.pop() if between else ""
        body = pl.concat_str(texts, separator=separator, ignore_nulls=True).replace("", None)
    else:
        # the values go into one list, and each present value takes the text before it,
        # except the first present one
        leading = {i: literal for i, literal in enumerate(literals) if i}
        value = pl.element()
        first = value.is_not_null() & (value.is_not_null().cast(pl.Int64).cum_sum() == 1)
        prefix = pl.int_range(pl.len()).replace_strict(leading, default="", return_dtype=pl.String)
        segment = pl.concat_str(pl.when(first).then(pl.lit("")).otherwise(prefix), value)
        listed = pl.concat_list(texts).list.eval(segment).list.drop_nulls()
        body = listed.list.join("").replace("", None)
    rendered = pl.concat_str(pl.lit(literals[0]), body, pl.lit(tail))
    attribute = next((v.attribute for v in values if v.attribute), None)
    fallbacks = [f for v in values for f in v.label_fallbacks]
    systems = {v.system for v in values}
    system = next(s for s in ("pim", "erp", "structure", "config") if s in systems)
    return Built(rendered, attribute, system, fallbacks)


def _placeholder(name: str, ctx: Context, path: str) -> Built:
    kind, _, code = name.partition(".")
    if code and kind == "field":
        return Built(golden_field(code, ctx, path), system=field_system(code))
    if code and kind == "attribute":
        return attribute_value(code, ctx, path)
    if code and kind == "role":
        attribute = ctx.roles.attribute(code)
        return (
            attribute_value(attribute, ctx, path) if attribute else Built(pl.lit(None, pl.String))
        )
    if name in GOLDEN_FIELDS:
        return Built(golden_field(name, ctx, path), system=field_system(name))
    if name in ctx.roles.names():
        attribute = ctx.roles.attribute(name)
        return (
            attribute_value(attribute, ctx, path) if attribute else Built(pl.lit(None, pl.String))
        )
    return attribute_value(name, ctx, path)


def _mapped(expr: pl.Expr, mapping: ValueMap, strict: bool, ctx: Context, path: str) -> pl.Expr:
    pairs = _lookup(mapping, path) if isinstance(mapping, LookupFile) else mapping
    table = {str(k): v for k, v in pairs.items()}
    text = expr.cast(pl.String)
    if strict:
        return text.replace_strict(table, default=None)
    return text.replace(table)


def _lookup(lookup: LookupFile, path: str) -> dict[str, Any]:
    """A CSV lookup file's ``from`` -> ``to`` columns."""
    try:
        with Path(lookup.file).open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as error:
        raise MappingError(f"{path}.file: cannot read {lookup.file}: {error.strerror}") from None
    if rows and (lookup.from_ not in rows[0] or lookup.to not in rows[0]):
        columns = list(rows[0])
        raise MappingError(
            f"{path}: {lookup.file} has no column {lookup.from_!r} or {lookup.to!r} ({columns})"
        )
    return {r[lookup.from_]: r[lookup.to] for r in rows if r[lookup.from_]}


def condition(test: Condition, ctx: Context, path: str) -> pl.Expr:
    """True where ``test`` holds (null counts as not holding)."""
    if isinstance(test, All):
        return pl.all_horizontal(
            condition(t, ctx, f"{path}.all[{i}]") for i, t in enumerate(test.all)
        )
    if isinstance(test, AnyOf):
        return pl.any_horizontal(
            condition(t, ctx, f"{path}.any[{i}]") for i, t in enumerate(test.any)
        )
    if isinstance(test, Not):
        return ~condition(test.not_, ctx, f"{path}.not")
    return _test(test, ctx, path).fill_null(False)


def _test(test: Test, ctx: Context, path: str) -> pl.Expr:
    if test.field is not None:
        subject = golden_field(test.field, ctx, f"{path}.field")
    else:
        assert test.attribute is not None
        subject = attribute_value(test.attribute, ctx, f"{path}.attribute", label=False).expr
    if test.exists is not None:
        present = subject.is_not_null()
        return present if test.exists else ~present
    if test.at_least is not None:
        return subject.cast(pl.Float64, strict=False) >= test.at_least
    if test.at_most is not None:
        return subject.cast(pl.Float64, strict=False) <= test.at_most
    values = [test.equals] if test.equals is not None else list(test.in_ or test.not_in or ())
    if test.field in LIST_FIELDS:
        wanted = [str(v).lower() for v in values]
        lowered = subject.list.eval(pl.element().str.to_lowercase())
        matched = lowered.list.eval(pl.element().is_in(wanted)).list.any()
    else:
        matched = _matches(subject, values)
    return ~matched if test.not_in is not None else matched


def _matches(subject: pl.Expr, values: Sequence[Any]) -> pl.Expr:
    """Text compared case-insensitively (codes), lists by any member, numbers as numbers."""
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return subject.cast(pl.Float64, strict=False).is_in([float(v) for v in values])
    wanted = [str(v).lower() for v in values]
    text = subject.cast(pl.String, strict=False).str.to_lowercase()
    return text.is_in(wanted)
