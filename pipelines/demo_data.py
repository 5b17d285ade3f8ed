"""The deterministic demo catalog: an Akeneo PIM export plus an ERP snapshot, with known defects.

The output is a pure function of ``(products, seed, as_of, pim_format)``: the same inputs write
byte-identical files, and every validity date is relative to ``as_of`` so the demo works on any
day. Everything is drawn column-wise (numpy) and rendered with polars expressions in chunks, so
the one-million-product benchmark catalog takes seconds and bounded memory.

Layout under ``target`` (``<id>`` is ``<as_of:%Y%m%d>T060000Z``)::

    pim/<id>/{products,product_models,attributes,families,categories}.{jsonl|csv}
    erp/<id>/{prices,stock,supply}.csv

PIM JSON lines have the Akeneo REST API item shapes (values as ``{"locale", "scope", "data"}``
lists; an attribute without a value is ``null``); the CSV variant is Akeneo's CSV export
(``;``-separated, lists comma-joined, booleans ``1``/``0``, empty cell = no value) of the same
catalog. Values live where Akeneo's variant model puts them: root model (name, description,
brand, material, eco_friendly, release_date; plus color and image in one-level families),
sub-model per color (color, image), variant product (sku, ean, size, weight, price).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
import polars as pl

from sources.erp_files import PRICE_COLUMNS, STOCK_COLUMNS

log = logging.getLogger(__name__)

LOCALES = ("de_DE", "en_US", "fr_FR")
SCOPES = ("ecommerce", "print")
WAREHOUSES = ("DE-HAM", "DE-MUC", "AT-VIE")
PIM_FILES = ("products", "product_models", "attributes", "families", "categories")
ERP_FILES = ("prices", "stock", "supply")
_CHUNK = 200_000  # rows rendered and written at once: bounds memory for the benchmark catalog

DEFECT_RATES: dict[str, float] = {
    "bad_gtin_check_digit": 0.003,
    "missing_name_de_DE": 0.003,
    "missing_ecommerce_description": 0.003,
    "missing_image": 0.003,
    "amount_decimal_comma": 0.0015,
    "amount_not_a_number": 0.001,
    "amount_zero": 0.001,
    "amount_negative": 0.001,
    "currency_EURO": 0.001,
    "per_quantity_zero": 0.001,
    "valid_from_after_valid_to": 0.0015,
    "short_ecommerce_description": 0.003,
}
"""Disjoint per-product defect kinds and their share of all products. The PIM text/image kinds
only hit simple products (variants inherit those values from their models), so their actual
share is about two thirds of the rate."""
_SIMPLE_ONLY = (
    "missing_name_de_DE",
    "missing_ecommerce_description",
    "short_ecommerce_description",
    "missing_image",
)
_SHORT_DESCRIPTIONS = ("Siehe Bild.", "See picture.", "Voir photo.")
"""A placeholder text per locale: published, but below the public channels' minimum length."""
_UNKNOWN_SKU_SHARE = 0.002


@dataclass(frozen=True)
class DemoSummary:
    """What ``generate_demo_data`` wrote: snapshot folders, row counts, injected defects."""

    pim_dir: Path
    erp_dir: Path
    products: int
    product_models: int
    price_rows: int
    stock_rows: int
    supply_rows: int
    defects: dict[str, int] = field(default_factory=dict)


# --- the static catalog -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Attribute:
    code: str
    type: str
    labels: tuple[str, str, str]
    localizable: bool = False
    scopable: bool = False


ATTRIBUTES = (
    _Attribute("sku", "pim_catalog_identifier", ("Artikelnummer", "SKU", "Référence")),
    _Attribute("name", "pim_catalog_text", ("Name", "Name", "Nom"), localizable=True),
    _Attribute(
        "description",
        "pim_catalog_textarea",
        ("Beschreibung", "Description", "Description"),
        localizable=True,
        scopable=True,
    ),
    _Attribute("brand", "pim_catalog_simpleselect", ("Marke", "Brand", "Marque")),
    _Attribute("color", "pim_catalog_simpleselect", ("Farbe", "Color", "Couleur")),
    _Attribute("size", "pim_catalog_simpleselect", ("Größe", "Size", "Taille")),
    _Attribute("ean", "pim_catalog_text", ("EAN", "EAN", "EAN")),
    _Attribute("image", "pim_catalog_image", ("Bild", "Image", "Image")),
    _Attribute("weight", "pim_catalog_metric", ("Gewicht", "Weight", "Poids")),
    _Attribute("price", "pim_catalog_price_collection", ("Preis", "Price", "Prix")),
    _Attribute("material", "pim_catalog_multiselect", ("Material", "Material", "Matière")),
    _Attribute(
        "eco_friendly", "pim_catalog_boolean", ("Umweltfreundlich", "Eco-friendly", "Écologique")
    ),
    _Attribute(
        "release_date", "pim_catalog_date", ("Erscheinungsdatum", "Release date", "Date de sortie")
    ),
    _Attribute(
        "warranty_years",
        "pim_catalog_number",
        ("Garantie (Jahre)", "Warranty (years)", "Garantie (ans)"),
    ),
)
_MODEL_ATTRIBUTES = (
    "name", "description", "brand", "color", "image", "material", "eco_friendly", "release_date"
)  # fmt: skip


@dataclass(frozen=True)
class _Family:
    code: str
    labels: tuple[str, str, str]
    nouns: tuple[tuple[str, str, str], ...]
    leaves: tuple[str, ...]
    variant: Literal["none", "one", "two"]
    price_cents: tuple[int, int]  # ERP list price range for ``per_quantity`` pieces
    weight_grams: tuple[int, int]
    materials: tuple[str, ...]
    attributes: tuple[str, ...]
    sizes: tuple[str, ...] = ()
    per_quantity: int = 1
    weight_unit: str = "KILOGRAM"
    share: float = 0.0  # share of the simple products


_BASE = ("sku", "name", "description", "brand", "ean", "image", "weight", "price", "material")
_CLOTHES = (*_BASE, "color", "size", "eco_friendly", "release_date")
_TOOLS = (*_BASE, "eco_friendly", "release_date", "warranty_years")
_SIZES = ("xs", "s", "m", "l", "xl", "xxl")
FAMILIES = (
    _Family(
        "tshirts", ("T-Shirts", "T-shirts", "T-shirts"), (("T-Shirt", "T-shirt", "T-shirt"),),
        ("tshirts",), "two", (990, 3990), (150, 320), ("cotton", "polyester", "elastane"),
        _CLOTHES, _SIZES,
    ),
    _Family(
        "shoes", ("Schuhe", "Shoes", "Chaussures"), (("Sneaker", "Sneaker", "Baskets"),),
        ("shoes",), "two", (3990, 14990), (500, 1400), ("leather", "rubber", "textile"),
        _CLOTHES, tuple(str(s) for s in range(38, 47)),
    ),
    _Family(
        "jackets", ("Jacken", "Jackets", "Vestes"),
        (("Arbeitsjacke", "Work jacket", "Veste de travail"),), ("jackets", "workwear"), "one",
        (5990, 24990), (600, 1800), ("polyester", "cotton", "wool"), _CLOTHES, _SIZES,
    ),
    _Family(
        "power_tools", ("Elektrowerkzeuge", "Power tools", "Outillage électrique"),
        (("Akku-Bohrschrauber", "Cordless drill", "Perceuse-visseuse sans fil"),
         ("Winkelschleifer", "Angle grinder", "Meuleuse d'angle"),
         ("Stichsäge", "Jigsaw", "Scie sauteuse"),
         ("Schlagbohrmaschine", "Hammer drill", "Perceuse à percussion")),
        ("power_tools", "power_tool_accessories"), "none", (3990, 49990), (900, 4500),
        ("steel", "plastic", "aluminium"), _TOOLS, share=0.2,
    ),
    _Family(
        "hand_tools", ("Handwerkzeuge", "Hand tools", "Outillage à main"),
        (("Schraubendreher-Set", "Screwdriver set", "Jeu de tournevis"),
         ("Hammer", "Hammer", "Marteau"),
         ("Wasserwaage", "Spirit level", "Niveau à bulle"),
         ("Zange", "Pliers", "Pince")),
        ("hand_tools", "measuring_tools"), "none", (499, 7990), (150, 1600),
        ("steel", "wood", "plastic"), (*_BASE, "warranty_years"), share=0.2,
    ),
    _Family(
        "screws", ("Schrauben & Dübel", "Screws & plugs", "Vis & chevilles"),
        (("Spanplattenschraube", "Chipboard screw", "Vis à aggloméré"),
         ("Holzschraube", "Wood screw", "Vis à bois"),
         ("Dübel", "Wall plug", "Cheville"),
         ("Nagel", "Nail", "Clou")),
        ("screws", "screws", "dowels", "nails"), "none", (250, 2990), (2, 40),
        ("steel", "zinc", "nylon"), _BASE, per_quantity=100, weight_unit="GRAM", share=0.15,
    ),
    _Family(
        "garden", ("Garten", "Garden", "Jardin"),
        (("Gartenschere", "Pruning shears", "Sécateur"),
         ("Gießkanne", "Watering can", "Arrosoir"),
         ("Pflanzkübel", "Planter", "Jardinière"),
         ("Rasenmäher", "Lawn mower", "Tondeuse à gazon")),
        ("garden_tools", "watering", "planters", "lawn_care"), "none", (590, 19990),
        (200, 25000), ("plastic", "steel", "wood"), _TOOLS, share=0.2,
    ),
    _Family(
        "home", ("Wohnen", "Home", "Maison"),
        (("Stehleuchte", "Floor lamp", "Lampadaire"),
         ("Küchenwaage", "Kitchen scale", "Balance de cuisine"),
         ("Handtuchhalter", "Towel rail", "Porte-serviettes"),
         ("Aufbewahrungsbox", "Storage box", "Boîte de rangement")),
        ("lighting", "kitchen", "bathroom", "storage"), "none", (990, 14990), (300, 6000),
        ("glass", "plastic", "aluminium", "wood"),
        (*_BASE, "color", "eco_friendly", "release_date"), share=0.25,
    ),
)  # fmt: skip
_FAMILY_VARIANT = {"tshirts": "tshirts_color_size", "shoes": "shoes_color_size"}
_FAMILY_VARIANT["jackets"] = "jackets_size"

# (code, parent, de_DE, en_US, fr_FR): one tree "master", three levels deep.
CATEGORIES: tuple[tuple[str, str | None, str, str, str], ...] = (
    ("master", None, "Hauptkatalog", "Master catalog", "Catalogue principal"),
    ("clothing", "master", "Bekleidung", "Clothing", "Vêtements"),
    ("tshirts", "clothing", "T-Shirts", "T-shirts", "T-shirts"),
    ("shoes", "clothing", "Schuhe", "Shoes", "Chaussures"),
    ("jackets", "clothing", "Jacken", "Jackets", "Vestes"),
    ("workwear", "clothing", "Arbeitskleidung", "Workwear", "Vêtements de travail"),
    ("tools", "master", "Werkzeuge", "Tools", "Outils"),
    ("power_tools", "tools", "Elektrowerkzeuge", "Power tools", "Outillage électrique"),
    ("power_tool_accessories", "tools", "Zubehör", "Accessories", "Accessoires"),
    ("hand_tools", "tools", "Handwerkzeuge", "Hand tools", "Outillage à main"),
    ("measuring_tools", "tools", "Messwerkzeuge", "Measuring tools", "Instruments de mesure"),
    ("hardware", "master", "Eisenwaren", "Hardware", "Quincaillerie"),
    ("screws", "hardware", "Schrauben", "Screws", "Vis"),
    ("dowels", "hardware", "Dübel", "Wall plugs", "Chevilles"),
    ("nails", "hardware", "Nägel", "Nails", "Clous"),
    ("fittings", "hardware", "Beschläge", "Fittings", "Ferrures"),
    ("garden", "master", "Garten", "Garden", "Jardin"),
    ("garden_tools", "garden", "Gartengeräte", "Garden tools", "Outils de jardin"),
    ("watering", "garden", "Bewässerung", "Watering", "Arrosage"),
    ("planters", "garden", "Pflanzgefäße", "Planters", "Jardinières"),
    ("lawn_care", "garden", "Rasenpflege", "Lawn care", "Entretien de la pelouse"),
    ("home", "master", "Wohnen & Küche", "Home & kitchen", "Maison & cuisine"),
    ("lighting", "home", "Leuchten", "Lighting", "Luminaires"),
    ("kitchen", "home", "Küche", "Kitchen", "Cuisine"),
    ("bathroom", "home", "Bad", "Bathroom", "Salle de bain"),
    ("storage", "home", "Aufbewahrung", "Storage", "Rangement"),
    ("new_arrivals", "master", "Neuheiten", "New arrivals", "Nouveautés"),
    ("sale", "master", "Sale %", "Sale %", "Soldes %"),
)
_EXTRA_CATEGORIES = ("new_arrivals", "sale")  # depth 2, so a family leaf (depth 3) is deepest

# (option code, label used in names): labels exercise "&", "'", umlauts, accents.
BRANDS = (
    ("acme", "Acme"),
    ("mueller_soehne", "Müller & Söhne"),
    ("kraftwerk", "Kraftwerk"),
    ("hammer_co", "Hammer & Co."),
    ("elan_outdoor", "Élan Outdoor"),
    ("nordlicht", "Nordlicht"),
    ("obrien_tools", "O'Brien Tools"),
    ("soeren", "Søren"),
)
COLORS = ("black", "white", "red", "blue", "green", "grey", "yellow", "navy")
_ADJECTIVES = (
    ("Kompakt", "Compact", "Compact"),
    ("Profi", "Pro", "Pro"),
    ("Classic", "Classic", "Classique"),
    ("Öko", "Eco", "Éco"),
    ("Premium", "Premium", "Premium"),
    ("Leicht", "Light", "Léger"),
    ("Groß", "Large", "Grand"),
)
_SUFFIXES = (' "Limited"', " <Edition 2>", " & more", " 🌿", " l'Original", " Ø 30 cm", ' 1/2"')
_SUFFIXES += (" ; Set",)
_NAME_PREFIXES = ("=1+1 ", "+49 ", "-20% ", "@home ")  # spreadsheet formula injection
_DESCRIPTION_PREFIXES = ('=HYPERLINK("http://evil.example") ', "@SUM(A1) ", "+ ", "- ")
_SENTENCES = (
    (
        "Robust & langlebig \u2013 ideal für den täglichen Einsatz.",
        "Sturdy & durable \u2013 ideal for everyday use.",
        "Robuste & durable \u2013 idéal pour un usage quotidien.",
    ),
    (
        "Geprüfte Qualität, „made in Germany“.",
        'Tested quality, "made in Germany".',
        "Qualité contrôlée, « made in Germany ».",
    ),
    (
        "Mit <strong>Extra</strong>-Zubehör im Koffer.",
        "Comes with <strong>extra</strong> accessories in a case.",
        "Livré avec des accessoires <strong>supplémentaires</strong>.",
    ),
    (
        "Leicht, ergonomisch und wartungsarm.",
        "Light, ergonomic and low-maintenance.",
        "Léger, ergonomique et sans entretien.",
    ),
    (
        "Ökologisch hergestellt, 100 % recycelbar.",
        "Eco-friendly production, 100% recyclable.",
        "Fabrication écologique, 100 % recyclable.",
    ),
)
_FAMILY_INDEX = {f.code: i for i, f in enumerate(FAMILIES)}
_NOUNS = tuple(noun for family in FAMILIES for noun in family.nouns)
_LEAVES = tuple(leaf for family in FAMILIES for leaf in family.leaves)
_MATERIALS = tuple(m for family in FAMILIES for m in family.materials)


def _offsets(sizes: Sequence[int]) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)


_NOUN_START = _offsets([len(f.nouns) for f in FAMILIES])
_LEAF_START = _offsets([len(f.leaves) for f in FAMILIES])
_MATERIAL_START = _offsets([len(f.materials) for f in FAMILIES])


def _family_array(attribute: str) -> np.ndarray:
    return np.array([getattr(f, attribute) for f in FAMILIES])


def _lookup(column: str | pl.Expr, values: Sequence[object], default: object = None) -> pl.Expr:
    """Map an integer index column onto ``values``; indexes outside map to ``default``."""
    expr = pl.col(column) if isinstance(column, str) else column
    return expr.replace_strict(dict(enumerate(values)), default=default)


# --- numeric helpers ----------------------------------------------------------------------------


def gtin13(base12: np.ndarray) -> np.ndarray:
    """Append the GS1 check digit to 12-digit integers (weights 1,3,1,3,... from the left)."""
    digits = (base12[:, None] // 10 ** np.arange(11, -1, -1, dtype=np.int64)) % 10
    check = (10 - (digits @ np.tile([1, 3], 6)) % 10) % 10
    return base12 * 10 + check


def _decimal(scaled: pl.Expr, places: int) -> pl.Expr:
    """Render an integer count of ``10**-places`` units as an exact decimal string ("-1.50")."""
    unit = 10**places
    sign = pl.when(scaled < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    whole = (scaled.abs() // unit).cast(pl.String)
    return pl.concat_str(
        sign, whole, pl.lit("."), (scaled.abs() % unit).cast(pl.String).str.zfill(places)
    )


def _percent(cents: pl.Expr, percent: int | pl.Expr) -> pl.Expr:
    """``percent`` of an integer cent amount, rounded half up to whole cents."""
    return (cents * percent + 50) // 100


def _hex(rng: np.random.Generator, rows: int, nbytes: int) -> np.ndarray:
    """``rows`` random lower-case hex strings of ``2 * nbytes`` characters, as a uint8 matrix."""
    raw = rng.integers(0, 256, size=(rows, nbytes), dtype=np.uint8)
    digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    out = np.empty((rows, 2 * nbytes), dtype=np.uint8)
    out[:, 0::2] = digits[raw >> 4]
    out[:, 1::2] = digits[raw & 15]
    return out


def _strings(chars: np.ndarray) -> pl.Series:
    """A matrix of ASCII codes (no NUL) as a polars String series, one row per string."""
    width = chars.shape[1]
    return pl.Series(np.ascontiguousarray(chars).view(f"S{width}").ravel()).cast(pl.String)


def _uuids(rng: np.random.Generator, rows: int) -> pl.Series:
    """Random version-4 UUIDs drawn from ``rng``, hence deterministic per seed."""
    chars = _hex(rng, rows, 16)
    chars[:, 12] = ord("4")
    chars[:, 16] = np.frombuffer(b"89ab", dtype=np.uint8)[chars[:, 16] % 4]
    dashed = np.full((rows, 36), ord("-"), dtype=np.uint8)
    for start, stop, at in ((0, 8, 0), (8, 12, 9), (12, 16, 14), (16, 20, 19), (20, 32, 24)):
        dashed[:, at : at + stop - start] = chars[:, start:stop]
    return _strings(dashed)


def _media_keys(rng: np.random.Generator, rows: int) -> pl.Series:
    """Akeneo catalog media key prefixes like ``a/3/f/0/a3f0c2...``; ``_<code>.jpg`` follows."""
    chars = _hex(rng, rows, 12)
    out = np.full((rows, 32), ord("/"), dtype=np.uint8)
    out[:, 0:8:2] = chars[:, :4]
    out[:, 8:32] = chars
    return _strings(out)


def _timestamps(rng: np.random.Generator, rows: int, as_of: dt.date) -> pl.Series:
    """``updated`` timestamps within the 400 days before ``as_of`` 06:00 UTC, ISO 8601."""
    start = np.datetime64(dt.datetime.combine(as_of, dt.time(6)), "ms")
    seconds = rng.integers(60, 400 * 86_400, rows).astype("timedelta64[s]")
    return pl.Series((start - seconds).astype("datetime64[ms]")).dt.strftime(
        "%Y-%m-%dT%H:%M:%S+00:00"
    )


def _days(as_of: dt.date, offsets: pl.Expr) -> pl.Expr:
    """``as_of`` shifted by an integer day-offset column (null stays null)."""
    return pl.lit(as_of) + pl.duration(days=offsets)


# --- the plan: every random draw, made once, column-wise ----------------------------------------


def _items(rng: np.random.Generator, families: np.ndarray, as_of: dt.date) -> pl.DataFrame:
    """What a simple product or a root model carries: text seeds, brand, material, categories...

    Text is rendered later, chunk by chunk, from the seeds (``_text_columns``).
    """
    rows = len(families)
    nouns = rng.integers(0, 1 << 30, rows) % np.array([len(f.nouns) for f in FAMILIES])[families]
    leaf_count = np.array([len(f.leaves) for f in FAMILIES])[families]
    cents_lo, cents_hi = _family_array("price_cents").T[:, families]
    grams_lo, grams_hi = _family_array("weight_grams").T[:, families]
    cents = (cents_lo + rng.random(rows) * (cents_hi - cents_lo)).astype(np.int64) // 100 * 100
    cents += np.array([90, 99, 49, 0])[rng.integers(0, 4, rows)]
    special = rng.random(rows)
    material_b = np.where(rng.random(rows) < 0.35, 1 + rng.integers(0, 2, rows), -1)
    warranty = np.array([1, 2, 3, 5])[rng.integers(0, 4, rows)]
    frame = pl.DataFrame(
        {
            "family_idx": families,
            "noun": _NOUN_START[families] + nouns,
            "adj": rng.integers(0, len(_ADJECTIVES), rows),
            "num": rng.integers(100, 10_000, rows),
            "brand_idx": rng.integers(0, len(BRANDS), rows),
            "suffix": np.where(special < 0.08, rng.integers(0, len(_SUFFIXES), rows), -1),
            "formula": np.where(special > 0.994, rng.integers(0, 4, rows), -1),
            "desc_formula": np.where(np.abs(special - 0.5) < 0.002, rng.integers(0, 4, rows), -1),
            "sentence": rng.integers(0, len(_SENTENCES), rows),
            "leaf": _LEAF_START[families] + nouns % leaf_count,
            "extra": np.where(rng.random(rows) < 0.15, rng.integers(0, 2, rows), -1),
            "material_a": _MATERIAL_START[families] + rng.integers(0, 3, rows),
            "material_b": np.where(material_b < 0, -1, _MATERIAL_START[families] + material_b),
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


def _item_columns(as_of: dt.date) -> list[pl.Expr]:
    return [
        _lookup("family_idx", [f.code for f in FAMILIES]).alias("family"),
        _lookup("brand_idx", [code for code, _ in BRANDS]).alias("brand"),
        pl.concat_list(_lookup("leaf", _LEAVES), _lookup("extra", _EXTRA_CATEGORIES))
        .list.drop_nulls()
        .alias("categories"),
        pl.concat_list(_lookup("material_a", _MATERIALS), _lookup("material_b", _MATERIALS))
        .list.drop_nulls()
        .list.unique(maintain_order=True)
        .alias("material"),
        pl.when(_has("eco_friendly")).then("eco").alias("eco_friendly"),
        pl.when(_has("release_date")).then(_days(as_of, -pl.col("release"))).alias("release_date"),
        pl.when(_has("warranty_years")).then("warranty").alias("warranty_years"),
        pl.when(_has("color") & (pl.col("family_idx") == _FAMILY_INDEX["home"]))
        .then(_lookup("color_idx", COLORS))
        .alias("color"),
    ]


def _variant_roots(rng: np.random.Generator, variants: int) -> pl.DataFrame:
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
    return _lookup((pl.col("color_offset") + slot) % len(COLORS), COLORS)


def _size() -> pl.Expr:
    """Consecutive sizes from the family's range, starting at a per-root offset."""
    expr = pl.lit(None, pl.String)
    for family in FAMILIES:
        if family.sizes:
            span = len(family.sizes) - pl.col("nsizes") + 1
            index = pl.col("size_offset") % span + pl.col("size_slot")
            code = _lookup(index, family.sizes)
            expr = pl.when(pl.col("family") == family.code).then(code).otherwise(expr)
    return expr


@dataclass(frozen=True)
class _Plan:
    products: pl.DataFrame
    models: pl.DataFrame


def _plan(rng: np.random.Generator, products: int, as_of: dt.date) -> _Plan:
    """Draw the whole catalog: product models, then products in a seeded shuffled order."""
    shape = _variant_roots(rng, products // 3)
    roots = pl.concat(
        [shape, _items(rng, shape["family_idx"].to_numpy(), as_of).drop("family_idx")],
        how="horizontal",
    ).with_columns(
        code=pl.format("PM{}", pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(6))
    )
    models = _models(rng, roots, as_of)
    variants = _variants(roots, products // 3)
    simple_count = products - variants.height
    simple_families = [i for i, f in enumerate(FAMILIES) if f.variant == "none"]
    shares = np.array([FAMILIES[i].share for i in simple_families])
    drawn = rng.choice(simple_families, size=simple_count, p=shares / shares.sum())
    simples = _items(rng, drawn, as_of).with_columns(
        parent=pl.lit(None, pl.String), size=pl.lit(None, pl.String)
    )
    catalog = pl.concat([variants, simples.select(variants.columns)], how="vertical_relaxed")
    catalog = catalog[rng.permutation(products)] if products else catalog
    return _Plan(_finish_products(rng, catalog, as_of), models)


def _models(rng: np.random.Generator, roots: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
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
    media = _media_keys(rng, models.height)
    return models.with_columns(
        family_variant=pl.col("family").replace_strict(_FAMILY_VARIANT),
        image=pl.when(pl.col("color").is_not_null()).then(
            pl.format("{}_{}.jpg", pl.lit(media), "code")
        ),
        updated=_timestamps(rng, models.height, as_of),
        defect=pl.lit(""),
        sku=pl.lit(None, pl.String),
    )


def _variants(roots: pl.DataFrame, count: int) -> pl.DataFrame:
    """Variant products of the roots: one per (color, size) slot, the first ``count`` of them."""
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
    )


_PRODUCT_ONLY_NULLS = (
    "noun", "adj", "num", "brand_idx", "suffix", "formula", "desc_formula", "sentence",
    "brand", "material", "eco_friendly", "release_date", "warranty_years", "color",
)  # fmt: skip


def _finish_products(
    rng: np.random.Generator, catalog: pl.DataFrame, as_of: dt.date
) -> pl.DataFrame:
    """Give the shuffled products their sku, uuid, GTIN, image, status and defect."""
    rows = catalog.height
    simple = catalog["parent"].is_null().to_numpy()
    defects = _assign_defects(rng, simple)
    pidx = np.arange(rows, dtype=np.int64)
    ean = gtin13(400_000_000_000 + pidx * 7 + 3)
    wrong = defects == "bad_gtin_check_digit"
    ean[wrong] = (
        ean[wrong] // 10 * 10 + (ean[wrong] % 10 + 1 + rng.integers(0, 9, wrong.sum())) % 10
    )
    return (
        catalog.with_columns(
            pidx=pl.Series(pidx),
            sku=pl.format("P{}", pl.int_range(1, rows + 1).cast(pl.String).str.zfill(7)),
            uuid=_uuids(rng, rows),
            ean=pl.Series(ean).cast(pl.String),
            media=_media_keys(rng, rows),
            enabled=pl.Series(rng.random(rows) >= 0.01),
            updated=_timestamps(rng, rows, as_of),
            defect=pl.Series(defects, dtype=pl.String),
        )
        .with_columns(
            image=pl.when(pl.col("parent").is_null() & (pl.col("defect") != "missing_image")).then(
                pl.format("{}_{}.jpg", "media", "sku")
            ),
        )
        .drop("media")
    )


def _assign_defects(rng: np.random.Generator, simple: np.ndarray) -> np.ndarray:
    """One disjoint defect kind per product ("" = none); text/image kinds only on simple ones."""
    kinds = np.array([*DEFECT_RATES, ""], dtype=object)
    edges = np.cumsum(list(DEFECT_RATES.values()))
    drawn = kinds[np.searchsorted(edges, rng.random(len(simple)), side="right")]
    drawn[np.isin(drawn, _SIMPLE_ONLY) & ~simple] = ""
    return drawn.astype(str)


# --- ERP draws: per product, so ERP rows can be rendered chunk by chunk -------------------------


def _erp_draws(rng: np.random.Generator, defects: np.ndarray) -> pl.DataFrame:
    """Which price, stock and supply rows each product gets, and their numbers."""
    rows = len(defects)
    u = rng.random((rows, 12))
    priced = ~((u[:, 0] < 0.02) & (defects == ""))
    change = priced & (u[:, 1] < 0.05)
    no_stock = u[:, 7] < 0.03
    out_of_stock = ~no_stock & (u[:, 8] < 0.10)
    present = rng.random((rows, 3)) < np.array([0.85, 0.6, 0.35])
    present[~present.any(axis=1), 0] = True
    over = ~no_stock & ~out_of_stock & (u[:, 9] < 0.02)
    present[over, 0] = True
    present[no_stock] = False
    on_hand = rng.integers(0, 300, (rows, 3))
    on_hand[out_of_stock] = 0
    reserved = (on_hand * rng.random((rows, 3)) * 0.3).astype(np.int64)
    reserved[over, 0] = on_hand[over, 0] + rng.integers(1, 11, over.sum())
    supply = u[:, 10]
    columns: dict[str, np.ndarray] = {
        "priced": priced,
        "change": change,
        "future": priced & ~change & (u[:, 2] < 0.03),
        "tiers": priced & (u[:, 3] < 0.15),
        "group": priced & (u[:, 4] < 0.30),
        "customer": priced & (u[:, 5] < 0.10),
        "expired": priced & (u[:, 6] < 0.04),
        "since": np.where(change, 0, -rng.integers(30, 700, rows)),
        "future_from": rng.integers(7, 61, rows),
        "group_since": -rng.integers(10, 400, rows),
        "lead_time": np.where((supply < 0.55), rng.integers(2, 46, rows), -1),
        "receipt": np.where((supply < 0.40) | ((supply >= 0.55) & (supply < 0.65)),
                            rng.integers(1, 61, rows), -1),
        "supply_row": supply < 0.67,
    }  # fmt: skip
    for w in range(len(WAREHOUSES)):
        columns |= {f"present_{w}": present[:, w], f"on_hand_{w}": on_hand[:, w]}
        columns[f"reserved_{w}"] = reserved[:, w]
    return pl.DataFrame(columns).with_columns(pl.col("lead_time", "receipt").replace(-1, None))


def _unknown_skus(first_pidx: int, count: int, rng: np.random.Generator) -> pl.DataFrame:
    """ERP-only products (e.g. discontinued in the PIM): one list price, stock, supply each."""
    pidx = np.arange(first_pidx, first_pidx + count, dtype=np.int64)
    return pl.DataFrame(
        {
            "pidx": pidx,
            "family_idx": np.zeros(count, dtype=np.int64),
            "list_cents": rng.integers(5, 200, count) * 100 + 90,
            "priced": np.ones(count, dtype=bool),
            "since": -rng.integers(30, 700, count),
            "present_0": np.ones(count, dtype=bool),
            "on_hand_0": rng.integers(0, 50, count),
            "reserved_0": np.zeros(count, dtype=np.int64),
            "lead_time": rng.integers(2, 46, count),
            "receipt": rng.integers(1, 61, count),
            "supply_row": np.ones(count, dtype=bool),
        }
    ).with_columns(
        sku=pl.format("P{}", (pl.col("pidx") + 1).cast(pl.String).str.zfill(7)),
        defect=pl.lit(""),
        **{c: pl.lit(False) for c in ("change", "future", "tiers", "group", "customer")},
        expired=pl.lit(False),
        future_from=pl.lit(0),
        group_since=pl.lit(0),
        **{f"present_{w}": pl.lit(False) for w in (1, 2)},
        **{f"{c}_{w}": pl.lit(0) for c in ("on_hand", "reserved") for w in (1, 2)},
    )


# --- rendering: JSON lines and CSV cells from the plan ------------------------------------------


def _text_columns() -> list[pl.Expr]:
    """``name_<locale>`` and ``description_<locale>_<scope>`` rendered from the text seeds."""
    brand = _lookup("brand_idx", [label for _, label in BRANDS])
    prefix = _lookup("formula", _NAME_PREFIXES, default="")
    suffix = _lookup("suffix", _SUFFIXES, default="")
    description_prefix = _lookup("desc_formula", _DESCRIPTION_PREFIXES, default="")
    exprs = []
    for i, locale in enumerate(LOCALES):
        noun = _lookup("noun", [n[i] for n in _NOUNS])
        adjective = _lookup("adj", [a[i] for a in _ADJECTIVES])
        sentence = _lookup("sentence", [s[i] for s in _SENTENCES])
        number = pl.col("num").cast(pl.String)
        words = pl.concat_str(brand, noun, adjective, number, separator=" ")
        name = pl.concat_str(prefix, words, suffix)
        missing_name = pl.col("defect") == f"missing_name_{locale}"
        exprs.append(pl.when(~missing_name).then(name).alias(f"name_{locale}"))
        ecommerce = pl.concat_str(description_prefix, name, pl.lit(". "), sentence)
        missing = (pl.col("defect") == "missing_ecommerce_description") & (pl.col("num") % 3 == i)
        short = pl.col("defect") == "short_ecommerce_description"
        ecommerce = pl.when(short).then(pl.lit(_SHORT_DESCRIPTIONS[i])).otherwise(ecommerce)
        exprs.append(pl.when(~missing).then(ecommerce).alias(f"description_{locale}_ecommerce"))
        printed = pl.concat_str(noun, pl.lit(" "), adjective, pl.lit(" \u2013 "), brand)
        exprs.append(printed.alias(f"description_{locale}_print"))
    return exprs


def _measure_columns() -> list[pl.Expr]:
    """Weight (metric, 4 decimals) and the informative PIM price (EUR/USD, 2 decimals).

    The PIM price is deliberately 1.00 above the ERP list price: the ERP is authoritative.
    """
    unit = _lookup("family_idx", [f.weight_unit for f in FAMILIES])
    grams = pl.col("weight_grams")
    scaled = pl.when(unit == "GRAM").then(grams * 10_000).otherwise(grams * 10)
    return [
        _decimal(scaled, 4).alias("weight_amount"),
        unit.alias("weight_unit"),
        _decimal(pl.col("list_cents") + 100, 2).alias("price_EUR"),
        _decimal(_percent(pl.col("list_cents"), 108) + 100, 2).alias("price_USD"),
    ]


def _single(data: pl.Expr) -> pl.Expr:
    """A non-localizable, non-scopable Akeneo value list ``[{"locale", "scope", "data"}]``."""
    entry = pl.struct(locale=pl.lit(None, pl.String), scope=pl.lit(None, pl.String), data=data)
    return pl.when(data.is_not_null()).then(pl.concat_list(entry))


def _grouped(
    frame: pl.DataFrame,
    data: Sequence[str],
    labels: dict[str, Sequence[str | None]],
    field: str,
    *,
    field_first: bool = False,
) -> pl.Series:
    """Per row, a list of structs ``{**labels[i], field: row[data[i]]}``, null entries dropped.

    Built long (explode) and grouped back, because ``concat_list`` of several struct columns
    is orders of magnitude slower in polars. A row without any entry gets null.
    """
    index = pl.int_range(pl.len(), dtype=pl.UInt32).alias("row")
    long = frame.select(
        index,
        pl.concat_list(data).alias(field),
        *(pl.lit(list(v), pl.List(pl.String)).alias(k) for k, v in labels.items()),
    )
    long = long.explode(field, *labels).drop_nulls(field)
    order = [field, *labels] if field_first else [*labels, field]
    entries = pl.struct(*order).alias(field)
    grouped = long.group_by("row", maintain_order=True).agg(entries)
    rows = frame.select(index).join(grouped, on="row", how="left", maintain_order="left")
    return rows[field]


def _localized_values(frame: pl.DataFrame) -> dict[str, pl.Series]:
    """``name`` (per locale) and ``description`` (per locale and scope) value lists."""
    described = [(lo, sc) for lo in LOCALES for sc in SCOPES]
    return {
        "name": _grouped(
            frame,
            [f"name_{lo}" for lo in LOCALES],
            {"locale": LOCALES, "scope": [None] * len(LOCALES)},
            "data",
        ),
        "description": _grouped(
            frame,
            [f"description_{lo}_{sc}" for lo, sc in described],
            {"locale": [lo for lo, _ in described], "scope": [sc for _, sc in described]},
            "data",
        ),
    }


def _json_value(code: str) -> pl.Expr:
    """The value list of ``code`` from the rendered columns (name/description come grouped)."""
    if code in ("name", "description"):
        return pl.col(f"{code}_values")
    if code == "weight":
        weight = pl.struct(amount="weight_amount", unit="weight_unit")
        return _single(pl.when(pl.col("weight_amount").is_not_null()).then(weight))
    if code == "price":
        return _single(pl.col("price_data"))
    if code == "release_date":
        return _single(pl.col(code).dt.strftime("%Y-%m-%dT00:00:00+00:00"))
    return _single(pl.col(code))


def _with_json_values(chunk: pl.DataFrame, codes: Sequence[str]) -> pl.DataFrame:
    """``chunk`` plus a ``values`` struct column in the Akeneo REST shape."""
    rendered = chunk.with_columns(_text_columns())
    if "price" in codes:
        rendered = rendered.with_columns(_measure_columns())
        currencies = {"currency": ["EUR", "USD"]}
        prices = ["price_EUR", "price_USD"]
        price_data = _grouped(rendered, prices, currencies, "amount", field_first=True)
        rendered = rendered.with_columns(price_data.alias("price_data"))
    lists = _localized_values(rendered)
    rendered = rendered.with_columns(
        lists["name"].alias("name_values"), lists["description"].alias("description_values")
    )
    values = pl.struct(*(_json_value(code).alias(code) for code in codes)).alias("values")
    return rendered.with_columns(values)


def _render_product_json(chunk: pl.DataFrame) -> pl.DataFrame:
    """Akeneo REST product items (``GET /api/rest/v1/products-uuid`` plus ``identifier``)."""
    return _with_json_values(chunk, [a.code for a in ATTRIBUTES]).select(
        "uuid",
        pl.col("sku").alias("identifier"),
        "enabled",
        "family",
        "categories",
        pl.lit([], pl.List(pl.String)).alias("groups"),
        "parent",
        "values",
        "updated",
    )


def _render_model_json(chunk: pl.DataFrame) -> pl.DataFrame:
    """Akeneo REST product model items (``GET /api/rest/v1/product-models``)."""
    return _with_json_values(chunk, _MODEL_ATTRIBUTES).select(
        "code", "family", "family_variant", "parent", "categories", "values", "updated"
    )


def _csv_value_columns(codes: Sequence[str]) -> list[pl.Expr]:
    """Akeneo CSV export cells: ``<code>[-<locale>][-<scope>]``, ``price-<CUR>``, ``weight``
    plus ``weight-unit``; lists comma-joined, booleans 1/0, dates ``YYYY-MM-DD``."""
    columns: list[pl.Expr] = []
    for code in codes:
        if code == "name":
            columns += [pl.col(f"name_{lo}").alias(f"name-{lo}") for lo in LOCALES]
        elif code == "description":
            columns += [
                pl.col(f"description_{lo}_{sc}").alias(f"description-{lo}-{sc}")
                for lo in LOCALES
                for sc in SCOPES
            ]
        elif code == "material":
            columns.append(pl.col(code).list.join(","))
        elif code == "eco_friendly":
            columns.append(pl.col(code).cast(pl.Int8))
        elif code == "release_date":
            columns.append(pl.col(code).dt.strftime("%Y-%m-%d"))
        elif code not in ("price", "weight"):
            columns.append(pl.col(code))
    if "price" in codes:
        columns += [pl.col(f"price_{c}").alias(f"price-{c}") for c in ("EUR", "USD")]
    if "weight" in codes:
        columns += [
            pl.col("weight_amount").alias("weight"),
            pl.col("weight_unit").alias("weight-unit"),
        ]
    return columns


def _render_product_csv(chunk: pl.DataFrame) -> pl.DataFrame:
    codes = [a.code for a in ATTRIBUTES if a.code != "sku"]
    return chunk.with_columns(*_text_columns(), *_measure_columns()).select(
        "sku",
        pl.col("categories").list.join(","),
        pl.col("enabled").cast(pl.Int8),
        "family",
        "parent",
        pl.lit(None, pl.String).alias("groups"),
        *_csv_value_columns(codes),
    )


def _render_model_csv(chunk: pl.DataFrame) -> pl.DataFrame:
    codes = [a.code for a in ATTRIBUTES if a.code in _MODEL_ATTRIBUTES]
    return chunk.with_columns(_text_columns()).select(
        "code",
        "family_variant",
        "parent",
        pl.col("categories").list.join(","),
        *_csv_value_columns(codes),
    )


class _Block(NamedTuple):
    """One kind of price row; ``since``/``until`` are day offsets from ``as_of`` (null = open)."""

    who: pl.Expr
    price_type: str
    group: str | None
    customer: str | None
    currency: str
    cents: pl.Expr
    min_quantity: int
    since: pl.Expr
    until: pl.Expr


def _list_blocks(currency: str, base: pl.Expr) -> list[_Block]:
    """Current list price (+ quantity tiers), the one it replaced yesterday, the next one."""
    since, future = pl.col("since"), pl.col("future_from")
    current_to = pl.when("future").then(future - 1)
    forever = pl.lit(None, pl.Int64)
    old, new = _percent(base, 93), _percent(base, 105)
    return [
        _Block(pl.col("priced"), "list", None, None, currency, base, 1, since, current_to),
        _Block(pl.col("change"), "list", None, None, currency, old, 1, pl.lit(-400), pl.lit(-1)),
        _Block(pl.col("future"), "list", None, None, currency, new, 1, future, forever),
        _Block(pl.col("tiers"), "list", None, None, currency, _percent(base, 95), 10, since,
               current_to),
        _Block(pl.col("tiers"), "list", None, None, currency, _percent(base, 90), 100, since,
               current_to),
    ]  # fmt: skip


def _price_blocks() -> list[_Block]:
    """Every kind of price row, in output order within a product.

    Block 0 is the current EUR list price: the amount/currency/per-quantity defects go there.
    """
    eur = pl.col("list_cents")
    usd = _percent(eur, 108)
    start, forever = pl.col("group_since"), pl.lit(None, pl.Int64)
    group, customer = pl.col("group"), pl.col("customer")
    tiers = customer & pl.col("tiers")
    bad_dates = pl.col("defect") == "valid_from_after_valid_to"
    return [
        *_list_blocks("EUR", eur),
        *_list_blocks("USD", usd),
        _Block(pl.col("expired"), "list", None, None, "EUR", _percent(eur, 90), 1, pl.lit(-900),
               pl.lit(-401)),
        _Block(group, "group", "retail", None, "EUR", _percent(eur, 97), 1, start, forever),
        _Block(group, "group", "wholesale", None, "EUR", _percent(eur, 85), 1, start, forever),
        _Block(group, "group", "wholesale", None, "USD", _percent(usd, 85), 1, start, forever),
        _Block(customer, "customer", None, "C1000", "EUR", _percent(eur, 90), 1, start, forever),
        _Block(tiers, "customer", None, "C1000", "EUR", _percent(eur, 87), 10, start, forever),
        _Block(customer, "customer", None, "C2000", "EUR", _percent(eur, 80), 1, start, forever),
        _Block(tiers, "customer", None, "C2000", "EUR", _percent(eur, 75), 100, start, forever),
        _Block(bad_dates, "group", "retail", None, "EUR", _percent(eur, 96), 1, pl.lit(5),
               pl.lit(-5)),
    ]  # fmt: skip


def _render_prices(chunk: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """ERP price rows of a chunk of products, sorted by product then row kind."""
    per_quantity = _lookup("family_idx", [f.per_quantity for f in FAMILIES])
    parts = [
        chunk.filter(b.who).select(
            "pidx",
            "sku",
            "defect",
            pl.lit(index).alias("block"),
            pl.lit(b.price_type).alias("price_type"),
            pl.lit(b.group, pl.String).alias("customer_group"),
            pl.lit(b.customer, pl.String).alias("customer_id"),
            pl.lit(b.currency).alias("currency"),
            b.cents.cast(pl.Int64).alias("cents"),
            per_quantity.cast(pl.Int64).alias("per_quantity"),
            pl.lit(b.min_quantity, pl.Int64).alias("min_quantity"),
            _days(as_of, b.since).alias("valid_from"),
            _days(as_of, b.until).alias("valid_to"),
        )
        for index, b in enumerate(_price_blocks())
    ]
    rows = pl.concat(parts).sort("pidx", "block", maintain_order=True)
    return rows.with_columns(_price_defects()).select(PRICE_COLUMNS)


def _price_defects() -> list[pl.Expr]:
    """Inject the amount, currency and per-quantity defects into the current EUR list row."""
    defect = pl.when(pl.col("block") == 0).then(pl.col("defect"))
    amount = _decimal(pl.col("cents"), 2)
    return [
        pl.when(defect == "amount_decimal_comma")
        .then(amount.str.replace(".", ",", literal=True))
        .when(defect == "amount_not_a_number")
        .then(pl.lit("abc"))
        .when(defect == "amount_zero")
        .then(pl.lit("0.00"))
        .when(defect == "amount_negative")
        .then(pl.concat_str(pl.lit("-"), amount))
        .otherwise(amount)
        .alias("amount"),
        pl.when(defect == "currency_EURO")
        .then(pl.lit("EURO"))
        .otherwise("currency")
        .alias("currency"),
        pl.when(defect == "per_quantity_zero")
        .then(0)
        .otherwise("per_quantity")
        .alias("per_quantity"),
    ]


def _render_stock(chunk: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """Stock rows (``on_hand``/``reserved`` per warehouse) of a chunk of products."""
    parts = [
        chunk.filter(f"present_{w}").select(
            "pidx",
            "sku",
            pl.lit(warehouse).alias("warehouse"),
            pl.col(f"on_hand_{w}").cast(pl.Int64).alias("on_hand"),
            pl.col(f"reserved_{w}").cast(pl.Int64).alias("reserved"),
            pl.lit(w).alias("block"),
        )
        for w, warehouse in enumerate(WAREHOUSES)
    ]
    rows = pl.concat(parts).sort("pidx", "block", maintain_order=True)
    return rows.select(STOCK_COLUMNS)


def _render_supply(chunk: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """Supply rows: lead time and/or next receipt date; some rows have neither."""
    return chunk.filter("supply_row").select(
        "sku",
        pl.col("lead_time").cast(pl.Int64).alias("lead_time_days"),
        _days(as_of, pl.col("receipt")).alias("next_receipt_date"),
    )


# --- writing ------------------------------------------------------------------------------------

Render = Callable[[pl.DataFrame], pl.DataFrame]


FileKind = Literal["jsonl", "csv", "akeneo_csv"]
_SEPARATORS = {"csv": ",", "akeneo_csv": ";"}  # the ERP writes commas, Akeneo semicolons


def _write_chunked(
    frames: Sequence[pl.DataFrame], path: Path, render: Render, kind: FileKind = "csv"
) -> int:
    """Render ``frames`` chunk by chunk into one file (one CSV header); returns the rows written."""
    written, header = 0, True
    with path.open("wb") as handle:
        for frame in frames:
            for offset in range(0, max(frame.height, 1), _CHUNK):
                rows = render(frame.slice(offset, _CHUNK))
                if kind == "jsonl":
                    rows.write_ndjson(handle)
                else:
                    rows.write_csv(handle, separator=_SEPARATORS[kind], include_header=header)
                    header = False
                written += rows.height
    return written


def _write_json_lines(items: Sequence[dict[str, Any]], path: Path) -> None:
    lines = (json.dumps(item, ensure_ascii=False, separators=(",", ":")) for item in items)
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")


def _labels(labels: Sequence[str]) -> dict[str, str]:
    return dict(zip(LOCALES, labels, strict=True))


def _catalog_items() -> dict[str, list[dict[str, Any]]]:
    """Attributes, families and categories as Akeneo REST items."""
    attributes = [
        {
            "code": a.code,
            "type": a.type,
            "group": "marketing" if a.localizable else "technical",
            "unique": a.code in ("sku", "ean"),
            "localizable": a.localizable,
            "scopable": a.scopable,
            "labels": _labels(a.labels),
            "metric_family": "Weight" if a.code == "weight" else None,
            "default_metric_unit": "KILOGRAM" if a.code == "weight" else None,
            "decimals_allowed": a.code in ("weight", "price"),
        }
        for a in ATTRIBUTES
    ]
    families = [
        {
            "code": f.code,
            "labels": _labels(f.labels),
            "attributes": [a.code for a in ATTRIBUTES if a.code in f.attributes],
            "attribute_as_label": "name",
            "attribute_as_image": "image",
        }
        for f in FAMILIES
    ]
    categories = [
        {"code": code, "parent": parent, "labels": _labels(labels)}
        for code, parent, *labels in CATEGORIES
    ]
    return {"attributes": attributes, "families": families, "categories": categories}


def _catalog_csv(items: dict[str, list[dict[str, Any]]], folder: Path) -> None:
    """The same attributes, families and categories as Akeneo CSV exports."""
    flat = {
        "attributes": [
            {"code": a["code"], "type": a["type"], "localizable": int(a["localizable"]),
             "scopable": int(a["scopable"]), **_label_cells(a["labels"]), "group": a["group"],
             "unique": int(a["unique"]), "metric_family": a["metric_family"],
             "default_metric_unit": a["default_metric_unit"],
             "decimals_allowed": int(a["decimals_allowed"])}
            for a in items["attributes"]
        ],
        "families": [
            {"code": f["code"], **_label_cells(f["labels"]),
             "attributes": ",".join(f["attributes"]),
             "attribute_as_label": f["attribute_as_label"],
             "attribute_as_image": f["attribute_as_image"]}
            for f in items["families"]
        ],
        "categories": [
            {"code": c["code"], "parent": c["parent"], **_label_cells(c["labels"])}
            for c in items["categories"]
        ],
    }  # fmt: skip
    for name, rows in flat.items():
        frame = pl.DataFrame(rows, infer_schema_length=None)
        frame.write_csv(folder / f"{name}.csv", separator=";")


def _label_cells(labels: dict[str, str]) -> dict[str, str]:
    return {f"label-{locale}": label for locale, label in labels.items()}


def snapshot_id(as_of: dt.date) -> str:
    """The PIM export and ERP snapshot folder name for ``as_of`` (``YYYYMMDDT060000Z``)."""
    return f"{as_of:%Y%m%d}T060000Z"


def generate_demo_data(
    target: Path,
    products: int = 3000,
    seed: int = 42,
    as_of: dt.date | None = None,
    pim_format: Literal["jsonl", "csv"] = "jsonl",
) -> DemoSummary:
    """Write the demo PIM export and ERP snapshot under ``target``; replaces ``pim/`` and ``erp/``.

    A pure function of its arguments (``as_of`` defaults to today, UTC): the same arguments
    write byte-identical files.
    """
    if products < 1:
        msg = f"products must be at least 1, got {products}"
        raise ValueError(msg)
    if pim_format not in ("jsonl", "csv"):
        msg = f"pim_format must be 'jsonl' or 'csv', got {pim_format!r}"
        raise ValueError(msg)
    as_of = as_of or dt.datetime.now(dt.UTC).date()
    target = Path(target)
    staging = target / ".demo-data-staging"
    shutil.rmtree(staging, ignore_errors=True)
    summary = _generate(staging, products, seed, as_of, pim_format)
    for part in ("pim", "erp"):
        shutil.rmtree(target / part, ignore_errors=True)
        (staging / part).rename(target / part)
    staging.rmdir()
    final = DemoSummary(
        pim_dir=target / "pim" / summary.pim_dir.name,
        erp_dir=target / "erp" / summary.erp_dir.name,
        products=summary.products,
        product_models=summary.product_models,
        price_rows=summary.price_rows,
        stock_rows=summary.stock_rows,
        supply_rows=summary.supply_rows,
        defects=summary.defects,
    )
    log.info("demo data: %d products, %d models under %s", products, final.product_models, target)
    return final


def _generate(
    root: Path, products: int, seed: int, as_of: dt.date, pim_format: Literal["jsonl", "csv"]
) -> DemoSummary:
    rng = np.random.default_rng(seed)
    plan = _plan(rng, products, as_of)
    erp = pl.concat(
        [plan.products, _erp_draws(rng, plan.products["defect"].to_numpy())], how="horizontal"
    )
    unknown = _unknown_skus(products, max(1, round(products * _UNKNOWN_SKU_SHARE)), rng)
    pim_dir = root / "pim" / snapshot_id(as_of)
    erp_dir = root / "erp" / snapshot_id(as_of)
    pim_dir.mkdir(parents=True)
    erp_dir.mkdir(parents=True)
    _write_pim(plan, pim_dir, pim_format)
    erp_frames = (erp.select(unknown.columns), unknown)
    renderers = {"prices": _render_prices, "stock": _render_stock, "supply": _render_supply}
    counts = {
        name: _write_chunked(erp_frames, erp_dir / f"{name}.csv", partial(render, as_of=as_of))
        for name, render in renderers.items()
    }
    return DemoSummary(
        pim_dir=pim_dir,
        erp_dir=erp_dir,
        products=products,
        product_models=plan.models.height,
        price_rows=counts["prices"],
        stock_rows=counts["stock"],
        supply_rows=counts["supply"],
        defects=_defect_counts(plan.products, unknown.height),
    )


def _write_pim(plan: _Plan, folder: Path, pim_format: Literal["jsonl", "csv"]) -> None:
    if pim_format == "jsonl":
        _write_chunked([plan.products], folder / "products.jsonl", _render_product_json, "jsonl")
        _write_chunked([plan.models], folder / "product_models.jsonl", _render_model_json, "jsonl")
        for name, items in _catalog_items().items():
            _write_json_lines(items, folder / f"{name}.jsonl")
    else:
        _write_chunked([plan.products], folder / "products.csv", _render_product_csv, "akeneo_csv")
        _write_chunked(
            [plan.models], folder / "product_models.csv", _render_model_csv, "akeneo_csv"
        )
        _catalog_csv(_catalog_items(), folder)


def _defect_counts(products: pl.DataFrame, unknown: int) -> dict[str, int]:
    counts = dict.fromkeys(DEFECT_RATES, 0)
    for kind, count in products.group_by("defect").len().iter_rows():
        if kind:
            counts[kind] = count
    counts |= {f"unknown_sku_{name}": unknown for name in ERP_FILES}
    counts["disabled"] = products.filter(~pl.col("enabled")).height
    return counts
