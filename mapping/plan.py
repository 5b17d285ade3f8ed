"""A run's channel plan: every channel's mapping compiled against the PIM's structure before
any product is read, and what the golden record must therefore hold.

Compiling first (against the attributes, options and channels of the export) stops a run on a
configuration error before it reads or writes any data, and tells the PIM read which attributes
and category trees the channels use, so a 1M-product export is read with only those columns.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from contracts.config import PrismConfig
from contracts.customers import ErpCustomers
from contracts.formats import FormatSpec
from golden.categories import ANY_TREE
from golden.master_data import MasterNeeds
from mapping.compile import CompiledChannel, compile_all, compile_channel, format_options
from mapping.expressions import Context, product_label
from mapping.model import PimModel


def pim_model(
    config: PrismConfig,
    attributes: pl.DataFrame,
    options: pl.DataFrame,
    channels: pl.DataFrame,
    families: pl.DataFrame,
    family_variants: pl.DataFrame,
) -> PimModel:
    """The PIM model of a run (labels in every configured locale)."""
    return PimModel.of(attributes, options, channels, config.locales, families, family_variants)


def master_needs(
    config: PrismConfig, formats: Mapping[str, FormatSpec], model: PimModel
) -> MasterNeeds:
    """Which attributes, trees and locales the golden record needs for every channel: the
    mappings compiled once without data, recording what they read."""
    compiled = compile_all(config, formats, model, frozenset())
    attributes = {a.lower() for c in compiled.values() for a in c.context.requested}
    if config.attributes.image:
        attributes.add(config.attributes.image.lower())
    trees = sorted({c.context.tree for c in compiled.values()})
    return MasterNeeds(
        locales=config.locales,
        trees=tuple(trees) if trees else (ANY_TREE,),
        attributes=frozenset(attributes),
        image_role=config.attributes.image,
        media_base_url=config.media_base_url,
    )


def erp_customer_channels(
    config: PrismConfig, formats: Mapping[str, FormatSpec]
) -> tuple[str, ...]:
    """The channels whose ``customers:`` come from the ERP's customer master (the ERP drop must
    then hold it)."""
    found = []
    for name, channel in config.channels.items():
        spec = formats.get(channel.format)
        options = format_options(name, channel, spec) if spec is not None else None
        if isinstance(getattr(options, "customers", None), ErpCustomers):
            found.append(name)
    return tuple(found)


def compiled_channels(
    config: PrismConfig,
    formats: Mapping[str, FormatSpec],
    model: PimModel,
    golden_columns: list[str],
) -> dict[str, CompiledChannel]:
    """Every channel compiled for the golden record's columns."""
    return compile_all(config, formats, model, frozenset(golden_columns))


def compiled_per_locale(
    config: PrismConfig,
    formats: Mapping[str, FormatSpec],
    model: PimModel,
    golden_columns: list[str],
) -> dict[tuple[str, str], CompiledChannel]:
    """Every channel compiled once per configured locale: completeness per channel and locale,
    as a PIM shows it, counts the same fields in each locale."""
    columns = frozenset(golden_columns)
    found = {}
    for name, channel in config.channels.items():
        for locale in config.locales:
            local = config.model_copy(
                update={
                    "channels": {
                        **config.channels,
                        name: channel.model_copy(update={"locale": locale}),
                    }
                }
            )
            found[(name, locale)] = compile_channel(
                name, local, formats[channel.format], model, columns
            )
    return found


def product_names(
    config: PrismConfig, model: PimModel, golden: pl.DataFrame, locale: str
) -> pl.DataFrame:
    """sku, name: each product's label in ``locale`` (the report's names), from the default
    Akeneo channel's values."""
    context = Context(
        channel="(report)",
        locale=locale,
        scope=config.scope,
        tree=ANY_TREE,
        currency=config.currencies[0] if config.currencies else "EUR",
        fallback_locales=config.locales,
        roles=config.attributes,
        model=model,
        columns=frozenset(golden.columns),
        product_url=None,
        media_base_url=config.media_base_url,
    )
    return golden.select("sku", name=product_label(context, "report.name"))
