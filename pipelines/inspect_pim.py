"""``prism inspect-pim``: which Akeneo channel (scope) and locale hold the PIM's data.

Descriptions often live in another Akeneo channel's scope than the one configured; before
choosing ``scope:`` (or a channel's own), a data engineer sees per Akeneo channel and locale how
many products have each role filled (name, description, brand, image, ...) and each price
attribute per currency. Read from the newest PIM export; nothing is written.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from contracts.config import PrismConfig
from golden.categories import ANY_TREE
from golden.lineage import split_broken_lineage
from golden.master_data import MasterNeeds, golden_master_data
from mapping import model as pim
from mapping.expressions import Context, MappingError, attribute_value, product_label
from mapping.plan import pim_model
from sources.akeneo_files import read_pim_export, read_pim_structure

COUNTS_SCHEMA = {
    "scope": pl.String,
    "locale": pl.String,
    "field": pl.String,
    "products": pl.Int64,
    "filled": pl.Int64,
}


def inspect_pim(config: PrismConfig, folder: Path) -> pl.DataFrame:
    """scope, locale, field, products, filled: per Akeneo channel and locale, how many
    (enabled and disabled) products have each role and price attribute filled."""
    structure = read_pim_structure(folder, config.locales)
    model = pim_model(
        config,
        structure.attributes,
        structure.attribute_options,
        structure.channels,
        structure.families,
        structure.family_variants,
    )
    scopes = tuple(structure.channels["code"].drop_nulls().to_list()) or config.scopes
    roles = {r: a for r in config.attributes.names() if (a := config.attributes.attribute(r))}
    prices = [a.code for a in model.attributes.values() if a.type == pim.PRICES]
    wanted = {a.lower() for a in (*roles.values(), *prices, *model.label_attributes)}
    export = read_pim_export(folder, config.locales, scopes, wanted, structure=structure)
    export, _ = split_broken_lineage(export)
    needs = MasterNeeds(
        locales=config.locales,
        trees=(ANY_TREE,),
        attributes=frozenset(wanted),
        image_role=config.attributes.image,
        media_base_url=config.media_base_url,
    )
    master = golden_master_data(export, needs).collect()
    rows = []
    for scope in scopes:
        for locale in config.locales:
            counts = master.select(_filled(config, model, master, scope, locale, roles, prices))
            rows += [
                {
                    "scope": scope,
                    "locale": locale,
                    "field": name,
                    "products": master.height,
                    "filled": int(counts[name][0]),
                }
                for name in counts.columns
            ]
    return pl.DataFrame(rows, schema=COUNTS_SCHEMA)


def _filled(
    config: PrismConfig,
    model: pim.PimModel,
    master: pl.DataFrame,
    scope: str,
    locale: str,
    roles: dict[str, str],
    prices: list[str],
) -> list[pl.Expr]:
    context = Context(
        channel="(inspect)",
        locale=locale,
        scope=scope,
        tree=ANY_TREE,
        currency=config.currencies[0] if config.currencies else "EUR",
        fallback_locales=(),
        roles=config.attributes,
        model=model,
        columns=frozenset(master.columns),
        product_url=None,
        media_base_url=config.media_base_url,
    )
    exprs = [_count(product_label(context, "inspect.label")).alias("label")]
    for role, code in roles.items():
        if role == "image":
            exprs.append(_count(pl.col("image_url")).alias("image (family image first)"))
            continue
        try:
            value = attribute_value(code, context, f"attributes.{role}", label=False).expr
        except MappingError:
            continue  # a role naming an attribute the PIM lacks: validate-config says so
        exprs.append(_count(value).alias(f"{role} ({code})"))
    for code in prices:
        for currency in config.currencies:
            value = attribute_value(code, context, code, currency=currency).expr
            exprs.append(_count(value).alias(f"{code} {currency}"))
    return exprs


def _count(value: pl.Expr) -> pl.Expr:
    text = value.cast(pl.String, strict=False)
    return (text.is_not_null() & (text.str.strip_chars() != "")).sum()
