"""Variant inheritance: a variant takes each value from itself, else its parent model, else the
root model, and belongs to its root model's group with that family variant's axes.

Codes are matched case-insensitively (``parent: Jacket_Blue`` is the model ``jacket_blue``);
the output keeps the models' own spelling. Pure polars; the models are few, so they are resolved
eagerly (Akeneo allows two levels; the loop stops at ``MAX_DEPTH``).
"""

from __future__ import annotations

import polars as pl

MAX_DEPTH = 32
_CODES = pl.List(pl.String)


def resolve_models(models: pl.DataFrame, values: list[str]) -> pl.DataFrame:
    """Each model with ``values`` and categories inherited from its ancestors, plus ``key``
    (lower-cased code), ``root`` (the root model's code), ``family_variant`` (own, else
    inherited) and ``level`` (1: root model, 2: sub-model)."""
    base = models.select(
        "code",
        "parent",
        "categories",
        "family_variant",
        *values,
        key=pl.col("code").str.to_lowercase(),
        root=pl.col("code"),
        level=pl.lit(1, pl.Int64),
        up=pl.col("parent").str.to_lowercase(),
    )
    ancestors = base.select(
        pl.col("key").alias("up"),
        pl.col("parent").str.to_lowercase().alias("up_next"),
        pl.col("code").alias("code_up"),
        pl.col("categories").alias("categories_up"),
        pl.col("family_variant").alias("family_variant_up"),
        *(pl.col(v).alias(f"{v}_up") for v in values),
    )
    resolved = base
    for _ in range(MAX_DEPTH):
        if resolved["up"].is_null().all():
            break
        joined = resolved.join(ancestors, on="up", how="left")
        found = pl.col("code_up").is_not_null()
        resolved = joined.select(
            "code",
            "parent",
            "key",
            *(pl.coalesce(v, f"{v}_up").alias(v) for v in values),
            union("categories", "categories_up"),
            pl.coalesce("family_variant", "family_variant_up").alias("family_variant"),
            root=pl.when(found).then("code_up").otherwise("root"),
            level=pl.col("level") + found.cast(pl.Int64),
            up=pl.col("up_next"),
        )
    return resolved.drop("up")


def inherit(products: pl.LazyFrame, models: pl.DataFrame, values: list[str]) -> pl.LazyFrame:
    """Products with missing ``values`` taken from their (resolved) parent model; ``parent``
    spelled as the model is, ``item_group`` its root, ``family_variant`` and ``level`` (0 for a
    simple product, else the variant's enrichment level: its parent's level)."""
    parents = models.lazy().select(
        pl.col("key").alias("_parent_key"),
        pl.col("code").alias("parent_up"),
        pl.col("root").alias("root_up"),
        pl.col("categories").alias("categories_up"),
        pl.col("family_variant").alias("family_variant"),
        pl.col("level").alias("level"),
        *(pl.col(v).alias(f"{v}_up") for v in values),
    )
    keyed = products.with_columns(_parent_key=pl.col("parent").str.to_lowercase())
    own = [v for v in values if v in products.collect_schema().names()]
    missing = [pl.lit(None, pl.String).alias(v) for v in values if v not in own]
    return (
        keyed.with_columns(missing)
        .join(parents, on="_parent_key", how="left", maintain_order="left")
        .select(
            pl.exclude(
                "categories",
                "categories_up",
                "root_up",
                "parent_up",
                "_parent_key",
                "parent",
                "level",
                *values,
                *(f"{v}_up" for v in values),
            ),
            pl.coalesce("parent_up", "parent").alias("parent"),
            *(pl.coalesce(v, f"{v}_up").alias(v) for v in values),
            union("categories", "categories_up"),
            item_group=pl.coalesce("root_up", "parent_up"),
            level=pl.col("level").fill_null(0),
        )
    )


def variant_axes(products: pl.LazyFrame, family_variants: pl.DataFrame) -> pl.LazyFrame:
    """``variant_axes``: the attributes that tell a variant from its siblings: the axes of every
    enrichment level from the root down to the variant (empty for simple products);
    ``family_variant`` spelled as the family variants export does (a code it lacks stays as the
    model gives it)."""
    levels = family_variants.select(
        key=pl.col("code").str.to_lowercase(),
        code=pl.col("code"),
        level=pl.col("level"),
        axes=pl.col("axes"),
    )
    # One row per code: a repeated family variant must not repeat its products.
    spelled = levels.select("key", pl.col("code").alias("_fv_code"))
    one = levels.filter(pl.col("level") == 1).select("key", pl.col("axes").alias("axes_1"))
    two = levels.filter(pl.col("level") == 2).select("key", pl.col("axes").alias("axes_2"))
    per_code = spelled.unique("key", keep="first", maintain_order=True)
    for right in (one, two):
        once = right.unique("key", keep="first", maintain_order=True)
        per_code = per_code.join(once, on="key", how="left", maintain_order="left")
    keyed = products.with_columns(_fv=pl.col("family_variant").str.to_lowercase())
    empty = pl.lit([], _CODES)
    # The few family variants are joined to each other first: one join over the products.
    joined = keyed.join(
        per_code.lazy(), left_on="_fv", right_on="key", how="left", maintain_order="left"
    )
    joined = joined.with_columns(family_variant=pl.coalesce("_fv_code", "family_variant"))
    axes = (
        pl.when(pl.col("level") >= 2)
        .then(pl.concat_list(pl.col("axes_1").fill_null(empty), pl.col("axes_2").fill_null(empty)))
        .when(pl.col("level") == 1)
        .then(pl.col("axes_1").fill_null(empty))
        .otherwise(empty)
    )
    return joined.with_columns(variant_axes=axes).drop("_fv", "_fv_code", "axes_1", "axes_2")


def union(own: str, inherited: str) -> pl.Expr:
    empty = pl.lit([], _CODES)
    both = pl.concat_list(pl.col(own).fill_null(empty), pl.col(inherited).fill_null(empty))
    return both.list.unique(maintain_order=True).alias(own)
