"""The random product draws: every random choice of the PIM side, column-wise per block.

``draw_block`` returns one block's products and product models (``demo.streams``) as frames of
seeds and values; text is rendered later, chunk by chunk, so a million products take seconds and
bounded memory.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from demo.catalog import (
    ADJECTIVES,
    BRANDS,
    COLORS,
    EXTRA_CATEGORIES,
    FAMILIES,
    FAMILY_INDEX,
    LEAF_START,
    LEAVES,
    MATERIAL_START,
    MATERIALS,
    NOUN_START,
    PRINT_SECTION,
    SENTENCES,
    SUFFIXES,
    family_array,
)
from demo.defects import assign_defects
from demo.expressions import lookup, shift_days
from demo.identifiers import gtin13, media_keys, timestamps, uuids
from demo.streams import BLOCK
from demo.variants import draw_models, draw_variant_roots, variant_products


def draw_items(rng: np.random.Generator, families: np.ndarray, as_of: dt.date) -> pl.DataFrame:
    """What a simple product or a root model carries: text seeds, brand, material, categories...

    Text is rendered later, chunk by chunk, from the seeds (``demo.render_pim``).
    """
    rows = len(families)
    nouns = rng.integers(0, 1 << 30, rows) % np.array([len(f.nouns) for f in FAMILIES])[families]
    leaf_count = np.array([len(f.leaves) for f in FAMILIES])[families]
    cents_lo, cents_hi = family_array("price_cents").T[:, families]
    grams_lo, grams_hi = family_array("weight_grams").T[:, families]
    cents = (cents_lo + rng.random(rows) * (cents_hi - cents_lo)).astype(np.int64) // 100 * 100
    cents += np.array([90, 99, 49, 0])[rng.integers(0, 4, rows)]
    special = rng.random(rows)
    material_b = np.where(rng.random(rows) < 0.35, 1 + rng.integers(0, 2, rows), -1)
    warranty = np.array([1, 2, 3, 5])[rng.integers(0, 4, rows)]
    frame = pl.DataFrame(
        {
            "family_idx": families,
            "noun": NOUN_START[families] + nouns,
            "adj": rng.integers(0, len(ADJECTIVES), rows),
            "num": rng.integers(100, 10_000, rows),
            "brand_idx": rng.integers(0, len(BRANDS), rows),
            "suffix": np.where(special < 0.08, rng.integers(0, len(SUFFIXES), rows), -1),
            "formula": np.where(special > 0.994, rng.integers(0, 4, rows), -1),
            "desc_formula": np.where(np.abs(special - 0.5) < 0.002, rng.integers(0, 4, rows), -1),
            "sentence": rng.integers(0, len(SENTENCES), rows),
            "leaf": LEAF_START[families] + nouns % leaf_count,
            "extra": np.where(rng.random(rows) < 0.15, rng.integers(0, 2, rows), -1),
            "material_a": MATERIAL_START[families] + rng.integers(0, 3, rows),
            "material_b": np.where(material_b < 0, -1, MATERIAL_START[families] + material_b),
            "eco": rng.random(rows) < 0.3,
            "release": rng.integers(-30, 1500, rows),
            "warranty": warranty,
            "color_idx": rng.integers(0, len(COLORS), rows),
            "list_cents": cents,
            "weight_grams": grams_lo + (rng.random(rows) * (grams_hi - grams_lo)).astype(np.int64),
        }
    )
    return frame.with_columns(_item_columns(as_of)).drop(
        "leaf", "extra", "material_a", "material_b", "eco", "release", "warranty", "color_idx"
    )


def _has(attribute: str) -> pl.Expr:
    """True where the row's family has ``attribute``."""
    owners = [i for i, f in enumerate(FAMILIES) if attribute in f.attributes]
    return pl.col("family_idx").is_in(owners)


def _categories() -> pl.Expr:
    """The family's master leaf and its print section (both depth 3), in an order that depends
    on the drawn ``num`` (no extra draw), plus now and then a shallower extra category: which
    tree comes first must not decide a channel's path."""
    leaf = lookup("leaf", LEAVES)
    section = lookup("family_idx", [PRINT_SECTION[f.code] for f in FAMILIES])
    first = pl.when(pl.col("num") % 2 == 0).then(leaf).otherwise(section)
    second = pl.when(pl.col("num") % 2 == 0).then(section).otherwise(leaf)
    extra = lookup("extra", EXTRA_CATEGORIES)
    return pl.concat_list(first, second, extra).list.drop_nulls().alias("categories")


def _item_columns(as_of: dt.date) -> list[pl.Expr]:
    return [
        lookup("family_idx", [f.code for f in FAMILIES]).alias("family"),
        lookup("brand_idx", [code for code, _ in BRANDS]).alias("brand"),
        _categories(),
        pl.concat_list(lookup("material_a", MATERIALS), lookup("material_b", MATERIALS))
        .list.drop_nulls()
        .list.unique(maintain_order=True)
        .alias("material"),
        pl.when(_has("eco_friendly")).then("eco").alias("eco_friendly"),
        pl.when(_has("release_date"))
        .then(shift_days(as_of, -pl.col("release")))
        .alias("release_date"),
        pl.when(_has("warranty_years")).then("warranty").alias("warranty_years"),
        pl.when(_has("color") & (pl.col("family_idx") == FAMILY_INDEX["home"]))
        .then(lookup("color_idx", COLORS))
        .alias("color"),
    ]


@dataclass(frozen=True)
class Plan:
    """One drawn block: a row per product (``pidx`` order = sku order) and per product model."""

    products: pl.DataFrame
    models: pl.DataFrame


def draw_block(rng: np.random.Generator, block: int, first_model: int, as_of: dt.date) -> Plan:
    """Draw one whole block of ``BLOCK`` products: its product models (codes numbered on from
    ``first_model``), then its variant and simple products in a seeded shuffled order."""
    shape = draw_variant_roots(rng, BLOCK // 3)
    codes = pl.int_range(first_model + 1, first_model + pl.len() + 1)
    roots = pl.concat(
        [shape, draw_items(rng, shape["family_idx"].to_numpy(), as_of).drop("family_idx")],
        how="horizontal",
    ).with_columns(
        code=pl.format("PM{}", codes.cast(pl.String).str.zfill(6)), group=pl.int_range(pl.len())
    )
    models = draw_models(rng, roots.drop("group"), as_of)
    variants = variant_products(roots, BLOCK // 3)
    simple_count = BLOCK - variants.height
    simple_families = [i for i, f in enumerate(FAMILIES) if f.variant == "none"]
    shares = np.array([FAMILIES[i].share for i in simple_families])
    drawn = rng.choice(simple_families, size=simple_count, p=shares / shares.sum())
    simples = draw_items(rng, drawn, as_of).with_columns(
        parent=pl.lit(None, pl.String),
        size=pl.lit(None, pl.String),
        group=pl.int_range(roots.height, roots.height + pl.len()),
        slot=pl.lit(0),
    )
    catalog = pl.concat([variants, simples.select(variants.columns)], how="vertical_relaxed")
    return Plan(_finish_products(rng, _shuffled(rng, catalog), block * BLOCK, as_of), models)


def _shuffled(rng: np.random.Generator, catalog: pl.DataFrame) -> pl.DataFrame:
    """The products in a seeded order of groups (a root model's variants, or one simple product):
    the variants of a model stay together, so a cut block holds whole models but the last."""
    groups = int(catalog["group"].max()) + 1  # type: ignore[arg-type]
    position = np.argsort(rng.permutation(groups))
    order = pl.lit(pl.Series(position)).gather(pl.col("group"))
    return catalog.sort(order, "slot").drop("group", "slot")


def _finish_products(
    rng: np.random.Generator, catalog: pl.DataFrame, first_pidx: int, as_of: dt.date
) -> pl.DataFrame:
    """Give the shuffled products their sku, uuid, GTIN, image, status and defect."""
    rows = catalog.height
    simple = catalog["parent"].is_null().to_numpy()
    defects = assign_defects(rng, simple)
    pidx = np.arange(first_pidx, first_pidx + rows, dtype=np.int64)
    ean = gtin13(400_000_000_000 + pidx * 7 + 3)
    wrong = defects == "bad_gtin_check_digit"
    ean[wrong] = (
        ean[wrong] // 10 * 10 + (ean[wrong] % 10 + 1 + rng.integers(0, 9, wrong.sum())) % 10
    )
    return (
        catalog.with_columns(
            pidx=pl.Series(pidx),
            sku=pl.format("P{}", pl.lit(pl.Series(pidx + 1)).cast(pl.String).str.zfill(7)),
            uuid=uuids(rng, rows),
            ean=pl.Series(ean).cast(pl.String),
            media=media_keys(rng, rows),
            enabled=pl.Series(rng.random(rows) >= 0.01),
            updated=timestamps(rng, rows, as_of),
            defect=pl.Series(defects, dtype=pl.String),
        )
        .with_columns(
            image=pl.when(pl.col("parent").is_null() & (pl.col("defect") != "missing_image")).then(
                pl.format("{}_{}.jpg", "media", "sku")
            ),
        )
        .with_columns(  # a second image where the family has one; a missing image lacks both
            packshot=pl.when(_has("packshot") & pl.col("image").is_not_null()).then(
                pl.format("{}_{}_packshot.jpg", "media", "sku")
            ),
        )
        .drop("media")
    )
