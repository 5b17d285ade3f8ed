"""The master-data part of the golden record: PIM products with inherited values, per locale.

Pure functions on polars frames (no Dagster). Contract (see ``contracts.golden``):
- a variant takes each value from itself, else its parent model, else the root model;
  ``parent`` is the nearest model, ``item_group`` the root model, categories the union of the chain;
- a value that is not localizable (or not scopable) fills every locale column;
- product text (names, descriptions, brand, ...) has no NUL or other control characters;
- ``weight`` is the metric amount as an exact ``Decimal(38, 6)`` (null if not a number),
  ``weight_unit`` the Akeneo unit; ``image_url`` is ``media_base_url`` + the media path;
- ``category_path_<locale>`` runs from the tree root to the deepest of the product's categories
  (ties: the first in its list), labels joined with " > ", a missing label shown as the code.
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from contracts.config import AttributeRoles
from contracts.golden import MONEY, REJECTS_SCHEMA, golden_products_schema, localized
from contracts.text import without_controls
from sources.akeneo_files import PimExport, value_column

PATH_SEPARATOR = " > "
MAX_DEPTH = 32
_CODES = pl.List(pl.String)
PRODUCT_KEYS = ("sku", "uuid", "enabled", "family", "parent", "pim_source", "categories")
MODEL_KEYS = ("code", "parent", "categories")
IDENTITY = frozenset({"sku", "uuid", "family", "parent", "item_group", "pim_source"})
"""Codes, kept byte for byte: product text (names, descriptions, ...) loses control characters."""


def master_data_schema(locales: tuple[str, ...]) -> pl.Schema:
    """The golden columns ``sku`` through ``pim_source``, as ``golden_products_schema`` has them."""
    schema = golden_products_schema(locales, ())
    names = list(schema)
    return pl.Schema({n: schema[n] for n in names[: names.index("pim_source") + 1]})


def golden_master_data(
    export: PimExport,
    roles: AttributeRoles,
    locales: tuple[str, ...],
    scope: str,
    media_base_url: str,
) -> pl.LazyFrame:
    """One row per PIM product with exactly the ``master_data_schema(locales)`` columns."""
    sources = role_sources(roles, locales, scope)
    models = resolve_models(_role_frame(export.product_models, MODEL_KEYS, sources), list(sources))
    products = _role_frame(export.products, PRODUCT_KEYS, sources)
    products = inherit(products, models, list(sources))
    paths = category_paths(export.categories, locales)
    schema = master_data_schema(locales)
    text = [n for n in schema if n not in IDENTITY and schema[n] == pl.String]
    return (
        _with_category_paths(products, paths, locales)
        .with_columns(
            weight=pl.col("weight").str.strip_chars().cast(MONEY, strict=False),
            image_url=_url(pl.col("image"), media_base_url),
        )
        .select(pl.col(name).cast(dtype) for name, dtype in schema.items())
        .with_columns(without_controls(pl.col(n)) for n in text)
    )


def split_broken_lineage(export: PimExport) -> tuple[PimExport, pl.DataFrame]:
    """The export without products whose variant lineage is broken, and those products as
    REJECTS_SCHEMA rows (field ``parent``): ``parent_missing`` when the parent model (or a model
    above it) does not exist, ``model_cycle`` when the models' parents loop (value: the loop).

    Without this a variant of a missing model would be published grouped under a code that does
    not exist, and a loop would make shoes variants of a jacket."""
    broken = broken_models(export.product_models)
    products = export.products
    status = products.select("sku", "parent", "pim_source").join(
        broken, left_on="parent", right_on="code", how="left"
    )
    known = export.product_models.get_column("code")
    missing = pl.col("parent").is_not_null() & ~pl.col("parent").is_in(known.implode())
    rejects = status.filter(missing | pl.col("reason").is_not_null()).select(
        "sku",
        field=pl.lit("parent"),
        value=pl.when(missing).then(pl.col("parent")).otherwise(pl.col("detail")),
        reason=pl.when(missing).then(pl.lit("parent_missing")).otherwise(pl.col("reason")),
        source="pim_source",
    )
    kept = products.join(rejects.select("sku"), on="sku", how="anti")
    return replace(export, products=kept), rejects.cast(REJECTS_SCHEMA)


def broken_models(models: pl.DataFrame) -> pl.DataFrame:
    """``code, reason, detail`` for each product model whose chain of parents does not end at
    a root model: ``parent_missing`` (detail: the missing code) or ``model_cycle`` (detail: the
    loop, e.g. ``a > b > a``). Models are few and their chains short, so this walks them."""
    parents = dict(zip(models["code"].to_list(), models["parent"].to_list(), strict=True))
    verdicts: dict[str, tuple[str, str] | None] = {}
    for code in parents:
        chain: list[str] = []
        current: str | None = code
        verdict: tuple[str, str] | None = None
        while current is not None and current not in verdicts:
            chain.append(current)
            up = parents.get(current)
            if up is not None and up not in parents:
                verdict = ("parent_missing", up)
                break
            if up in chain:
                loop = [*chain[chain.index(up) :], up]
                verdict = ("model_cycle", " > ".join(loop))
                break
            current = up
        else:
            verdict = verdicts.get(current) if current is not None else None
        verdicts.update(dict.fromkeys(chain, verdict))
    rows = [(c, v[0], v[1]) for c, v in verdicts.items() if v is not None]
    schema = {"code": pl.String, "reason": pl.String, "detail": pl.String}
    return pl.DataFrame(rows, schema=schema, orient="row")


def role_sources(
    roles: AttributeRoles, locales: tuple[str, ...], scope: str
) -> dict[str, list[str]]:
    """Golden column -> PIM value columns to try, most specific first."""

    def variants(attribute: str, locale: str | None, suffix: str | None = None) -> list[str]:
        names = [value_column(attribute, loc, sc) for loc in (locale, None) for sc in (scope, None)]
        return [f"{n}-{suffix}" if suffix else n for n in names if n]

    sources = {
        "brand": variants(roles.brand, None),
        "gtin": variants(roles.gtin, None),
        "image": variants(roles.image, None),
        "color": variants(roles.color, None),
        "size": variants(roles.size, None),
        "weight": variants(roles.weight, None),
        "weight_unit": variants(roles.weight, None, "unit"),
    }
    for locale in locales:
        sources[localized("name", locale)] = variants(roles.name, locale)
        sources[localized("description", locale)] = variants(roles.description, locale)
    return {name: list(dict.fromkeys(columns)) for name, columns in sources.items()}


def _role_frame(
    frame: pl.DataFrame, keys: tuple[str, ...], sources: dict[str, list[str]]
) -> pl.LazyFrame:
    """``keys`` plus one text column per golden role (null when the PIM has none)."""
    values = [
        pl.coalesce(*present, pl.lit(None, pl.String)).alias(name)
        if (present := [pl.col(c) for c in columns if c in frame.columns])
        else pl.lit(None, pl.String).alias(name)
        for name, columns in sources.items()
    ]
    return frame.lazy().select(*keys, *values)


def resolve_models(models: pl.LazyFrame, values: list[str]) -> pl.DataFrame:
    """Each model with ``values`` and categories inherited from its ancestors, and its ``root``.

    Eager: models are few, and the number of levels (Akeneo allows two) decides the loop."""
    resolved = models.collect().with_columns(root=pl.col("code"), up=pl.col("parent"))
    ancestors = resolved.select("code", "parent", "categories", *values)
    for _ in range(MAX_DEPTH):
        if resolved["up"].is_null().all():
            break
        joined = resolved.join(ancestors, left_on="up", right_on="code", how="left", suffix="_up")
        resolved = joined.select(
            "code",
            "parent",
            *(pl.coalesce(v, f"{v}_up").alias(v) for v in values),
            _union("categories", "categories_up"),
            root=pl.when(pl.col("up").is_not_null()).then("up").otherwise("root"),
            up=pl.col("parent_up"),
        )
    return resolved.drop("up")


def inherit(products: pl.LazyFrame, models: pl.DataFrame, values: list[str]) -> pl.LazyFrame:
    """Products with missing values taken from their (resolved) parent model."""
    parents = models.lazy().select(
        pl.col("code").alias("parent"),
        pl.col("root").alias("root_up"),
        pl.col("categories").alias("categories_up"),
        *(pl.col(v).alias(f"{v}_up") for v in values),
    )
    return products.join(parents, on="parent", how="left", maintain_order="left").select(
        pl.exclude("categories", "categories_up", "root_up", *values, *(f"{v}_up" for v in values)),
        *(pl.coalesce(v, f"{v}_up").alias(v) for v in values),
        _union("categories", "categories_up"),
        item_group=pl.coalesce("root_up", "parent"),
    )


def _union(own: str, inherited: str) -> pl.Expr:
    empty = pl.lit([], _CODES)
    both = pl.concat_list(pl.col(own).fill_null(empty), pl.col(inherited).fill_null(empty))
    return both.list.unique(maintain_order=True).alias(own)


def category_paths(categories: pl.DataFrame, locales: tuple[str, ...]) -> pl.DataFrame:
    """Per category: ``depth`` (1 = tree root) and ``path_<locale>`` of labels from the root."""
    labels = [pl.coalesce(f"label_{loc}", "code").alias(f"path_{loc}") for loc in locales]
    nodes = categories.select("code", "parent", *labels)
    ancestors = nodes.select(
        pl.col("code").alias("up"),
        pl.col("parent").alias("parent_up"),
        *(pl.col(f"path_{loc}").alias(f"path_{loc}_up") for loc in locales),
    )
    paths = nodes.with_columns(depth=pl.lit(1, pl.Int64), up=pl.col("parent"))
    for _ in range(MAX_DEPTH):
        if paths["up"].is_null().all():
            break
        paths = paths.join(ancestors, on="up", how="left").select(
            "code",
            "parent",
            *(_prepend(f"path_{loc}") for loc in locales),
            depth=pl.col("depth") + pl.col("up").is_not_null().cast(pl.Int64),
            up=pl.col("parent_up"),
        )
    return paths.select("code", "depth", *(f"path_{loc}" for loc in locales))


def _prepend(path: str) -> pl.Expr:
    ancestor = pl.col(f"{path}_up")
    prefixed = pl.concat_str(ancestor, pl.lit(PATH_SEPARATOR), pl.col(path))
    return pl.when(ancestor.is_not_null()).then(prefixed).otherwise(pl.col(path)).alias(path)


def _with_category_paths(
    products: pl.LazyFrame, paths: pl.DataFrame, locales: tuple[str, ...]
) -> pl.LazyFrame:
    """Join the path of each product's deepest category; an unknown code is its own path."""
    depths = paths.lazy().select(pl.col("code").alias("category"), "depth")
    deepest = (
        products.select("sku", pl.col("categories").alias("category"))
        .explode("category")
        .drop_nulls("category")
        .join(depths, on="category", how="left", maintain_order="left")
        .group_by("sku", maintain_order=True)
        .agg(pl.col("category").get(pl.col("depth").fill_null(1).arg_max()).alias("deepest"))
    )
    labelled = paths.lazy().select(
        pl.col("code").alias("deepest"),
        *(pl.col(f"path_{loc}").alias(localized("category_path", loc)) for loc in locales),
    )
    unknown = [
        pl.coalesce(localized("category_path", loc), "deepest").alias(
            localized("category_path", loc)
        )
        for loc in locales
    ]
    return (
        products.join(deepest, on="sku", how="left", maintain_order="left")
        .join(labelled, on="deepest", how="left", maintain_order="left")
        .with_columns(unknown)
    )


def _url(path: pl.Expr, base: str) -> pl.Expr:
    """``base`` + path with exactly one slash between them."""
    return pl.lit(base.rstrip("/") + "/") + path.str.strip_chars_start("/")
