"""Category paths per category tree: each Akeneo channel has its own tree, and a channel's
category path comes from that tree only.

A product's path in a tree runs from the tree's root to the deepest of the product's categories
in that tree (ties: the first in its list), labels joined with " > ", a missing label shown as
the code. A product with no category in the tree has no path there (null: the channel reports
it and may filter it). ``ANY_TREE`` is the deepest category of any tree, for exports that say
nothing about trees. Codes are matched case-insensitively.

A category whose parent is not in the export is taken as the top of what is known (its own
tree); categories whose parents loop belong to no tree (an export cannot be trusted to name the
root of a loop, and following it would print the loop's labels over and over).
"""

from __future__ import annotations

import polars as pl

PATH_SEPARATOR = " > "
MAX_DEPTH = 32
ANY_TREE = "*"


def category_table(categories: pl.DataFrame, locales: tuple[str, ...]) -> pl.DataFrame:
    """Per category: ``key`` (lower-cased code), ``code``, ``tree`` (its root's code; null when
    its parents loop), ``depth`` (1 = the root), ``lineage`` (the lower-cased codes from the root
    down to it) and ``path_<locale>`` of labels from the root."""
    labels = [pl.coalesce(f"label_{loc}", "code").alias(f"path_{loc}") for loc in locales]
    nodes = categories.select(
        "code",
        *labels,
        key=pl.col("code").str.to_lowercase(),
        parent_key=pl.col("parent").str.to_lowercase(),
    )
    ancestors = nodes.select(
        pl.col("key").alias("up"),
        pl.col("parent_key").alias("up_next"),
        pl.col("code").alias("code_up"),
        *(pl.col(f"path_{loc}").alias(f"path_{loc}_up") for loc in locales),
    )
    paths = nodes.with_columns(
        depth=pl.lit(1, pl.Int64),
        tree=pl.col("code"),
        lineage=pl.concat_list(pl.col("key")),
        looped=pl.lit(False),
        up=pl.col("parent_key"),
    )
    for _ in range(MAX_DEPTH):
        if paths["up"].is_null().all():
            break
        joined = paths.join(ancestors, on="up", how="left")
        again = pl.col("lineage").list.contains(pl.col("up")).fill_null(False)
        found = pl.col("code_up").is_not_null() & ~again
        paths = joined.select(
            "key",
            "code",
            *(_prepend(f"path_{loc}", found) for loc in locales),
            depth=pl.col("depth") + found.cast(pl.Int64),
            tree=pl.when(found).then("code_up").otherwise("tree"),
            lineage=pl.when(found)
            .then(pl.concat_list(pl.col("up"), pl.col("lineage")))
            .otherwise(pl.col("lineage")),
            looped=pl.col("looped") | again,
            up=pl.when(found).then(pl.col("up_next")),
        )
    paths = paths.with_columns(tree=pl.when(~pl.col("looped")).then("tree"))
    columns = ("key", "code", "tree", "depth", "lineage", *(f"path_{loc}" for loc in locales))
    return paths.select(columns)


def _prepend(path: str, found: pl.Expr) -> pl.Expr:
    ancestor = pl.col(f"{path}_up")
    prefixed = pl.concat_str(ancestor, pl.lit(PATH_SEPARATOR), pl.col(path))
    return pl.when(found).then(prefixed).otherwise(pl.col(path)).alias(path)


def path_column(tree: str, locale: str) -> str:
    return f"category_path:{tree}:{locale}"


def code_column(tree: str) -> str:
    return f"category_code:{tree}"


def with_category_paths(
    products: pl.DataFrame, table: pl.DataFrame, trees: tuple[str, ...], locales: tuple[str, ...]
) -> pl.DataFrame:
    """``category_code:<tree>`` and ``category_path:<tree>:<locale>`` for each tree (a tree code
    as its root category spells it, or ``ANY_TREE``); ``categories`` respelled as the
    categories export does (an unknown code stays as the product gives it).

    All of it depends on the product's list of categories only, and products share a few
    thousand lists at most, so it is worked out once per distinct list and joined back to the
    products' lists alone (the wide product rows are not copied by the join)."""
    lists = products.select("categories").unique(maintain_order=True)
    derived = _per_list(lists.with_row_index("_list").lazy(), table, trees, locales)
    found = (
        products.lazy()
        .select("categories")
        .join(derived, on="categories", how="left", maintain_order="left", nulls_equal=True)
        .collect()
    )
    empty = pl.lit([], pl.List(pl.String))
    paths = [c for tree in trees for c in (code_column(tree), *_path_columns(tree, locales))]
    return products.with_columns(
        found["_categories"].fill_null(empty).alias("categories"),
        found["_lineage"].fill_null(empty).alias("category_lineage"),
        *(found[c] for c in paths),
    )


def _path_columns(tree: str, locales: tuple[str, ...]) -> list[str]:
    return [path_column(tree, loc) for loc in locales]


def _per_list(
    lists: pl.LazyFrame, table: pl.DataFrame, trees: tuple[str, ...], locales: tuple[str, ...]
) -> pl.LazyFrame:
    """Per distinct ``categories`` list (numbered ``_list``): ``_categories`` respelled,
    ``_lineage`` and each tree's deepest category and its paths."""
    exploded = (
        lists.select("_list", pl.col("categories").alias("category"))
        .explode("category")
        .drop_nulls("category")
        .with_columns(key=pl.col("category").str.to_lowercase())
        .join(
            table.lazy().select("key", "code", "tree", "depth", "lineage"),
            on="key",
            how="left",
            maintain_order="left",
        )
        # One code in two spellings (own ``SALE``, inherited ``sale``) is one category.
        .unique(["_list", "key"], keep="first", maintain_order=True)
    )
    lineage = pl.col("lineage").fill_null(pl.concat_list("key")).explode()
    spelled = exploded.group_by("_list", maintain_order=True).agg(
        pl.coalesce("code", "category").alias("_categories"),
        lineage.unique(maintain_order=True).alias("_lineage"),
    )
    frame = lists.join(spelled, on="_list", how="left")
    labelled = table.lazy().select("code", *(f"path_{loc}" for loc in locales))
    for tree in trees:
        # Unknown codes and looping categories are in no tree (``tree`` null).
        inside = exploded.filter(
            pl.col("tree").is_not_null()
            if tree == ANY_TREE
            else pl.col("tree").str.to_lowercase() == tree.lower()
        )
        deepest = (
            inside.group_by("_list", maintain_order=True)
            .agg(pl.col("code").get(pl.col("depth").fill_null(1).arg_max()).alias("_deepest"))
            .join(labelled, left_on="_deepest", right_on="code", how="left")
            .select(
                "_list",
                pl.col("_deepest").alias(code_column(tree)),
                *(pl.col(f"path_{loc}").alias(path_column(tree, loc)) for loc in locales),
            )
        )
        frame = frame.join(deepest, on="_list", how="left")
    return frame.drop("_list")
