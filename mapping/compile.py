"""A channel's mapping, compiled once per run: the format's preset, the channel's ``fields:``
over it, checked against the format's field spec and the PIM, as polars expressions.

Checked before any data is written, each error with its key path: an unknown format or preset,
an unknown target field (for formats with a fixed field set), a required target field left
unmapped, an unknown attribute (once the PIM's attributes are known), golden field or role, a
source whose type cannot fill the field (a text attribute for a money field), a transform that
cannot apply, a lookup file that cannot be read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from pydantic import BaseModel, TypeAdapter, ValidationError

from contracts.config import ChannelConfig, PrismConfig
from contracts.customers import Customer, ErpCustomers
from contracts.formats import FieldSpec, FormatSpec, Kind
from contracts.mapping import (
    AttributeSource,
    ConstantSource,
    Filters,
    FirstSource,
    GoldenSource,
    RoleSource,
    Source,
)
from contracts.suggestions import hint
from golden.categories import ANY_TREE
from mapping import model as pim
from mapping.expressions import (
    COMPLETENESS_COLUMN,
    Built,
    Context,
    MappingError,
    compile_source,
    condition,
)
from mapping.model import PimModel

_SOURCE = TypeAdapter(Source)
KEY = "sku"
"""Every channel frame's first column: the product's key (the golden sku)."""
_FIELD_KINDS: dict[str, Kind] = {
    "price": "money",
    "price_valid_until": "date",
    "availability_date": "date",
    "available_qty": "integer",
    "lead_time_days": "integer",
    "completeness": "decimal",
    "categories": "list",
    "images": "list",
    "additional_images": "list",
    "variant_axes": "list",
}
_ATTRIBUTE_KINDS: dict[str, Kind] = {
    pim.METRIC: "decimal",
    pim.NUMBER: "decimal",
    pim.PRICES: "money",
    pim.DATE: "date",
    pim.BOOLEAN: "boolean",
}
_MONEY_FIELDS = frozenset({"price"})
_DATE_FIELDS = frozenset({"availability_date", "price_valid_until"})
_NUMBER_KINDS = frozenset({"money", "decimal", "integer"})


@dataclass
class CompiledField:
    spec: FieldSpec
    built: Built


@dataclass(frozen=True)
class CompiledFilters:
    """``Filters`` as expressions over a channel's golden rows (``COMPLETENESS_COLUMN`` for
    ``completeness``): a channel's, or one customer's assortment within it."""

    include: pl.Expr | None = None
    exclude: pl.Expr | None = None
    completeness_min: float | None = None

    def reason(self) -> pl.Expr | None:
        """Why a product is left out (``include``, ``exclude``, ``completeness``: the first
        test it fails, in that order), null where it is kept; None without any filter."""
        reasons: list[tuple[str, pl.Expr]] = []
        if self.include is not None:
            reasons.append(("include", ~self.include))
        if self.exclude is not None:
            reasons.append(("exclude", self.exclude))
        if self.completeness_min is not None:
            reasons.append(("completeness", pl.col(COMPLETENESS_COLUMN) < self.completeness_min))
        if not reasons:
            return None
        reason = pl.lit(None, pl.String)
        for name, test in reversed(reasons):
            reason = pl.when(test.fill_null(False)).then(pl.lit(name)).otherwise(reason)
        return reason


@dataclass
class CompiledChannel:
    """A channel's target fields as expressions, in output order, plus its filters."""

    name: str
    channel: ChannelConfig
    format: FormatSpec
    options: BaseModel | None
    context: Context
    fields: dict[str, CompiledField] = field(default_factory=dict)
    filters: CompiledFilters = CompiledFilters()

    def required_pim_fields(self) -> list[str]:
        """The target fields completeness counts, as a PIM computes it: the required and
        recommended ones filled from the PIM; a format that requires nothing (a tabular
        feed is whatever its columns are) counts every PIM field it maps."""
        from_pim = [
            n
            for n, f in self.fields.items()
            if f.built.system == "pim" and f.spec.source == "pim" and n != KEY
        ]
        wanted = ("required", "recommended")
        required = [n for n in from_pim if self.fields[n].spec.requirement in wanted]
        return required or from_pim


def merged_fields(name: str, channel: ChannelConfig, spec: FormatSpec) -> dict[str, Any]:
    """The preset's fields with the channel's ``fields:`` over them (``null`` removes one)."""
    preset = channel.preset or spec.default_preset
    if preset not in spec.presets:
        known = ", ".join(spec.presets)
        raise MappingError(
            f"channels.{name}.preset: format {spec.name!r} has no preset {preset!r} ({known})"
            + hint(preset, spec.presets)
        )
    merged: dict[str, Any] = dict(spec.presets[preset])
    for target, value in channel.fields.items():
        if value is None:
            merged.pop(target, None)
        else:
            merged[target] = value
    return merged


def format_options(name: str, channel: ChannelConfig, spec: FormatSpec) -> BaseModel | None:
    """The format's own options from the channel's extra keys, validated with key paths."""
    extra = channel.options()
    if spec.options is None:
        if extra:
            keys = ", ".join(sorted(extra))
            first = sorted(extra)[0]
            raise MappingError(
                f"channels.{name}.{first}: format {spec.name!r} has no option(s) {keys}"
                + hint(first, ChannelConfig.model_fields)
            )
        return None
    try:
        return spec.options.model_validate(extra)
    except ValidationError as error:
        problems = []
        known = ", ".join(spec.options.model_fields)
        for item in error.errors():
            where = ".".join(str(p) for p in _input_path(extra, item["loc"]))
            reason = item["msg"]
            if item["type"] == "extra_forbidden" and len(item["loc"]) == 1:
                reason = f"format {spec.name!r} has no option {where!r} (options: {known})"
                reason += hint(where, [*spec.options.model_fields, *ChannelConfig.model_fields])
            problems.append(f"channels.{name}.{where}: {reason}")
        raise MappingError("\n".join(problems)) from None  # one problem a line


def _input_path(data: Any, loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """``loc`` without the parts the input does not have (a tagged union's tag, e.g. the
    ``erp`` of ``customers.erp.groups``), so the path is the one written in the file; a key
    the input lacks is kept when it is the last part (a missing or unknown key)."""
    kept: list[str | int] = []
    for index, part in enumerate(loc):
        in_list = isinstance(data, list) and isinstance(part, int) and part < len(data)
        if in_list or (isinstance(data, dict) and part in data):
            data = data[part]
            kept.append(part)
        elif index == len(loc) - 1 and isinstance(data, dict):
            kept.append(part)
    return tuple(kept)


def compile_channel(
    name: str,
    config: PrismConfig,
    spec: FormatSpec,
    model: PimModel,
    columns: frozenset[str],
) -> CompiledChannel:
    """``channels.<name>`` compiled for the golden record's ``columns``."""
    channel = config.channels[name]
    if channel.product_url is not None and "{sku}" not in channel.product_url:
        msg = f"channels.{name}.product_url: {channel.product_url!r} has no '{{sku}}'"
        raise MappingError(msg)
    options = format_options(name, channel, spec)
    scope = config.scope_of(channel)
    tree = channel.category_tree or model.tree_of(scope) or ANY_TREE
    context = Context(
        channel=name,
        locale=channel.locale,
        scope=scope,
        tree=tree,
        currency=channel.main_currency,
        fallback_locales=config.locales,
        roles=config.attributes,
        model=model,
        columns=columns,
        product_url=channel.product_url,
        media_base_url=config.media_base_url,
    )
    compiled = CompiledChannel(name, channel, spec, options, context)
    mapping = merged_fields(name, channel, spec)
    for target, raw in mapping.items():
        path = context.path(target)
        source = _as_source(raw, path)
        if target == KEY and not (isinstance(source, GoldenSource) and source.field == KEY):
            msg = f"{path}: the target 'sku' is the product's key: map it to field sku"
            raise MappingError(msg + " or name the column otherwise")
        target_spec = spec.spec_of(target)
        if target_spec is None:
            if not spec.extensible:
                known = ", ".join(f.name for f in spec.fields)
                raise MappingError(
                    f"{path}: format {spec.name!r} has no field {target!r} ({known})"
                    + hint(target, [f.name for f in spec.fields])
                )
            target_spec = FieldSpec(target, inferred_kind(source, model))
        _check_type(source, target_spec, model, path)
        built = compile_source(source, context, path, target_spec.max_length)
        compiled.fields[target] = CompiledField(target_spec, built)
    for required in (f for f in spec.fields if f.requirement == "required"):
        if required.name not in compiled.fields:
            raise MappingError(
                f"{context.path(required.name)}: required by {spec.name!r} but not mapped"
            )
    _compile_filters(compiled)
    return compiled


def inferred_kind(source: Source, model: PimModel) -> Kind:
    """The kind of a column a format does not declare (tabular, SQL), from its source: so an
    undeclared ``Preis: {field: price}`` is money and ``Bilder: {field: images}`` a list."""
    if isinstance(source, FirstSource) and source.first:
        return inferred_kind(source.first[0], model)
    if source.transform or source.map is not None:
        return "text"
    if isinstance(source, GoldenSource):
        return _FIELD_KINDS.get(source.field, "text")
    if isinstance(source, AttributeSource):
        attribute = model.attribute(source.attribute)
        if attribute is not None and not (
            attribute.type in (pim.SELECT, pim.MULTISELECT) and source.label
        ):
            return _ATTRIBUTE_KINDS.get(attribute.type, "text")
    return "text"


def _as_source(raw: Any, path: str) -> Source:
    if isinstance(raw, BaseModel):
        return raw  # type: ignore[return-value]
    try:
        return _SOURCE.validate_python(raw)
    except ValidationError as error:
        item = error.errors()[0]
        where = ".".join(str(p) for p in item["loc"])
        raise MappingError(f"{path}{'.' + where if where else ''}: {item['msg']}") from None


def _check_type(source: Source, spec: FieldSpec, model: PimModel, path: str) -> None:
    """A source whose values cannot be of the field's kind is a configuration error."""
    if spec.kind not in _NUMBER_KINDS and spec.kind != "date":
        return
    if isinstance(source, AttributeSource | RoleSource):
        code = source.attribute if isinstance(source, AttributeSource) else None
        attribute = model.attribute(code) if code else None
        numeric = {pim.METRIC, pim.PRICES, pim.NUMBER}
        if attribute is not None and spec.kind in _NUMBER_KINDS and attribute.type not in numeric:
            raise MappingError(
                f"{path}: {attribute.code!r} is a {attribute.type} attribute, "
                f"the field {spec.name!r} needs a number"
            )
        if attribute is not None and spec.kind == "date" and attribute.type != pim.DATE:
            raise MappingError(
                f"{path}: {attribute.code!r} is a {attribute.type} attribute, "
                f"the field {spec.name!r} needs a date"
            )
    money = spec.kind == "money"
    if isinstance(source, GoldenSource) and money and source.field not in _MONEY_FIELDS:
        raise MappingError(f"{path}: the field {spec.name!r} needs money, not {source.field!r}")
    if (
        isinstance(source, ConstantSource)
        and spec.kind in _NUMBER_KINDS
        and not _numeric(source.constant)
    ):
        raise MappingError(f"{path}: the field {spec.name!r} needs a number constant")


def _numeric(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return False
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _compile_filters(compiled: CompiledChannel) -> None:
    """The channel's filters, and each customer assortment its format options name (checked
    here, so a mistake fails before any data is read, with its key path)."""
    base = f"channels.{compiled.name}"
    compiled.filters = compile_filters(
        compiled.channel.filters, compiled.context, f"{base}.filters"
    )
    customers = getattr(compiled.options, "customers", None)
    if isinstance(customers, ErpCustomers):
        for group, filters in customers.group_filters.items():
            compile_filters(filters, compiled.context, f"{base}.customers.group_filters.{group}")
    elif isinstance(customers, tuple):
        for index, customer in enumerate(customers):
            if isinstance(customer, Customer):
                path = f"{base}.customers.{index}.filters"
                compile_filters(customer.filters, compiled.context, path)


def compile_filters(filters: Filters, ctx: Context, path: str) -> CompiledFilters:
    """``filters`` (at key ``path``) as expressions in the channel's context."""
    include = exclude = None
    if filters.include is not None and not filters.include.empty():
        include = _selection(filters.include, ctx, f"{path}.include")
    if filters.exclude is not None and not filters.exclude.empty():
        exclude = _selection(filters.exclude, ctx, f"{path}.exclude")
    return CompiledFilters(include, exclude, filters.completeness)


def _selection(selection: Any, ctx: Context, path: str) -> pl.Expr:
    """True where a product matches every criterion of ``selection``."""
    from mapping.expressions import attribute_value

    tests: list[pl.Expr] = []
    if selection.categories:
        wanted = [c.lower() for c in selection.categories]
        lineage = pl.col("category_lineage")
        tests.append(lineage.list.eval(pl.element().is_in(wanted)).list.any())
    if selection.families:
        wanted = [f.lower() for f in selection.families]
        tests.append(pl.col("family").str.to_lowercase().is_in(wanted))
    if selection.brands:
        role = ctx.roles.brand
        if role is None:
            raise MappingError(f"{path}.brands: no brand role is configured (attributes.brand)")
        codes = attribute_value(role, ctx, f"{path}.brands", label=False).expr
        tests.append(codes.str.to_lowercase().is_in([b.lower() for b in selection.brands]))
    if selection.availability:
        tests.append(pl.col("availability").is_in(list(selection.availability)))
    if selection.where is not None:
        tests.append(condition(selection.where, ctx, f"{path}.where"))
    return pl.all_horizontal(tests).fill_null(False)


def compile_all(
    config: PrismConfig,
    formats: Mapping[str, FormatSpec],
    model: PimModel,
    columns: frozenset[str],
) -> dict[str, CompiledChannel]:
    """Every channel compiled; the first error stops with its key path."""
    found = {}
    for name, channel in config.channels.items():
        spec = formats.get(channel.format)
        if spec is None:
            known = ", ".join(sorted(formats))
            raise MappingError(
                f"channels.{name}.format: unknown format {channel.format!r} (formats: {known})"
                + hint(channel.format, formats)
            )
        found[name] = compile_channel(name, config, spec, model, columns)
    return found
