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


def inherit(products: pl.DataFrame, models: pl.DataFrame, values: list[str]) -> pl.DataFrame:
    """Products with missing ``values`` taken from their (resolved) parent model; ``parent``
    spelled as the model is, ``item_group`` its root, ``family_variant`` and ``level`` (0 for a
    simple product, else the variant's enrichment level: its parent's level).

    ``categories`` is the product's then its models' categories, repeats left in: the
    category paths (``golden.categories.with_category_paths``) drop them once per distinct
    list, case-insensitively. Only the parent's columns are joined to the products' keys (the
    wide product rows are not copied by the join), and only the values some model has are
    coalesced."""
    held = [v for v in values if models[v].null_count() < models.height]
    parents = models.select(
        pl.col("key").alias("_parent_key"),
        pl.col("code").alias("parent_up"),
        pl.col("root").alias("root_up"),
        pl.col("categories").alias("categories_up"),
        "family_variant",
        "level",
        *(pl.col(v).alias(f"{v}_up") for v in held),
    )
    keys = products.select(_parent_key=pl.col("parent").str.to_lowercase())
    found = keys.join(parents, on="_parent_key", how="left", maintain_order="left")
    missing = [pl.lit(None, pl.String).alias(v) for v in values if v not in products.columns]
    replaced = ("categories", "categories_up", "root_up", "parent_up", "parent", "level")
    return (
        products.with_columns(missing)
        .hstack(found.drop("_parent_key").get_columns())
        .select(
            pl.exclude(*replaced, *held, *(f"{v}_up" for v in held)),
            pl.coalesce("parent_up", "parent").alias("parent"),
            *(pl.coalesce(v, f"{v}_up").alias(v) for v in held),
            chained("categories", "categories_up").alias("categories"),
            item_group=pl.coalesce("root_up", "parent_up"),
            level=pl.col("level").fill_null(0),
        )
    )


def variant_axes(products: pl.DataFrame, family_variants: pl.DataFrame) -> pl.DataFrame:
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
    keys = products.select(_fv=pl.col("family_variant").str.to_lowercase(), level=pl.col("level"))
    # The few family variants are joined to each other first: one join to the products' keys.
    found = keys.join(per_code, left_on="_fv", right_on="key", how="left", maintain_order="left")
    empty = pl.lit([], _CODES)
    axes = (
        pl.when(pl.col("level") >= 2)
        .then(pl.concat_list(pl.col("axes_1").fill_null(empty), pl.col("axes_2").fill_null(empty)))
        .when(pl.col("level") == 1)
        .then(pl.col("axes_1").fill_null(empty))
        .otherwise(empty)
    )
    found = found.select(pl.col("_fv_code"), variant_axes=axes)
    return products.with_columns(
        family_variant=pl.coalesce(found["_fv_code"], pl.col("family_variant")),
        variant_axes=found["variant_axes"],
    )


def chained(own: str, inherited: str) -> pl.Expr:
    """The codes of ``own`` then of ``inherited``, repeats included."""
    empty = pl.lit([], _CODES)
    return pl.concat_list(pl.col(own).fill_null(empty), pl.col(inherited).fill_null(empty))


def union(own: str, inherited: str) -> pl.Expr:
    """The codes of ``own`` then those of ``inherited`` it lacks (first occurrence kept)."""
    return chained(own, inherited).list.unique(maintain_order=True).alias(own)
