"""Product models and variant products: root models (one- or two-level), their color
sub-models, and one variant per (color, size) slot, as Akeneo's variant model arranges them."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from demo.catalog import COLORS, FAMILIES, FAMILY_VARIANT
from demo.expressions import lookup
from demo.identifiers import media_keys, timestamps


def draw_variant_roots(rng: np.random.Generator, variants: int) -> pl.DataFrame:
    """Root models (family, color count, size count) until they hold ``variants`` products."""
    count = variants // 2 + 1
    variant_families = [i for i, f in enumerate(FAMILIES) if f.variant != "none"]
    families = np.array(variant_families)[rng.integers(0, len(variant_families), count)]
    two_level = np.array([FAMILIES[i].variant == "two" for i in families])
    colors = np.where(two_level, rng.integers(1, 4, count), 1)
    sizes = rng.integers(2, 5, count)
    color_offset = rng.integers(0, len(COLORS), count)
    size_offset = rng.integers(0, 1 << 30, count)
    keep = int(np.searchsorted(np.cumsum(colors * sizes), variants)) + 1 if variants else 0
    return pl.DataFrame(
        {
            "family_idx": families[:keep],
            "two_level": two_level[:keep],
            "ncolors": colors[:keep],
            "nsizes": sizes[:keep],
            "color_offset": color_offset[:keep],
            "size_offset": size_offset[:keep],
        }
    )


def _model_color(slot: pl.Expr) -> pl.Expr:
    return lookup((pl.col("color_offset") + slot) % len(COLORS), COLORS)


def _size() -> pl.Expr:
    """Consecutive sizes from the family's range, starting at a per-root offset."""
    expr = pl.lit(None, pl.String)
    for family in FAMILIES:
        if family.sizes:
            span = len(family.sizes) - pl.col("nsizes") + 1
            index = pl.col("size_offset") % span + pl.col("size_slot")
            code = lookup(index, family.sizes)
            expr = pl.when(pl.col("family") == family.code).then(code).otherwise(expr)
    return expr


def draw_models(rng: np.random.Generator, roots: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """Root models and their color sub-models, sorted by code (each root before its subs)."""
    subs = (
        roots.filter("two_level")
        .with_columns(color_slot=pl.int_ranges(0, "ncolors"))
        .explode("color_slot")
        .with_columns(color=_model_color(pl.col("color_slot")), parent=pl.col("code"))
        .with_columns(code=pl.format("{}_{}", "code", "color"))
    )
    text_seeds = ("noun", "adj", "num", "brand_idx", "suffix", "formula", "desc_formula")
    root_only = ("brand", "material", "eco_friendly", "release_date")
    subs = subs.with_columns(pl.lit(None).alias(c) for c in (*text_seeds, *root_only))
    roots = roots.with_columns(
        color=pl.when(~pl.col("two_level")).then(_model_color(pl.lit(0))),
        parent=pl.lit(None, pl.String),
    )
    models = pl.concat([roots, subs.select(roots.columns)], how="vertical_relaxed").sort("code")
    media = media_keys(rng, models.height)
    return models.with_columns(
        family_variant=pl.col("family").replace_strict(FAMILY_VARIANT),
        image=pl.when(pl.col("color").is_not_null()).then(
            pl.format("{}_{}.jpg", pl.lit(media), "code")
        ),
        updated=timestamps(rng, models.height, as_of),
        defect=pl.lit(""),
        sku=pl.lit(None, pl.String),
    )


def variant_products(roots: pl.DataFrame, count: int) -> pl.DataFrame:
    """Variant products of the roots: one per (color, size) slot, the first ``count`` of them;
    ``group`` is the root's row, ``slot`` the variant's place in it."""
    slots = (
        roots.select(
            "code",
            slot=pl.int_ranges(0, pl.col("ncolors") * pl.col("nsizes")),
        )
        .explode("slot")
        .head(count)
    )
    joined = slots.join(roots, on="code", how="left", maintain_order="left")
    color = _model_color(pl.col("slot") // pl.col("nsizes"))
    return joined.with_columns(
        size_slot=pl.col("slot") % pl.col("nsizes"),
        parent=pl.when("two_level").then(pl.format("{}_{}", "code", color)).otherwise("code"),
    ).select(
        "family_idx",
        "family",
        "parent",
        "categories",
        "list_cents",
        (pl.col("weight_grams") * (20 + pl.col("size_slot")) // 20).alias("weight_grams"),
        _size().alias("size"),
        *(pl.lit(None).alias(c) for c in _PRODUCT_ONLY_NULLS),
        pl.col("group"),
        pl.col("slot"),
    )


_PRODUCT_ONLY_NULLS = (
    "noun", "adj", "num", "brand_idx", "suffix", "formula", "desc_formula", "sentence",
    "brand", "material", "eco_friendly", "release_date", "warranty_years", "color",
)  # fmt: skip
