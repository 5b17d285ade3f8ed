"""The master-data part of the golden record: every PIM value the channels need, inherited.

Pure functions on polars frames (no Dagster). Contract (see ``contracts.golden``):
- one row per product (variants included, product models not) with the identity and structure
  columns of ``MASTER_SCHEMA``, then one ``attr.<value column>`` String column per PIM value a
  channel uses (``attr.name-de_DE``, ``attr.description-de_DE-ecommerce``, ``attr.color``,
  ``attr.weight`` + ``attr.weight-unit``, ``attr.price-EUR``), then the category columns of each
  tree a channel reads (``golden.categories``);
- a variant takes each value from itself, else its parent model, else the root model;
  ``parent`` is the nearest model, ``item_group`` the root model, categories the union of the
  chain, ``variant_axes`` the attributes that tell it from its siblings;
- ``images``/``image_url``: the family's image attribute first (``golden.media``); media paths
  become URLs under ``media_base_url``, absolute URLs stay as they are;
- product text has no NUL or other control characters; select values stay option *codes* (the
  channel views turn them into labels in each channel's locale).
Codes are matched case-insensitively and keep the PIM's spelling.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from contracts.golden import ATTR, MASTER_SCHEMA, attribute_column
from contracts.text import without_controls
from golden import categories as cat
from golden.inheritance import inherit, resolve_models, variant_axes
from golden.media import with_images
from sources.akeneo_files import IMAGE_TYPES, PimExport
from sources.akeneo_files.items import MODEL_COLUMNS, PRODUCT_COLUMNS

TEXT_TYPES = frozenset({"pim_catalog_text", "pim_catalog_textarea"})


@dataclass(frozen=True)
class MasterNeeds:
    """What the channels read of the PIM: locales, the trees of their category paths, the
    attributes whose values they use (lower-cased codes; image attributes are added), the image
    role for families without an image attribute, and the media prefix."""

    locales: tuple[str, ...]
    trees: tuple[str, ...]
    attributes: frozenset[str]
    image_role: str | None
    media_base_url: str


def golden_master_data(export: PimExport, needs: MasterNeeds) -> pl.LazyFrame:
    """One golden master row per PIM product (``MASTER_SCHEMA`` + value and category columns)."""
    values = value_columns(export)
    models = resolve_models(_with_attr(export.product_models, values), values)
    products = inherit(_with_attr(export.products, values), models, values)
    products = variant_axes(products, export.family_variants)
    products = _with_family(products, export.families)
    table = cat.category_table(export.categories, needs.locales)
    products = cat.with_category_paths(products, table, needs.trees, needs.locales)
    imaged = with_images(
        products.lazy(), image_columns(export, values), needs.image_role, needs.media_base_url
    )
    text = [v for v in values if _is_text(v, export)]
    fixed = [pl.col(n).cast(t) for n, t in MASTER_SCHEMA.items()]
    # Exactly the contract's columns: a reader's extra property (``updated``, which only the
    # JSONL export has) must not make the golden record depend on the export's file kind.
    return imaged.select(*fixed, *values, *category_columns(needs)).with_columns(
        without_controls(pl.col(c)) for c in text
    )


def category_columns(needs: MasterNeeds) -> list[str]:
    """The category columns of the golden record, per tree in ``needs.trees`` order."""
    return [
        name
        for tree in needs.trees
        for name in (cat.code_column(tree), *(cat.path_column(tree, loc) for loc in needs.locales))
    ]


_PROPERTIES = frozenset({*PRODUCT_COLUMNS, *MODEL_COLUMNS})


def value_columns(export: PimExport) -> list[str]:
    """The value columns the products or models have, as ``attr.`` names, sorted: the golden
    record's schema must not depend on the export's kind (a CSV header's order, a JSON item's
    key order) nor on which product happens to come first."""
    found = {
        attribute_column(c)
        for c in (*export.products.columns, *export.product_models.columns)
        if c not in _PROPERTIES
    }
    return sorted(found)


def _with_attr(frame: pl.DataFrame, values: list[str]) -> pl.DataFrame:
    """Value columns renamed to their ``attr.`` names; the ones the frame lacks added empty."""
    renamed = frame.rename({c: attribute_column(c) for c in frame.columns if c not in _PROPERTIES})
    missing = [pl.lit(None, pl.String).alias(v) for v in values if v not in renamed.columns]
    return renamed.with_columns(missing)


def image_columns(export: PimExport, values: list[str]) -> dict[str, str]:
    """Image attribute code -> its value column (the not localized, not scoped one), in the
    attributes' sort order."""
    images = export.attributes.filter(pl.col("type").is_in(sorted(IMAGE_TYPES))).sort(
        "sort_order", "code", nulls_last=True
    )
    available = set(values)
    return {
        code: f"{ATTR}{code}" for code in images["code"].to_list() if f"{ATTR}{code}" in available
    }


def _with_family(products: pl.DataFrame, families: pl.DataFrame) -> pl.DataFrame:
    """``family`` spelled as the families export does, and the family's label and image
    attributes (``label_attribute``, ``main_image_attribute``)."""
    known = families.select(
        _key=pl.col("code").str.to_lowercase(),
        family_code=pl.col("code"),
        label_attribute=pl.col("attribute_as_label"),
        main_image_attribute=pl.col("attribute_as_image"),
    )
    keys = products.select(_key=pl.col("family").str.to_lowercase())
    found = keys.join(known, on="_key", how="left", maintain_order="left")
    return products.with_columns(
        family=pl.coalesce(found["family_code"], pl.col("family")),
        label_attribute=found["label_attribute"],
        main_image_attribute=found["main_image_attribute"],
    )


def _is_text(column: str, export: PimExport) -> bool:
    """Whether a value column holds text a channel shows (names, descriptions): those lose
    control characters; codes, numbers and media paths are kept byte for byte."""
    attribute = column.removeprefix(ATTR).split("-")[0].lower()
    types = dict(
        zip(
            export.attributes["code"].str.to_lowercase().to_list(),
            export.attributes["type"].to_list(),
            strict=True,
        )
    )
    return types.get(attribute, "pim_catalog_text") in TEXT_TYPES


def catalog_columns(schemas: Sequence[pl.Schema]) -> pl.DataFrame:
    """An empty frame with the master data columns of the whole catalog from the schemas of its
    shards' master data, in the order ``golden_master_data`` gives them for the whole export:
    the contract's columns, the value columns sorted, the category columns. A shard whose
    products lack an attribute lacks its column; an all-empty column is typed by a shard that
    has values."""
    found: dict[str, pl.DataType] = {}
    for schema in schemas:
        for name, dtype in schema.items():
            if found.get(name, pl.Null()) == pl.Null():
                found[name] = dtype
    fixed = [c for c in MASTER_SCHEMA if c in found]
    values = sorted(c for c in found if c.startswith(ATTR) and c not in MASTER_SCHEMA)
    rest = [c for c in found if c not in fixed and c not in values]
    return pl.DataFrame(schema={c: found[c] for c in (*fixed, *values, *rest)})


def with_catalog_columns(master: pl.DataFrame, columns: pl.DataFrame) -> pl.DataFrame:
    """``master`` with the catalog's columns (``catalog_columns``): missing ones empty."""
    return master.select(
        (pl.col(n) if n in master.columns else pl.lit(None)).cast(d).alias(n)
        for n, d in columns.schema.items()
    )
